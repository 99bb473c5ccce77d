"""A rule on an operator's input is validated once, on the root variable the operator sets; the
modules trust their caller (terraform/README.md, "One place validates each rule")."""

from __future__ import annotations

import re
from pathlib import Path

TERRAFORM = Path(__file__).resolve().parents[2] / "terraform"


def module_calls() -> dict[str, tuple[str, dict[str, str]]]:
    """Each module call of the root: its module directory and the arguments it passes straight
    from a root variable (`argument = var.name`)."""
    main = (TERRAFORM / "main.tf").read_text(encoding="utf-8")
    calls = {}
    for name, body in re.findall(r'^module "(\w+)" \{\n(.*?)^\}', main, re.S | re.M):
        source = re.search(r'^\s*source\s*=\s*"\./modules/(\w+)"', body, re.M)
        assert source is not None, name
        passed = dict(re.findall(r"^\s*(\w+)\s*=\s*var\.(\w+)\s*$", body, re.M))
        calls[name] = (source.group(1), passed)
    return calls


def validated(variables_file: Path) -> set[str]:
    text = variables_file.read_text(encoding="utf-8")
    return {
        name
        for name, body in re.findall(r'^variable "(\w+)" \{\n(.*?)^\}', text, re.S | re.M)
        if re.search(r"^\s*validation \{", body, re.M)
    }


def test_no_module_validates_what_the_root_passes_from_its_own_variables() -> None:
    repeated = []
    calls = module_calls()
    assert calls, "no module calls found in terraform/main.tf"
    for call, (module, passed) in sorted(calls.items()):
        module_validated = validated(TERRAFORM / "modules" / module / "variables.tf")
        for argument, root_variable in sorted(passed.items()):
            if argument in module_validated:
                repeated.append(f"module.{call}.{argument} (from var.{root_variable})")
    assert repeated == []
