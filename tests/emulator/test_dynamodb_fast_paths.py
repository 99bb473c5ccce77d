"""The DynamoDB fast paths change what the emulator costs, never what a client sees.

Each scenario runs the same requests against the patched emulator and plain moto 5.2.5 and
compares every answer; the scenarios also assert the answers AWS gives, so a fast path that
broke both the same way would still fail. The request-parser fast path is also compared with
moto's own parser directly, body by body, including the bodies it must hand back to moto.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.core.parse import JSONParser
from moto.core.utils import get_service_model
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.parsing.expressions import UpdateExpressionParser
from moto.dynamodb.parsing.validators import Validator
from tests.emulator.support import Aws
from tests.event_table import EVENT_TABLE_SCHEMA, create_event_table

from consumer.stats import TweetWrite, transaction_actions
from local_aws.moto_patches import dynamodb_fast_paths
from local_aws.moto_server import EmulatorHandle

pytestmark = pytest.mark.emulator

MOTO_ITEM_LIMIT = dynamodb_fast_paths.ITEM_SIZE_LIMIT

Outcome = dict[str, Any]
Scenario = Callable[[Any, str], list[Outcome]]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def tweet_item(number: int, topic: str = "python") -> dict[str, Any]:
    """A tweet item shaped like the consumer's: strings, numbers, lists, a BOOL and a NULL."""
    return {
        "pk": {"S": f"TOPIC#{topic}"},
        "sk": {"S": f"TWEET#2024-05-01T12:00:{number % 60:02d}Z#{1000 + number}"},
        "tweet_id": {"S": str(1000 + number)},
        "topic": {"S": topic},
        "topic_kind": {"S": "hashtag"},
        "text": {"S": f'tweet {number} about {topic}: ünïcödé ✓ and "quotes"'},
        "created_at": {"S": "2024-05-01T12:00:00Z"},
        "fetched_at": {"S": "2024-05-01T12:01:00Z"},
        "hashtags": {"L": [{"S": "python"}, {"S": f"tag{number}"}]},
        "sentiment": {"S": "positive"},
        "expires_at": {"N": "1717243200"},
        "author_username": {"S": f"user{number}"},
        "like_count": {"N": str(number * 3)},
        "retweet_count": {"N": "0"},
        "score": {"N": "-1.250"},
        "quoted": {"BOOL": number % 2 == 0},
        "place": {"NULL": True},
        "meta": {"M": {"source": {"S": "web"}, "ranks": {"NS": ["1", "2.5"]}}},
        "langs": {"SS": ["en", "de"]},
    }


def key_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"pk": item["pk"], "sk": item["sk"]}


def conditional_put(table: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "Put": {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}
    }


def counter_update(table: str, minute: str, amounts: list[int], expires: int) -> dict[str, Any]:
    names = ["tweet_count", "positive", "negative"]
    return {
        "Update": {
            "TableName": table,
            "Key": {"pk": {"S": "TOPIC#python"}, "sk": {"S": f"MINUTE#{minute}"}},
            "UpdateExpression": "ADD #c0 :c0, #c1 :c1, #c2 :c2 SET expires_at = :expires",
            "ExpressionAttributeNames": {f"#c{i}": name for i, name in enumerate(names)},
            "ExpressionAttributeValues": {
                **{f":c{i}": {"N": str(amount)} for i, amount in enumerate(amounts)},
                ":expires": {"N": str(expires)},
            },
        }
    }


def outcome(call: Callable[[], dict[str, Any]]) -> Outcome:
    """What the client saw: the response without its metadata, or the error and its reasons."""
    try:
        response = call()
    except ClientError as error:
        seen = dict(error.response)
        return {
            "error": seen["Error"],
            "reasons": seen.get("CancellationReasons"),
            "status": seen["ResponseMetadata"]["HTTPStatusCode"],
        }
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


