"""Generate the producer's replay dataset: recorded-looking X API v2 responses, deterministically.

    python scripts/generate_replay_dataset.py                       # the packaged dataset
    python scripts/generate_replay_dataset.py --tweets 10000 --out /tmp/replay
    python scripts/generate_replay_dataset.py --tweets 9900 --poison 100 --out /tmp/chaos

Same arguments, same bytes (a test checks). Layout written to --out:

    manifest.json          topics, their queries and files, expected counts, dataset fingerprint
    trends/woeid-1.json    GET /2/trends/by/woeid/1 response
    search/<slug>.json     {"query": ..., "pages": [<GET /2/tweets/search/recent responses>]}
                           newest first, `meta.next_token` chaining pages, last page empty
    poison.jsonl           malformed payloads (base64) + the RejectReason the consumer must give

`--tweets` counts distinct (topic, tweet) pairs: some tweets appear under two topics.
`--poison N` repeats the malformed samples round-robin to N records (default: each sample once).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
import shutil
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from producer.pages import search_query
from tweet_record import (
    RecordRejectedError,
    build_stream_record,
    encode_stream_record,
    make_topic,
    parse_stream_record,
)
from tweet_record.schema import Topic

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "datasets" / "replay"
DEFAULT_TWEETS = 1500
DEFAULT_SEED = 20261122
DATASET_FORMAT = "trendstream.replay/1"
WOEID = 1
NEWEST = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)
TWITTER_EPOCH_MS = 1288834974657
SHARED_FRACTION = 0.04
EDITED_FRACTION = 0.03

TRENDS = (
    ("#Europe", 232408),
    ("World Cup", 181230),
    ("#MondayMotivation", 95110),
    ("Nintendo Switch", 64022),
    ("#IA", 40871),
    ("Copa Libertadores", 31544),
)
QUERIES = ("aws lambda",)
TOPIC_WEIGHTS = (0.24, 0.2, 0.14, 0.12, 0.1, 0.08, 0.12)

LANGUAGES = (
    ("en", 0.36),
    ("es", 0.15),
    ("fr", 0.1),
    ("de", 0.08),
    ("ja", 0.1),
    ("ar", 0.07),
    ("pt", 0.1),
    ("hi", 0.04),
)
PHRASES = {
    "en": (
        "Can't believe what's happening with {t} today",
        "Hot take on {t}: it is better than everyone says",
        "This {t} thread is everything",
        "Honestly {t} ruined my morning",
        "Is anyone else following {t}? Wild",
    ),
    "es": (
        "No puedo creer lo que pasa con {t} hoy",
        "Qué día tan increíble para {t}",
        "Lo de {t} es una vergüenza total",
        "¿Alguien más está viendo {t}?",
    ),
    "fr": (
        "Je n'arrive pas à croire ce qui se passe avec {t}",
        "Franchement, {t} c'est génial aujourd'hui",
        "Quelle déception avec {t} ce matin",
    ),
    "de": (
        "Unglaublich, was heute bei {t} passiert",
        "Ehrlich gesagt finde ich {t} großartig",
        "Schon wieder {t}, wie nervig",
    ),
    "ja": (
        "{t}について今日はすごいニュースが多い",
        "{t}最高すぎる",
        "{t}の件、ちょっと残念だった",
    ),
    "ar": (
        "لا أصدق ما يحدث مع {t} اليوم",
        "{t} رائع جدا هذا الصباح",
        "خيبة أمل كبيرة بخصوص {t}",
    ),
    "pt": (
        "Não acredito no que está acontecendo com {t} hoje",
        "Que dia incrível para {t}",
        "Que decepção com {t} hoje cedo",
    ),
    "hi": (
        "आज {t} के साथ क्या हो रहा है, विश्वास नहीं होता",
        "{t} बहुत शानदार है",
    ),
}
EMOJI = ("🔥", "😂", "🚀", "❤️", "👏", "😡", "🤔", "⚽", "🎮", "🇪🇺", "👨‍👩‍👧", "✨")
EXTRA_HASHTAGS = ("breaking", "news", "tech", "fútbol", "Süper", "日本", "serverless", "dev")
SITES = (
    "https://example.com/a",
    "https://news.example.org/story",
    "https://aws.amazon.com/lambda/",
)


@dataclass
class GeneratedTopic:
    topic: Topic
    query: str
    slug: str
    tweets: list[dict[str, Any]] = field(default_factory=list)


def snowflake(moment: datetime, worker: int, sequence: int) -> str:
    """An X-style id: milliseconds since the X epoch, so ids sort by time like real ones."""
    millis = int(moment.timestamp() * 1000) - TWITTER_EPOCH_MS
    return str((millis << 22) | ((worker & 0x3FF) << 12) | (sequence & 0xFFF))


def iso_millis(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def slugify(name: str) -> str:
    cleaned = "".join(ch.lower() if ch.isalnum() else "-" for ch in name).strip("-")
    return "-".join(part for part in cleaned.split("-") if part)


def make_users(rng: random.Random, count: int) -> list[dict[str, Any]]:
    first = ("Ana", "Jean", "Yuki", "Omar", "Lena", "Raj", "Maria", "Tom", "Zoë", "Lucas", "Aiko")
    last = ("Silva", "Dupont", "Tanaka", "Haddad", "Müller", "Sharma", "García", "Smith", "O'Neil")
    users = []
    for index in range(count):
        name = f"{rng.choice(first)} {rng.choice(last)}"
        followers = int(rng.paretovariate(1.2) * 40)
        users.append(
            {
                "id": str(10_000_000 + index * 7919),
                "name": name,
                "username": f"{slugify(name).replace('-', '_')}_{index}",
                "public_metrics": {
                    "followers_count": followers,
                    "following_count": rng.randint(0, 2000),
                    "tweet_count": rng.randint(1, 90_000),
                    "listed_count": rng.randint(0, 50),
                },
                "verified": rng.random() < 0.05,
            }
        )
    return users


def make_text(
    rng: random.Random, lang: str, topic: Topic, users: list[dict[str, Any]]
) -> tuple[str, dict[str, Any]]:
    """Text plus v2 `entities` whose start/end are code point offsets into that text."""
    name = topic["name"]
    text = rng.choice(PHRASES[lang]).format(t=name)
    hashtags: list[dict[str, Any]] = []
    mentions: list[dict[str, Any]] = []
    urls: list[dict[str, Any]] = []
    if name.startswith("#"):
        start = text.index(name)
        hashtags.append({"start": start, "end": start + len(name), "tag": name[1:]})
    text += " " + rng.choice(EMOJI)
    if rng.random() < 0.5:
        tag = rng.choice(EXTRA_HASHTAGS)
        start = len(text) + 1
        text += f" #{tag}"
        hashtags.append({"start": start, "end": start + len(tag) + 1, "tag": tag})
    if rng.random() < 0.35:
        user = rng.choice(users)
        start = len(text) + 1
        text += f" @{user['username']}"
        mentions.append(
            {
                "start": start,
                "end": start + len(user["username"]) + 1,
                "username": user["username"],
                "id": user["id"],
            }
        )
    if rng.random() < 0.3:
        short = "https://t.co/" + "".join(rng.choices(string.ascii_letters + string.digits, k=10))
        expanded = rng.choice(SITES)
        start = len(text) + 1
        text += f" {short}"
        urls.append(
            {
                "start": start,
                "end": start + len(short),
                "url": short,
                "expanded_url": expanded,
                "display_url": expanded.removeprefix("https://")[:26],
            }
        )
    entities: dict[str, Any] = {}
    if hashtags:
        entities["hashtags"] = hashtags
    if mentions:
        entities["mentions"] = mentions
    if urls:
        entities["urls"] = urls
    return text, entities


def make_tweet(
    rng: random.Random,
    sequence: int,
    topic: Topic,
    users: list[dict[str, Any]],
    edited: bool,
) -> dict[str, Any]:
    moment = NEWEST - timedelta(milliseconds=rng.randint(0, 3_600_000))
    tweet_id = snowflake(moment, worker=sequence % 1024, sequence=sequence // 1024)
    lang = rng.choices([code for code, _ in LANGUAGES], [w for _, w in LANGUAGES])[0]
    author = rng.choice(users)
    text, entities = make_text(rng, lang, topic, users)
    history = [tweet_id]
    if edited:
        original = moment - timedelta(seconds=rng.randint(30, 1800))
        history = [snowflake(original, worker=1023 - sequence % 1024, sequence=0), tweet_id]
    tweet: dict[str, Any] = {
        "edit_history_tweet_ids": history,
        "id": tweet_id,
        "text": text,
        "author_id": author["id"],
        "created_at": iso_millis(moment),
        "lang": lang,
        "public_metrics": {
            "retweet_count": int(rng.paretovariate(1.5)) - 1,
            "reply_count": rng.randint(0, 40),
            "like_count": int(rng.paretovariate(1.1) * 3) - 3,
            "quote_count": rng.randint(0, 5),
            "bookmark_count": rng.randint(0, 10),
            "impression_count": rng.randint(10, 100_000),
        },
    }
    if entities:
        tweet["entities"] = entities
    return tweet


def next_token(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=45))


def paginate(
    rng: random.Random, tweets: list[dict[str, Any]], users_by_id: dict[str, Any], page_size: int
) -> list[dict[str, Any]]:
    """Newest first, `page_size` per page, chained by next_token, ending with an empty page."""
    ordered = sorted(tweets, key=lambda tweet: int(tweet["id"]), reverse=True)
    pages: list[dict[str, Any]] = []
    for offset in range(0, len(ordered), page_size):
        chunk = ordered[offset : offset + page_size]
        author_ids = list(dict.fromkeys(tweet["author_id"] for tweet in chunk))
        pages.append(
            {
                "data": chunk,
                "includes": {"users": [users_by_id[author_id] for author_id in author_ids]},
                "meta": {
                    "newest_id": chunk[0]["id"],
                    "oldest_id": chunk[-1]["id"],
                    "result_count": len(chunk),
                    "next_token": next_token(rng),
                },
            }
        )
    pages.append({"meta": {"result_count": 0}})
    return pages


def poison_records(count: int | None = None) -> list[dict[str, Any]]:
    """Payloads the consumer must quarantine, each with the reason it must give; ``count``
    repeats the samples round-robin (names and partition keys stay unique)."""
    good: dict[str, Any] = {
        "schema": "trendstream.tweet/1",
        "topic": {"name": "#Europe", "kind": "trend", "woeid": WOEID},
        "tweet": {
            "id": "1999999999999999999",
            "text": "poison sample",
            "created_at": "2026-11-22T09:59:59.000Z",
        },
        "fetched_at": "2026-11-22T10:00:05Z",
    }

    def variant(**changes: Any) -> bytes:
        record = json.loads(json.dumps(good))
        for dotted, value in changes.items():
            *parents, leaf = dotted.split("__")
            target = record
            for parent in parents:
                target = target[parent]
            if value is None:
                del target[leaf]
            else:
                target[leaf] = value
        return json.dumps(record, ensure_ascii=False).encode("utf-8")

    samples: list[tuple[str, bytes, str]] = [
        ("truncated-json", b'{"schema": "trendstream.tweet/1", "topic": {"name": "#Eu', "NOT_JSON"),
        ("plain-text", b"hello from a misconfigured producer", "NOT_JSON"),
        ("not-utf8", b'{"text": "\xff\xfe\xfa"}', "NOT_UTF8"),
        ("json-array", b'["trendstream.tweet/1", "#Europe"]', "NOT_OBJECT"),
        ("json-null", b"null", "NOT_OBJECT"),
        ("wrong-schema-version", variant(schema="trendstream.tweet/0"), "WRONG_SCHEMA"),
        ("missing-tweet-id", variant(tweet__id=None), "MISSING_FIELD"),
        ("non-decimal-tweet-id", variant(tweet__id="12ab34"), "BAD_TWEET_ID"),
        ("bad-created-at", variant(tweet__created_at="yesterday"), "BAD_TIMESTAMP"),
        ("naive-created-at", variant(tweet__created_at="2026-11-22T09:59:59"), "BAD_TIMESTAMP"),
        ("unknown-topic-kind", variant(topic__kind="hashtag"), "BAD_TOPIC_KIND"),
    ]
    if count is None:
        count = len(samples)
    records = []
    for index in range(count):
        name, data, reason = samples[index % len(samples)]
        if index >= len(samples):
            name = f"{name}-{index // len(samples) + 1}"
        records.append(
            {
                "name": name,
                "partition_key": f"poison-{name}",
                "data_base64": base64.b64encode(data).decode("ascii"),
                "reason": reason,
            }
        )
    return records


def check_against_consumer_parser(
    topics: list[GeneratedTopic], poison: list[dict[str, Any]]
) -> None:
    """Fail generation if a good tweet would be rejected or a poison record accepted/misreported:
    the dataset must agree with tweet_record's parser, which the consumer uses."""
    fetched_at = NEWEST + timedelta(seconds=5)
    for generated in topics:
        for tweet in generated.tweets:
            parse_stream_record(
                encode_stream_record(build_stream_record(generated.topic, tweet, None, fetched_at))
            )
    for entry in poison:
        try:
            parse_stream_record(base64.b64decode(entry["data_base64"]))
        except RecordRejectedError as rejected:
            if rejected.reason != entry["reason"]:
                raise SystemExit(
                    f"poison {entry['name']}: parser says {rejected.reason}, "
                    f"dataset says {entry['reason']}"
                ) from None
        else:
            raise SystemExit(f"poison {entry['name']} is accepted by the parser")


