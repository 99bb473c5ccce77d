"""The stack's Lambda functions, as Terraform deployed them: its ``<role>_function_name`` outputs.

The one list every command uses (the runtime hosting them, `status`, `run`'s live table, `demo`,
`verify`): a function Terraform adds to the stack with such an output appears everywhere, and no
command keeps a list of its own to go stale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FUNCTION_OUTPUT_SUFFIX = "_function_name"


@dataclass(frozen=True)
class StackFunction:
    role: str
    """What the function does in the stack: the output's name without the suffix (``api``)."""
    name: str
    """The deployed function's name."""
    output: str
    """The Terraform output that names it."""


def stack_functions(outputs: Mapping[str, Any]) -> list[StackFunction]:
    """Every function the outputs name, ordered by role; outputs with an empty value are left out
    (a stack deployed without that function)."""
    return [
        StackFunction(role=key.removesuffix(FUNCTION_OUTPUT_SUFFIX), name=str(value), output=key)
        for key, value in sorted(outputs.items())
        if key.endswith(FUNCTION_OUTPUT_SUFFIX) and isinstance(value, str) and value
    ]