def everything(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items = dynamodb.scan(TableName=table)["Items"]
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def run_on_both(emulator: EmulatorHandle, vanilla_moto: str, scenario: Scenario) -> list[Outcome]:
    """Run `scenario` on the patched emulator and on plain moto; they must answer alike."""
    results = []
    table = unique("fast")  # the same name on both: it shows in some answers
    for endpoint in (emulator.endpoint, vanilla_moto):
        dynamodb = Aws(endpoint).client("dynamodb")
        create_event_table(dynamodb, table)
        results.append(scenario(dynamodb, table))
    patched, vanilla = results
    assert patched == vanilla
    return patched


# --- Transactions ---------------------------------------------------------------------------


def test_conditional_puts_and_counter_updates_commit_as_plain_moto_does(
    emulator: EmulatorHandle, vanilla_moto: str
) -> None:
    items = [tweet_item(n) for n in range(60)]

    def scenario(dynamodb: Any, table: str) -> list[Outcome]:
        first = [conditional_put(table, item) for item in items[:50]]
        first += [counter_update(table, "12:00", [50, 30, 20], 1717243200)]
        second = [conditional_put(table, item) for item in items[50:]]
        second += [counter_update(table, "12:00", [10, 4, 0], 1717246800)]
        return [
            outcome(lambda: dynamodb.transact_write_items(TransactItems=first)),
            outcome(lambda: dynamodb.transact_write_items(TransactItems=second)),
            {"items": everything(dynamodb, table)},
        ]

    _, _, stored = run_on_both(emulator, vanilla_moto, scenario)
    by_sort_key = {item["sk"]["S"]: item for item in stored["items"]}
    for item in items:
        assert by_sort_key[item["sk"]["S"]] == item  # read back exactly as written
    assert by_sort_key["MINUTE#12:00"] == {
        "pk": {"S": "TOPIC#python"},
        "sk": {"S": "MINUTE#12:00"},
        "tweet_count": {"N": "60"},
        "positive": {"N": "34"},
        "negative": {"N": "20"},
        "expires_at": {"N": "1717246800"},
    }


def test_duplicate_cancels_the_transaction_at_its_index_and_writes_nothing(
    emulator: EmulatorHandle, vanilla_moto: str
) -> None:
    items = [tweet_item(n) for n in range(30)]

    def scenario(dynamodb: Any, table: str) -> list[Outcome]:
        dynamodb.put_item(TableName=table, Item=items[17])
        actions = [conditional_put(table, item) for item in items]
        actions.append(counter_update(table, "12:00", [30, 30, 0], 1717243200))
        cancelled = outcome(lambda: dynamodb.transact_write_items(TransactItems=actions))
        retried = [action for index, action in enumerate(actions) if index != 17]
        after_cancel = {"items": everything(dynamodb, table)}
        return [
            cancelled,
            after_cancel,
            outcome(lambda: dynamodb.transact_write_items(TransactItems=retried)),
        ]

    cancelled, after_cancel, retried = run_on_both(emulator, vanilla_moto, scenario)
    assert cancelled["error"]["Code"] == "TransactionCanceledException"
    codes = [reason["Code"] for reason in cancelled["reasons"]]
    assert codes == ["None"] * 17 + ["ConditionalCheckFailed"] + ["None"] * 13
    assert cancelled["reasons"][17]["Message"] == "The conditional request failed"
    assert after_cancel["items"] == [items[17]]
    assert "error" not in retried


def test_same_condition_text_is_evaluated_with_each_requests_names_and_values(
    emulator: EmulatorHandle, vanilla_moto: str
) -> None:
    """One expression string, three bindings: a cache keyed on the text alone would leak."""
    base = {"pk": {"S": "TOPIC#x"}, "sk": {"S": "ITEM#1"}, "a": {"N": "1"}, "b": {"N": "2"}}

    def guarded(table: str, names: dict[str, str], values: dict[str, Any]) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": table,
                "Key": {"pk": base["pk"], "sk": base["sk"]},
                "UpdateExpression": "ADD hits :one",
                "ConditionExpression": "#f = :v",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {":v": values, ":one": {"N": "1"}},
            }
        }

    def scenario(dynamodb: Any, table: str) -> list[Outcome]:
        dynamodb.put_item(TableName=table, Item=base)
        results = []
        for names, value in [
            ({"#f": "a"}, {"N": "1"}),  # a = 1: holds
            ({"#f": "b"}, {"N": "1"}),  # b = 1: fails, same text and values, other name
            ({"#f": "a"}, {"N": "2"}),  # a = 2: fails, same text and name, other value
            ({"#f": "b"}, {"N": "2"}),  # b = 2: holds
        ]:
            action = guarded(table, names, value)
            results.append(
                outcome(lambda action=action: dynamodb.transact_write_items(TransactItems=[action]))
            )
            results.append(
                outcome(
                    lambda names=names, value=value: dynamodb.put_item(
                        TableName=table,
                        Item={**base, "hits": {"N": "0"}},
                        ConditionExpression="#f = :v",
                        ExpressionAttributeNames=names,
                        ExpressionAttributeValues={":v": value},
                    )
                )
            )
            dynamodb.put_item(TableName=table, Item=base)
        return results

    results = run_on_both(emulator, vanilla_moto, scenario)
    failed = [
        "error" in result
        and result["error"]["Code"]
        in {"TransactionCanceledException", "ConditionalCheckFailedException"}
        for result in results
    ]
    assert failed == [False, False, True, True, True, True, False, False]


