"""Terraform's validation of topic names and the pipeline's rule agree on every string.

``search_queries`` and ``api_topics`` are validated with ``local.topic_name_pattern`` (Go's RE2,
through Terraform's ``regex``); the producer, the consumer and the API use
``tweet_record.topics`` (Python's ``re``). Both verdicts are taken on the same strings: Terraform's
through ``terraform console`` on the root module, many strings per call.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.terraform.test_static import run_terraform

from tweet_record.topics import TOPIC_NAME_MAX_CHARS, TOPIC_NAME_PATTERN, is_topic_name

pytestmark = pytest.mark.slow

EDGES = [" ", ",", "\n", "\t", "\x00", "\x1f", "\x7f", "\x9f", "\xa0", "\u2028", "\u2029",
         "\u200d", "\ufeff", "#", "é", "👩", "🏽", "x"]  # fmt: skip


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> object:
    data_dir = tmp_path_factory.mktemp("terraform-topic-rule") / ".terraform"
    completed = run_terraform(["init", "-backend=false", "-input=false", "-no-color"], data_dir)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    scratch = tmp_path_factory.mktemp("topic-names")

    def evaluate(expression: str, names: list[str] | None = None) -> object:
        cases = scratch / "names.json"
        cases.write_text(json.dumps(names or []), encoding="utf-8")
        completed = run_terraform(
            # A state of its own: the default one in terraform/ is locked by any console that
            # another worker runs at the same moment.
            ["console", "-no-color", f"-state={scratch / 'console.tfstate'}"],
            data_dir,
            stdin=expression.replace("NAMES", f'jsondecode(file("{cases}"))') + "\n",
        )
        assert completed.returncode == 0, completed.stderr
        return json.loads(json.loads(completed.stdout))

    return evaluate


def terraform_accepts(console: object, names: list[str]) -> list[bool]:
    verdicts = console(  # type: ignore[operator]
        "jsonencode([for name in NAMES : can(regex(local.topic_name_pattern, name))])", names
    )
    assert isinstance(verdicts, list)
    return verdicts


def test_terraform_mirrors_the_pattern_of_tweet_record(console: object) -> None:
    assert console("jsonencode(local.topic_name_pattern)") == TOPIC_NAME_PATTERN  # type: ignore[operator]


def test_every_character_at_every_place_gets_the_same_verdict(console: object) -> None:
    """Each code point below U+0300 and one in 1,009 above, alone (first and last) and inside."""
    codes = [*range(0x300), *range(0x300, 0x110000, 1009)]
    characters = [chr(code) for code in codes if not 0xD800 <= code <= 0xDFFF] + EDGES
    names = [shape.format(c) for c in characters for shape in ("{}", "a{}b")]
    names += ["x" * TOPIC_NAME_MAX_CHARS, "x" * (TOPIC_NAME_MAX_CHARS + 1), "👩‍👩‍👧" * 51, "", " "]
    assert terraform_accepts(console, names) == [is_topic_name(name) for name in names]


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.text(
            alphabet=st.one_of(st.sampled_from(EDGES), st.characters(exclude_categories=["Cs"])),
            max_size=TOPIC_NAME_MAX_CHARS + 4,
        ),
        min_size=50,
        max_size=150,
    )
)
def test_terraform_accepts_exactly_what_the_pipeline_accepts(
    console: object, names: list[str]
) -> None:
    assert terraform_accepts(console, names) == [is_topic_name(name) for name in names]


def test_the_configured_default_topics_follow_the_rule(console: object) -> None:
    """The stack's defaults and every environment's tfvars: the API can name each of them."""
    defaults = console("jsonencode(concat(var.search_queries, var.api_topics))")
    assert isinstance(defaults, list) and defaults
    environments = Path(__file__).resolve().parents[2] / "terraform" / "environments"
    for tfvars in sorted(environments.glob("*.tfvars")):
        for line in tfvars.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith(("search_queries", "api_topics")):
                defaults.extend(json.loads(line.split("=", 1)[1]))
    assert all(is_topic_name(name) for name in defaults), defaults
