"""The lake's prefixes: one copy for Python (tweet_record.lake), one for Terraform (the lake
module's `prefixes` local, which the delivery module and the consumer's policy read through the
module's output). Terraform cannot import Python, so this test holds the two equal."""

from __future__ import annotations

import re
from pathlib import Path

from tweet_record.lake import ERRORS_PREFIX, LAKE_PREFIXES, QUARANTINE_PREFIX, TWEETS_PREFIX

LAKE_MODULE = Path(__file__).resolve().parents[2] / "terraform" / "modules" / "lake" / "main.tf"
TERRAFORM_ROOT = LAKE_MODULE.parents[2]


def terraform_prefixes() -> dict[str, str]:
    block = re.search(
        r"^\s*prefixes\s*=\s*\{(?P<body>.*?)^\s*\}", LAKE_MODULE.read_text(), re.S | re.M
    )
    assert block is not None, f"no `prefixes = {{...}}` local in {LAKE_MODULE}"
    return dict(re.findall(r'^\s*(\w+)\s*=\s*"([^"]*)"', block.group("body"), re.M))


def test_terraform_lays_out_the_lake_as_python_reads_it() -> None:
    assert terraform_prefixes() == {
        "tweets": TWEETS_PREFIX,
        "errors": ERRORS_PREFIX,
        "quarantine": QUARANTINE_PREFIX,
    }
    assert set(LAKE_PREFIXES) == set(terraform_prefixes().values())


def test_no_other_terraform_file_spells_a_lake_prefix() -> None:
    """Everything else reads the lake module's `prefixes`, so a prefix changes in one place."""
    spelled = [
        f"{path.relative_to(TERRAFORM_ROOT)}: {prefix}"
        for path in sorted(TERRAFORM_ROOT.rglob("*.tf"))
        if path != LAKE_MODULE and ".terraform" not in path.parts
        for prefix in LAKE_PREFIXES
        if f'"{prefix}' in path.read_text() or f"/{prefix}" in path.read_text()
    ]
    assert spelled == []