def test_counters_add_up_over_many_transactions_on_one_item(patched: Aws) -> None:
    dynamodb = patched.client("dynamodb")
    table = unique("fast")
    create_event_table(dynamodb, table)
    for round_number in range(1, 21):
        dynamodb.transact_write_items(
            TransactItems=[counter_update(table, "12:00", [round_number, 1, 0], round_number)]
        )
    item = dynamodb.get_item(
        TableName=table, Key={"pk": {"S": "TOPIC#python"}, "sk": {"S": "MINUTE#12:00"}}
    )["Item"]
    assert item["tweet_count"] == {"N": str(sum(range(1, 21)))}
    assert item["positive"] == {"N": "20"}
    assert item["negative"] == {"N": "0"}
    assert item["expires_at"] == {"N": "20"}


# --- Item size ------------------------------------------------------------------------------


def sized_item(total: int) -> dict[str, Any]:
    """An item whose size, as moto measures it (names plus UTF-8 values), is `total` bytes."""
    item = {"pk": {"S": "TOPIC#big"}, "sk": {"S": "ITEM#1"}, "tags": {"L": [{"S": "abc"}]}}
    used = sum(len(name) for name in item) + len("TOPIC#big") + len("ITEM#1") + len("abc")
    item["body"] = {"S": "x" * (total - used - len("body"))}
    return item


def test_item_size_limit_is_enforced_at_the_same_byte(
    emulator: EmulatorHandle, vanilla_moto: str
) -> None:
    def scenario(dynamodb: Any, table: str) -> list[Outcome]:
        return [
            outcome(lambda: dynamodb.put_item(TableName=table, Item=sized_item(MOTO_ITEM_LIMIT))),
            outcome(
                lambda: dynamodb.put_item(TableName=table, Item=sized_item(MOTO_ITEM_LIMIT + 1))
            ),
            outcome(
                lambda: dynamodb.batch_write_item(
                    RequestItems={table: [{"PutRequest": {"Item": sized_item(500_000)}}]}
                )
            ),
            outcome(
                lambda: dynamodb.transact_write_items(
                    TransactItems=[conditional_put(table, sized_item(500_000))]
                )
            ),
        ]

    at_limit, over_limit, batch, transaction = run_on_both(emulator, vanilla_moto, scenario)
    assert at_limit == {}
    message = "Item size has exceeded the maximum allowed size"
    assert over_limit["error"] == {"Code": "ValidationException", "Message": message}
    assert batch["error"] == {"Code": "ValidationException", "Message": message}
    assert transaction["error"]["Code"] == "TransactionCanceledException"


# --- BatchWriteItem and validation ----------------------------------------------------------


def test_batch_writes_read_back_exactly(emulator: EmulatorHandle, vanilla_moto: str) -> None:
    items = [tweet_item(n, topic="batch") for n in range(25)]
    overwrite = {**items[3], "sentiment": {"S": "negative"}}

    def scenario(dynamodb: Any, table: str) -> list[Outcome]:
        requests = [{"PutRequest": {"Item": item}} for item in items]
        return [
            outcome(lambda: dynamodb.batch_write_item(RequestItems={table: requests})),
            outcome(
                lambda: dynamodb.batch_write_item(
                    RequestItems={table: [{"PutRequest": {"Item": overwrite}}]}
                )
            ),
            outcome(lambda: dynamodb.get_item(TableName=table, Key=key_of(items[3]))),
            {"items": everything(dynamodb, table)},
        ]

    written, _, got, stored = run_on_both(emulator, vanilla_moto, scenario)
    assert written["UnprocessedItems"] == {}
    assert got["Item"] == overwrite
    assert stored["items"] == sorted(
        [overwrite, *items[:3], *items[4:]], key=lambda item: item["sk"]["S"]
    )


