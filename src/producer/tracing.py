"""A Powertools Tracer that does not import the X-Ray SDK when tracing is off.

`Tracer()` resolves its provider by importing `aws_xray_sdk.core` even when tracing is disabled
(measured ~0.5 s on a cold import). Outside Lambda, under SAM/Chalice local or with
`POWERTOOLS_TRACE_DISABLED`, there is nothing to trace, so we hand the Tracer a no-op provider
through its documented `provider=` extension point. In Lambda with tracing on, the stock X-Ray
provider is used, patching only the libraries the producer calls through.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Generator, Sequence
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

_TRUTHY = {"1", "true", "yes", "on", "y", "t"}


class _NoOpSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        """Nothing was opened."""

    def add_subsegment(self, subsegment: Any) -> None:
        """Nothing is recorded."""

    def remove_subsegment(self, subsegment: Any) -> None:
        """Nothing is recorded."""

    def put_annotation(self, key: str, value: Any) -> None:
        """Nothing is recorded."""

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        """Nothing is recorded."""

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        """Nothing is recorded."""


class NoOpTracingProvider(BaseProvider):
    """Satisfies the Tracer's provider interface and records nothing."""

    @contextlib.contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _NoOpSegment()

    @contextlib.asynccontextmanager
    async def in_subsegment_async(self, name: Any = None, **kwargs: Any) -> Any:
        yield _NoOpSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        """Nothing is recorded."""

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        """Nothing is recorded."""

    def patch(self, modules: Sequence[str]) -> None:
        """Nothing to patch."""

    def patch_all(self) -> None:
        """Nothing to patch."""


def tracing_wanted(env: dict[str, str] | None = None) -> bool:
    """Mirrors Powertools' own rule for when tracing is active."""
    env = dict(os.environ) if env is None else env
    if env.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in _TRUTHY:
        return False
    in_lambda = bool(env.get("LAMBDA_TASK_ROOT"))
    local_emulation = bool(env.get("AWS_SAM_LOCAL") or env.get("AWS_CHALICE_CLI_MODE"))
    return in_lambda and not local_emulation


TRACED_MODULES = ("botocore", "requests")
"""What the producer calls out through: AWS (botocore) and the X API (requests, under tweepy).
Patching just these instead of the X-Ray SDK's patch_all skips probing ~20 other libraries."""


def make_tracer() -> Tracer:
    if tracing_wanted():
        return Tracer(patch_modules=TRACED_MODULES)
    return Tracer(disabled=True, provider=NoOpTracingProvider())