def dump(path: Path, document: Any) -> bytes:
    data = (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def generate(
    out: Path, pairs: int, seed: int, page_size: int | None = None, poison_count: int | None = None
) -> dict[str, Any]:
    if pairs < len(TOPIC_WEIGHTS):
        raise SystemExit(f"--tweets must be at least {len(TOPIC_WEIGHTS)}")
    rng = random.Random(seed)
    page_size = page_size or (50 if pairs <= 3000 else 100)
    users = make_users(rng, max(50, pairs // 5))
    users_by_id = {user["id"]: user for user in users}
    topics = [
        GeneratedTopic(make_topic(name, "trend", woeid=WOEID), "", slugify(name))
        for name, _ in TRENDS
    ] + [GeneratedTopic(make_topic(query, "query"), "", slugify(query)) for query in QUERIES]
    for generated in topics:
        generated.query = search_query(generated.topic)

    shared = max(1, round(pairs * SHARED_FRACTION))
    distinct = pairs - shared
    all_tweets: list[tuple[int, dict[str, Any]]] = []
    for sequence in range(distinct):
        index = rng.choices(range(len(topics)), TOPIC_WEIGHTS)[0]
        # Every topic gets at least one tweet, whatever the weights draw.
        if sequence < len(topics):
            index = sequence
        tweet = make_tweet(
            rng, sequence, topics[index].topic, users, rng.random() < EDITED_FRACTION
        )
        topics[index].tweets.append(tweet)
        all_tweets.append((index, tweet))
    for index, tweet in rng.sample(all_tweets, shared):
        other = (index + 1 + rng.randrange(len(topics) - 1)) % len(topics)
        topics[other].tweets.append(tweet)

    poison = poison_records(poison_count)
    check_against_consumer_parser(topics, poison)

    if out.exists():
        shutil.rmtree(out)
    digest = hashlib.sha256()
    trend_page = {"data": [{"trend_name": name, "tweet_count": count} for name, count in TRENDS]}
    digest.update(dump(out / "trends" / f"woeid-{WOEID}.json", trend_page))
    topic_entries = []
    for generated in topics:
        file = f"search/{generated.slug}.json"
        pages = paginate(rng, generated.tweets, users_by_id, page_size)
        digest.update(dump(out / file, {"query": generated.query, "pages": pages}))
        entry: dict[str, Any] = {**generated.topic, "query": generated.query, "file": file}
        entry.update(pairs=len(generated.tweets), pages=len(pages))
        topic_entries.append(entry)
    poison_bytes = "".join(json.dumps(entry) + "\n" for entry in poison).encode()
    (out / "poison.jsonl").write_bytes(poison_bytes)
    digest.update(poison_bytes)

    distinct_ids = {tweet["id"] for generated in topics for tweet in generated.tweets}
    manifest = {
        "format": DATASET_FORMAT,
        "seed": seed,
        "fingerprint": digest.hexdigest(),
        "woeids": [WOEID],
        "page_size": page_size,
        "min_max_pages_per_topic": max(entry["pages"] for entry in topic_entries),
        "topics": topic_entries,
        "counts": {
            "pairs": sum(entry["pairs"] for entry in topic_entries),
            "distinct_tweets": len(distinct_ids),
            "shared_tweets": shared,
            "edited_tweets": sum(
                len(tweet["edit_history_tweet_ids"]) > 1 for _, tweet in all_tweets
            ),
            "poison": len(poison),
            "per_topic": {entry["name"]: entry["pairs"] for entry in topic_entries},
            "per_lang": dict(sorted(_count_langs(all_tweets).items())),
        },
    }
    dump(out / "manifest.json", manifest)
    return manifest


def _count_langs(tweets: list[tuple[int, dict[str, Any]]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _, tweet in tweets:
        counts[tweet["lang"]] = counts.get(tweet["lang"], 0) + 1
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=int, default=DEFAULT_TWEETS, help="(topic, tweet) pairs")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="dataset directory")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--page-size", type=int, choices=range(10, 101), metavar="10..100")
    parser.add_argument(
        "--poison", type=int, help="poison records (default: each malformed sample once)"
    )
    args = parser.parse_args(argv)
    if args.poison is not None and args.poison < 0:
        parser.error("--poison must not be negative")
    manifest = generate(args.out, args.tweets, args.seed, args.page_size, args.poison)
    counts = manifest["counts"]
    print(
        f"wrote {args.out}: {counts['pairs']} (topic, tweet) pairs, "
        f"{counts['distinct_tweets']} distinct tweets, {counts['poison']} poison records, "
        f"{len(manifest['topics'])} topics, up to {manifest['min_max_pages_per_topic']} pages"
    )


if __name__ == "__main__":
    main()