def test_validation_errors_keep_their_codes_and_messages(
    emulator: EmulatorHandle, vanilla_moto: str
) -> None:
    keyless = {"pk": {"S": "TOPIC#x"}, "text": {"S": "no sort key"}}
    item = tweet_item(1)

    def scenario(dynamodb: Any, table: str) -> list[Outcome]:
        def put(**extra: Any) -> Outcome:
            return outcome(
                lambda: dynamodb.transact_write_items(
                    TransactItems=[{"Put": {"TableName": table, "Item": item, **extra}}]
                )
            )

        return [
            outcome(
                lambda: dynamodb.batch_write_item(
                    RequestItems={table: [{"PutRequest": {"Item": keyless}}]}
                )
            ),
            outcome(lambda: dynamodb.put_item(TableName=table, Item=keyless)),
            put(ConditionExpression="attribute_not_exists(#missing)"),
            put(
                ConditionExpression="attribute_not_exists(pk)",
                ExpressionAttributeNames={"#unused": "x"},
            ),
            put(ConditionExpression="attribute_not_exists(size)"),
            outcome(
                lambda: dynamodb.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": table,
                                "Key": key_of(item),
                                "UpdateExpression": "ADD #c :c",
                                "ExpressionAttributeNames": {"#c": "count"},
                                "ExpressionAttributeValues": {},
                            }
                        }
                    ]
                )
            ),
            outcome(
                lambda: dynamodb.transact_write_items(
                    TransactItems=[conditional_put(table, item), conditional_put(table, item)]
                )
            ),
        ]

    results = run_on_both(emulator, vanilla_moto, scenario)
    assert all("error" in result for result in results)
    assert results[0]["error"] == {
        "Code": "ValidationException",
        "Message": "One or more parameter values were invalid: Missing the key sk in the item",
    }
    assert results[3]["error"]["Message"] == (
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}"
    )


# --- The request parser ---------------------------------------------------------------------


def moto_parse(action: str, body: bytes) -> Any:
    operation = get_service_model("dynamodb").operation_model(action)
    return JSONParser(operation).parse(
        {
            "method": "POST",
            "values": {},
            "headers": {},
            "body": body,
            "url_path": "/",
            "url_params": {},
        }
    )


