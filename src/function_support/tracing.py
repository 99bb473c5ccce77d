"""A Powertools ``Tracer`` that keeps the X-Ray SDK out of the handler's import.

``Tracer()`` imports the X-Ray SDK and patches libraries while the handler module is imported
(a large share of a cold start; docs/performance.md has the figures), even when tracing is
disabled, because it builds the X-Ray provider before looking at the switch. Here:

- tracing off (``POWERTOOLS_TRACE_DISABLED`` true, or outside Lambda as in tests and the local
  emulator): ``Tracer`` gets a no-op provider and the SDK is never imported;
- tracing on: ``Tracer`` gets a provider that imports the SDK, configures it as Powertools does
  (``streaming_threshold=0``) and patches only ``boto3`` on the first traced call, which is the
  handler's own subsegment, so every AWS call is still traced. The cost moves from the import
  to the first invocation; ``patch_all`` (requests, httplib, sqlite3…) is never paid.

Shared by every Lambda (``function_support`` is in each zip).
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Generator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

from function_support.environment import env_flag


class _NoOpSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        """Nothing to close."""

    def add_subsegment(self, subsegment: Any) -> None:
        """Nothing recorded."""

    def remove_subsegment(self, subsegment: Any) -> None:
        """Nothing recorded."""

    def put_annotation(self, key: str, value: Any) -> None:
        """Nothing recorded."""

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        """Nothing recorded."""

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        """Nothing recorded."""


class NoOpTracingProvider(BaseProvider):
    """Satisfies ``Tracer``'s provider interface without importing the X-Ray SDK."""

    @contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _NoOpSegment()

    @asynccontextmanager
    async def in_subsegment_async(
        self, name: Any = None, **kwargs: Any
    ) -> AsyncGenerator[BaseSegment, None]:
        yield _NoOpSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        """Nothing recorded."""

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        """Nothing recorded."""

    def patch(self, modules: Sequence[str]) -> None:
        """Nothing to patch."""

    def patch_all(self) -> None:
        """Nothing to patch."""


class DeferredXRayProvider(BaseProvider):
    """The X-Ray recorder, imported and patched on first use instead of at import."""

    def __init__(self, patch_modules: Sequence[str] = ("boto3",)) -> None:
        self._patch_modules = list(patch_modules)
        self._recorder: Any = None

    def _xray(self) -> Any:
        if self._recorder is None:
            from aws_xray_sdk.core import patch, xray_recorder  # noqa: PLC0415

            xray_recorder.configure(streaming_threshold=0)  # Powertools issue #283
            patch(self._patch_modules)
            self._recorder = xray_recorder
        return self._recorder

    @contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        with self._xray().in_subsegment(name=name, **kwargs) as subsegment:
            yield subsegment

    @asynccontextmanager
    async def in_subsegment_async(
        self, name: Any = None, **kwargs: Any
    ) -> AsyncGenerator[BaseSegment, None]:
        async with self._xray().in_subsegment_async(name=name, **kwargs) as subsegment:
            yield subsegment

    def put_annotation(self, key: str, value: Any) -> None:
        self._xray().put_annotation(key, value)

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self._xray().put_metadata(key, value, namespace)

    def patch(self, modules: Sequence[str]) -> None:
        self._patch_modules.extend(
            module for module in modules if module not in self._patch_modules
        )
        if self._recorder is not None:
            from aws_xray_sdk.core import patch  # noqa: PLC0415

            patch(list(modules))

    def patch_all(self) -> None:
        from aws_xray_sdk.core import patch_all  # noqa: PLC0415

        self._xray()
        patch_all()


def tracing_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Powertools' own rule: on inside Lambda unless disabled or under SAM/Chalice local."""
    if env_flag(environ, "POWERTOOLS_TRACE_DISABLED"):
        return False
    if environ.get("AWS_SAM_LOCAL") or environ.get("AWS_CHALICE_CLI_MODE"):
        return False
    return bool(environ.get("LAMBDA_TASK_ROOT"))


def lambda_tracer(
    environ: Mapping[str, str] = os.environ, patch_modules: Sequence[str] = ("boto3",)
) -> Tracer:
    """The module-level ``Tracer`` of a trendstream Lambda, patching only what it calls through."""
    if tracing_enabled(environ):
        return Tracer(auto_patch=False, provider=DeferredXRayProvider(patch_modules))
    return Tracer(disabled=True, auto_patch=False, provider=NoOpTracingProvider())
