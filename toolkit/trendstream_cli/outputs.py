"""Which stack the read-side commands (`status`, `query`, `tail`) look at, and its outputs.

The local stack's outputs come from its state directory, and boto3 is pointed at the emulator; a
stack deployed to AWS is named by a `terraform output -json` file and reached as the environment
says.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trendstream_cli import stack
from tweet_record.items import HOT_TOPIC_KEY_PARTS_VARIABLE, topic_key_parts_from_env


class StackOutputsError(Exception):
    """The stack's outputs cannot be read: not deployed, or a bad outputs file."""


def key_parts_of(outputs: Mapping[str, Any]) -> dict[str, int]:
    """The hot topics' key parts the stack's functions were given (output
    ``hot_topic_key_parts``; none before it existed), checked as the functions check them."""
    parts = outputs.get("hot_topic_key_parts") or {}
    return topic_key_parts_from_env({HOT_TOPIC_KEY_PARTS_VARIABLE: json.dumps(parts)})


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    """Options that choose the stack: shared by `status`, `query` and `tail`."""
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="the local stack's state directory (default: the one `trendstream up` uses)",
    )
    parser.add_argument(
        "--outputs",
        type=Path,
        default=None,
        metavar="FILE",
        help="`terraform output -json` of a deployed stack; AWS is then reached as the "
        "environment says (default: the local stack, through the local emulator)",
    )


def load_stack_outputs(args: argparse.Namespace) -> dict[str, Any]:
    """The Terraform outputs of the stack to inspect; points boto3 at the emulator if local.

    A local stack is found the way `run` finds it, from its own record in the state directory:
    its outputs, and the endpoint of the emulator `up` started for it (whatever port that is, and
    whatever `AWS_ENDPOINT_URL` or `LOCAL_AWS_PORT` say). An emulator that is not running is one
    error, said once.
    """
    if args.outputs is not None:
        try:
            return read_outputs_file(args.outputs)
        except (OSError, ValueError, TypeError) as error:
            raise StackOutputsError(str(error)) from error
    outputs, endpoint = local_stack(args.state_dir or stack.default_state_dir())
    from local_aws.moto_server import emulator_environment  # noqa: PLC0415

    os.environ.update(emulator_environment(endpoint))
    return outputs


def local_stack(state_dir: Path) -> tuple[dict[str, Any], str]:
    """The outputs `up` saved for the local stack in `state_dir`, and the endpoint of the emulator
    it started for that stack; StackOutputsError when either is missing."""
    paths = stack.StackPaths(state_dir=state_dir)
    try:
        outputs = dict(stack.read_outputs(paths))
    except (OSError, ValueError, TypeError, RuntimeError) as error:
        raise StackOutputsError(str(error)) from error
    endpoint = stack.running_endpoint(paths)
    if endpoint is None:
        raise StackOutputsError(
            f"no local stack is running in {state_dir} (its emulator is not running):"
            " `make up` starts one"
        )
    return outputs, endpoint


def read_outputs_file(path: Path) -> dict[str, Any]:
    """Outputs from `terraform output -json` (`{"k": {"value": v}}`) or a flat JSON object.

    Every error names the file: it is the operator's to fix.
    """
    expected = "expected the JSON object `terraform output -json` prints"
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error.reason}); {expected}") from error
    except OSError as error:
        raise OSError(f"{path}: cannot read the outputs file: {error.strerror}") from error
    if not text.strip():
        raise ValueError(f"{path}: the outputs file is empty; {expected}")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}); "
            f"{expected}"
        ) from error
    if not isinstance(raw, dict):
        raise TypeError(f"{path}: {expected}, not a JSON {type(raw).__name__}")
    return flatten_outputs(raw)


def flatten_outputs(raw: dict[str, Any]) -> dict[str, Any]:
    """`terraform output -json` (`{"k": {"value": v}}`) or an already flat object -> name: value."""
    return {
        key: value["value"] if isinstance(value, dict) and "value" in value else value
        for key, value in raw.items()
    }