PLAIN_BODIES: list[tuple[str, dict[str, Any]]] = [
    (
        "TransactWriteItems",
        {
            "TransactItems": [
                {
                    "Put": {
                        "Item": tweet_item(1),
                        "TableName": "t",
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                counter_update("t", "12:00", [1, 2, 3], 5),
                {"Delete": {"TableName": "t", "Key": key_of(tweet_item(2))}},
                {
                    "ConditionCheck": {
                        "TableName": "t",
                        "Key": key_of(tweet_item(3)),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ],
            "ReturnConsumedCapacity": "TOTAL",
            "ClientRequestToken": "token",
        },
    ),
    (
        "BatchWriteItem",
        {
            "RequestItems": {
                "t": [{"PutRequest": {"Item": tweet_item(n)}} for n in range(3)]
                + [{"DeleteRequest": {"Key": key_of(tweet_item(9))}}]
            }
        },
    ),
    ("PutItem", {"TableName": "t", "Item": tweet_item(4), "ReturnValues": "ALL_OLD"}),
    (
        "UpdateItem",
        {
            "TableName": "t",
            "Key": key_of(tweet_item(5)),
            "UpdateExpression": "SET a = :a",
            "ExpressionAttributeValues": {":a": {"L": [{"M": {"x": {"NULL": True}}}]}},
            "ReturnValues": "UPDATED_NEW",
        },
    ),
    ("DeleteItem", {"TableName": "t", "Key": key_of(tweet_item(6))}),
]


@pytest.mark.parametrize(("action", "body"), PLAIN_BODIES, ids=[a for a, _ in PLAIN_BODIES])
def test_fast_parse_matches_moto_and_is_taken_for_sdk_bodies(
    action: str, body: dict[str, Any]
) -> None:
    raw = json.dumps(body).encode()
    fast = dynamodb_fast_paths.fast_parse(action, raw)
    assert fast is not None
    assert fast == moto_parse(action, raw)
    assert list(fast) == list(moto_parse(action, raw))  # members in the model's order


ODD_BODIES: list[tuple[str, Any]] = [
    ("PutItem", {"TableName": "t", "Item": {"pk": {"B": "AAEC"}, "sk": {"S": "x"}}}),
    ("PutItem", {"TableName": "t", "Item": {"pk": {"S": "a", "N": "1"}}}),  # two type keys
    ("PutItem", {"TableName": "t", "Item": {"pk": {"S": None}, "l": {"L": [None]}}}),
    ("PutItem", {"TableName": "t", "Item": {"pk": {"SS": "abc"}}}),  # a string, not a list
    ("PutItem", {"Item": {"pk": {"S": "a"}}, "TableName": "t", "Unknown": 1, "Expected": None}),
    ("PutItem", {"TableName": "t", "Item": {"m": {"M": {"k": {"BS": ["AAEC"]}}}}}),
    ("PutItem", {"TableName": "t", "Item": {"pk": {"X": "a"}, "q": {}}}),
    ("TransactWriteItems", {"TransactItems": [{"Put": None, "Update": {"Key": {}}}]}),
    ("BatchWriteItem", {"RequestItems": {"t": [None, {"PutRequest": {"Item": None}}]}}),
    ("UpdateItem", {"TableName": 5, "Key": {"pk": {"N": 1}}, "ReturnValues": ["x"]}),
]


@pytest.mark.parametrize(("action", "body"), ODD_BODIES)
def test_fast_parse_of_odd_bodies_matches_moto_or_leaves_them_to_it(action: str, body: Any) -> None:
    raw = json.dumps(body).encode()
    fast = dynamodb_fast_paths.fast_parse(action, raw)
    if fast is not None:
        assert fast == moto_parse(action, raw)
        assert list(fast) == list(moto_parse(action, raw))


@pytest.mark.parametrize(
    "raw", [b"", b"not json", b"[1, 2]", b'"text"', "\ufeff{}".encode(), b"\xff\xfe"]
)
def test_bodies_that_are_not_a_json_object_are_left_to_moto(raw: bytes) -> None:
    assert dynamodb_fast_paths.fast_parse("PutItem", raw) is None


def test_binary_values_still_reach_moto_decoded(patched: Aws) -> None:
    dynamodb = patched.client("dynamodb")
    table = unique("fast")
    create_event_table(dynamodb, table)
    item = {"pk": {"S": "TOPIC#b"}, "sk": {"S": "ITEM#1"}, "blob": {"B": b"\x00\x01\xff"}}
    dynamodb.transact_write_items(TransactItems=[conditional_put(table, item)])
    assert dynamodb.get_item(TableName=table, Key=key_of(item))["Item"] == item


# --- The update-expression tree copy --------------------------------------------------------


def tree_shape(node: Any, path: tuple[int, ...] = ()) -> Any:
    """Everything about a tree: classes, attributes, and where each parent link points."""
    if isinstance(node, list):
        return [tree_shape(child, (*path, index)) for index, child in enumerate(node)]
    if not hasattr(node, "__dict__"):
        return node
    return (
        type(node).__name__,
        {
            name: (type(value).__name__ if name == "parent" else tree_shape(value, path))
            for name, value in vars(node).items()
        },
    )


@pytest.mark.parametrize(
    "expression",
    [
        "ADD #c0 :c0, #c1 :c1 SET expires_at = :expires",
        "SET a.b[1] = list_append(:x, if_not_exists(c, :y)), d = d + :one REMOVE e[2], f",
        "DELETE tags :gone",
    ],
)
def test_tree_copy_equals_deepcopy_and_shares_nothing(expression: str) -> None:
    tree = UpdateExpressionParser.make(expression)
    copied = dynamodb_fast_paths.tree_deepcopy(tree)
    assert tree_shape(copied) == tree_shape(copy.deepcopy(tree))

    def walk(original: Any, duplicate: Any, parent: Any) -> None:
        assert duplicate is not original
        assert duplicate.parent is parent
        assert original.children is None or duplicate.children is not original.children
        for old, new in zip(original.children or [], duplicate.children or [], strict=True):
            if hasattr(old, "children"):
                walk(old, new, duplicate)

    walk(tree, copied, None)


# --- The stats update ---------------------------------------------------------------------


def count_requests(first_id: int, count: int, expires_at: int) -> list[TweetWrite]:
    """Tweets over two minutes and all sentiments, so each chunk updates two stats items."""
    sentiments = ["positive", "negative", "neutral"]
    writes = []
    for n in range(count):
        created_at = f"2024-05-01T12:0{n % 2}:{n % 60:02d}Z"
        item = {
            "pk": {"S": "TOPIC#python"},
            "sk": {"S": f"TWEET#{created_at}#{first_id + n}"},
            "expires_at": {"N": str(expires_at + n)},
        }
        writes.append(
            TweetWrite(
                "python",
                str(first_id + n),
                created_at,
                sentiments[n % 3],
                expires_at + n,
                item,
                100,
            )
        )
    return writes


def stats_update(
    table: str, amounts: list[str], expires: str = "1797000000", minute: str = "12:00"
) -> dict[str, Any]:
    """The consumer's update shape, with chosen amounts (numbers as DynamoDB spells them)."""
    return {
        "TableName": table,
        "Key": {"pk": {"S": "STATS#python"}, "sk": {"S": f"MINUTE#{minute}"}},
        "UpdateExpression": "ADD "
        + ", ".join(f"#c{i} :c{i}" for i in range(len(amounts)))
        + " SET expires_at = :expires",
        "ExpressionAttributeNames": {f"#c{i}": f"counter_{i}" for i in range(len(amounts))},
        "ExpressionAttributeValues": {
            **{f":c{i}": {"N": amount} for i, amount in enumerate(amounts)},
            ":expires": {"N": expires},
        },
    }


def test_consumer_stats_transactions_read_back_as_plain_moto_does(
    emulator: EmulatorHandle, vanilla_moto: str
) -> None:
    def scenario(dynamodb: Any, table: str) -> list[Outcome]:
        results = []
        for round_number in range(4):
            chunk = count_requests(1000 + 40 * round_number, 40, 1797000000 + round_number)
            actions = transaction_actions(table, chunk)
            results.append(
                outcome(
                    lambda actions=actions: dynamodb.transact_write_items(TransactItems=actions)
                )
            )
        results.append({"items": everything(dynamodb, table)})
        return results

    *answers, items = run_on_both(emulator, vanilla_moto, scenario)
    assert all("error" not in answer for answer in answers)
    stats = [item for item in items["items"] if item["sk"]["S"].startswith("MINUTE#")]
    assert len(stats) == 2
    assert sum(int(item["tweet_count"]["N"]) for item in stats) == 160
    assert stats[0]["expires_at"] == {"N": str(1797000003 + 38)}


def test_stats_updates_alone_answer_as_plain_moto_does(
    emulator: EmulatorHandle, vanilla_moto: str
) -> None:
    def scenario(dynamodb: Any, table: str) -> list[Outcome]:
        def update(amounts: list[str], expires: str, **extra: Any) -> Outcome:
            request = {**stats_update(table, amounts, expires), **extra}
            return outcome(lambda: dynamodb.update_item(**request))

        return [
            update(["3", "1", "0", "2", "7"], "1797000000"),  # creates the item with its keys
            update(["3", "1", "0", "2", "7"], "1797000060"),  # accumulates, replaces expires_at
            update(["1.5", "-4", "0.25", "100", "0"], "1797000120", ReturnValues="ALL_NEW"),
            update(["2", "2", "2", "2", "2"], "1797000180", ReturnValues="UPDATED_OLD"),
            update(["1", "1", "1", "1", "1"], "1797000240", ReturnValues="ALL_OLD"),
            outcome(
                lambda: dynamodb.update_item(
                    TableName=table,
                    Key={"pk": {"S": "STATS#python"}, "sk": {"S": "MINUTE#12:00"}},
                    UpdateExpression="ADD tally :one SET label = :label, flag = :flag, gone = :no",
                    ExpressionAttributeValues={
                        ":one": {"N": "1"},
                        ":label": {"S": "ünïcödé"},
                        ":flag": {"BOOL": False},
                        ":no": {"NULL": True},
                    },
                    ReturnValues="UPDATED_NEW",
                )
            ),
            # moto adds with int() unless there is a ".": it fails on an exponent, and so must we
            update(["1", "1e2", "1", "1", "1"], "1797000300"),
            {"items": everything(dynamodb, table)},
        ]

    results = run_on_both(emulator, vanilla_moto, scenario)
    assert [result.get("error") for result in results[:6]] == [None] * 6
    assert results[6]["status"] == 500
    (item,) = results[-1]["items"]
    # The failing update left what moto leaves: the ADD before the bad number applied (once per
    # attempt the SDK made), nothing after it.
    assert float(item["counter_0"]["N"]) > 3 + 3 + 1.5 + 2 + 1
    assert item["counter_1"] == {"N": str(1 + 1 - 4 + 2 + 1)}
    assert item["expires_at"] == {"N": "1797000240"}
    assert item["label"] == {"S": "ünïcödé"}


def test_updates_the_fast_path_does_not_take_answer_as_plain_moto_does(
    emulator: EmulatorHandle, vanilla_moto: str
) -> None:
    big = sized_item(MOTO_ITEM_LIMIT - 10)

    def scenario(dynamodb: Any, table: str) -> list[Outcome]:
        stats_key = stats_update(table, ["1"])["Key"]

        def update(request: dict[str, Any]) -> Outcome:
            return outcome(lambda: dynamodb.update_item(**request))

        def transact(request: dict[str, Any]) -> Outcome:
            return outcome(
                lambda: dynamodb.transact_write_items(TransactItems=[{"Update": request}])
            )

        unused_name = stats_update(table, ["1"])
        unused_name["ExpressionAttributeNames"]["#unused"] = "x"
        unused_value = stats_update(table, ["1"])
        unused_value["ExpressionAttributeValues"][":unused"] = {"N": "1"}
        undefined_value = stats_update(table, ["1"])
        del undefined_value["ExpressionAttributeValues"][":c0"]
        to_string = stats_update(table, ["1"])
        to_string["ExpressionAttributeNames"]["#c0"] = "label"
        key_update = stats_update(table, ["1"])
        key_update["ExpressionAttributeNames"]["#c0"] = "sk"
        set_key = {
            **stats_update(table, ["1"]),
            "UpdateExpression": "ADD #c0 :c0 SET sk = :expires",
        }
        reserved = {
            **stats_update(table, ["1"]),
            "UpdateExpression": "ADD #c0 :c0 SET size = :expires",
        }
        twice = {
            **stats_update(table, ["1", "2"]),
            "ExpressionAttributeNames": {"#c0": "n", "#c1": "n"},
        }
        failing_condition = {
            **stats_update(table, ["1"]),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        too_big = {
            "TableName": table,
            "Key": key_of(big),
            "UpdateExpression": "ADD #c0 :c0 SET note = :note",
            "ExpressionAttributeNames": {"#c0": "n"},
            "ExpressionAttributeValues": {":c0": {"N": "1"}, ":note": {"S": "x" * 20}},
        }
        cancelled = [
            {"Update": stats_update(table, ["100"], "1")},
            {"Put": {**conditional_put(table, tweet_item(1))["Put"]}},
        ]
        return [
            update(stats_update(table, ["1"])),
            outcome(
                lambda: dynamodb.put_item(
                    TableName=table,
                    Item={**stats_key, "label": {"S": "text"}, "counter_0": {"N": "1"}},
                )
            ),
            update(unused_name),
            update(unused_value),
            transact(unused_name),
            transact(undefined_value),
            update(to_string),
            transact(to_string),
            update(key_update),
            transact(set_key),
            update(reserved),
            update(twice),
            update(failing_condition),
            transact(failing_condition),
            outcome(lambda: dynamodb.put_item(TableName=table, Item=tweet_item(1))),
            outcome(lambda: dynamodb.put_item(TableName=table, Item=big)),
            update(too_big),
            outcome(lambda: dynamodb.transact_write_items(TransactItems=cancelled)),
            {"items": everything(dynamodb, table)},
        ]

    results = run_on_both(emulator, vanilla_moto, scenario)
    names = [
        "created", "overwritten", "unused name", "unused value", "unused name (tx)",
        "undefined value (tx)", "to string", "to string (tx)", "key", "set key (tx)",
        "reserved", "twice", "condition", "condition (tx)", "tweet", "big", "too big",
        "cancelled",
    ]  # fmt: skip
    answers = dict(zip(names, results, strict=False))
    for name in ("unused name", "unused value", "to string", "key", "reserved", "twice", "too big"):
        assert answers[name]["error"]["Code"] == "ValidationException", name
    assert answers["condition"]["error"]["Code"] == "ConditionalCheckFailedException"
    assert answers["cancelled"]["error"]["Code"] == "TransactionCanceledException"
    assert answers["cancelled"]["reasons"][1]["Code"] == "ConditionalCheckFailed"
    stats = [item for item in results[-1]["items"] if item["pk"] == {"S": "STATS#python"}]
    assert stats == [
        {
            "pk": {"S": "STATS#python"},
            "sk": {"S": "MINUTE#12:00"},
            "label": {"S": "text"},
            "counter_0": {"N": "1"},
        }
    ]


# --- The fast path is taken -----------------------------------------------------------------


def in_process_backend(streams: dict[str, Any] | None = None) -> DynamoDBBackend:
    backend = DynamoDBBackend("us-east-1", "123456789012")
    backend.create_table(
        "stats",
        schema=EVENT_TABLE_SCHEMA["KeySchema"],
        throughput=None,
        attr=EVENT_TABLE_SCHEMA["AttributeDefinitions"],
        global_indexes=None,
        indexes=None,
        streams=streams,
        billing_mode="PAY_PER_REQUEST",
        sse_specification=None,
        tags=[],
        deletion_protection_enabled=None,
        warm_throughput=None,
    )
    return backend


def update_arguments(request: dict[str, Any]) -> tuple[Any, ...]:
    """`DynamoDBBackend.update_item`'s positional arguments for an `Update` request."""
    return (
        request["TableName"],
        request["Key"],
        request["UpdateExpression"],
        request["ExpressionAttributeNames"],
        request["ExpressionAttributeValues"],
    )


def test_the_stats_update_skips_moto_validator_and_stores_what_moto_stores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    validations: list[Any] = []
    original_validate = Validator.validate

    def counting_validate(self: Validator) -> Any:
        validations.append(self)
        return original_validate(self)

    monkeypatch.setattr(Validator, "validate", counting_validate)
    fast, plain = in_process_backend(), in_process_backend()
    requests = [
        stats_update("stats", ["3", "1", "0", "2", "7"], "1797000000"),
        stats_update("stats", ["2", "0.5", "-1", "0", "1"], "1797000060"),
        stats_update("stats", ["1", "1", "1", "1", "1"], "1797000120", minute="12:01"),
    ]
    for request in requests:
        arguments = update_arguments(request)
        dynamodb_fast_paths.update_item(fast, *copy.deepcopy(arguments))
        assert validations == []
        dynamodb_fast_paths._original_update_item(plain, *copy.deepcopy(arguments))
        assert validations
        validations.clear()

    def stored(backend: DynamoDBBackend) -> list[Any]:
        return [item.to_json() for item in backend.get_table("stats").all_items()]

    assert stored(fast) == stored(plain)
    assert len(stored(fast)) == 2

    # Anything outside the shape goes through moto's validator.
    conditional = requests[0]
    dynamodb_fast_paths.update_item(
        fast,
        conditional["TableName"],
        conditional["Key"],
        conditional["UpdateExpression"],
        conditional["ExpressionAttributeNames"],
        conditional["ExpressionAttributeValues"],
        condition_expression="attribute_exists(pk)",
    )
    assert validations


def test_the_stats_update_writes_the_stream_records_moto_writes() -> None:
    streams = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    fast, plain = in_process_backend(streams), in_process_backend(streams)
    for amounts, expires in [(["3", "1"], "1"), (["2", "0.5"], "2"), (["-1", "1"], "3")]:
        request = stats_update("stats", amounts, expires)
        arguments = update_arguments(request)
        dynamodb_fast_paths.update_item(fast, *copy.deepcopy(arguments))
        dynamodb_fast_paths._original_update_item(plain, *copy.deepcopy(arguments))

    def records(backend: DynamoDBBackend) -> list[Any]:
        shard = backend.get_table("stats").stream_shard
        assert shard is not None
        seen = []
        for position, record in enumerate(shard.items):
            body = copy.deepcopy(record.record)
            # Random or clock-made; SizeBytes is the length of the JSON including the clock's time
            del body["eventID"], body["dynamodb"]["ApproximateCreationDateTime"]
            del body["dynamodb"]["SizeBytes"]
            body["dynamodb"]["SequenceNumber"] = position
            seen.append(body)
        return seen

    assert records(fast) == records(plain)
    # moto records the creating put (keys only), then the update, then one per later update
    assert [record["eventName"] for record in records(fast)] == ["INSERT", "INSERT"] + [
        "MODIFY"
    ] * 2
