"""The process that hosts one Lambda function, as a Lambda execution environment does.

Started by :mod:`local_aws.lambda_service` as ``python -I -S lambda_worker.py CODE_DIR HANDLER
RUNTIME_SITE``: ``-I -S`` keep the dev venv's site-packages out of ``sys.path``, so the handler sees
only its unzipped deployment package plus the packages the AWS Python runtime ships (boto3,
botocore and their dependencies, linked into RUNTIME_SITE). A dependency missing from a zip
therefore fails here exactly as it would in AWS.

This module uses the standard library only: it runs before anything else is importable.

Protocol (stdin/stdout of the worker, each frame a 4-byte big-endian length then UTF-8 JSON):
the worker first sends ``{"init": ...}`` after importing the handler (the cold start), then
answers each ``{"requestId", "event", "deadlineMs", ...}`` frame with ``{"result": ...}`` or
``{"error": {"errorType", "errorMessage", "stackTrace"}}``. The handler's own stdout is sent to
stderr (the function's log), so a stray ``print`` cannot corrupt the protocol.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import struct
import sys
import threading
import time
import traceback
from typing import Any, BinaryIO

_FRAME_HEADER = struct.Struct(">I")
_PARENT_WATCH_INTERVAL_SECONDS = 0.5


class LambdaContext:
    """The ``context`` argument, with the attributes the Python runtime documents."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.aws_request_id: str = request["requestId"]
        self.function_name: str = request["functionName"]
        self.function_version: str = request["functionVersion"]
        self.invoked_function_arn: str = request["invokedFunctionArn"]
        self.memory_limit_in_mb: int = int(request["memoryLimitInMb"])
        self.log_group_name: str = request["logGroupName"]
        self.log_stream_name: str = request["logStreamName"]
        self.identity = None
        self.client_context = None
        self._deadline_ms: int = int(request["deadlineMs"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _read_frame(stream: BinaryIO) -> dict[str, Any] | None:
    header = stream.read(_FRAME_HEADER.size)
    if len(header) < _FRAME_HEADER.size:
        return None
    (length,) = _FRAME_HEADER.unpack(header)
    body = stream.read(length)
    if len(body) < length:
        return None
    frame: dict[str, Any] = json.loads(body)
    return frame


def _write_frame(stream: BinaryIO, frame: dict[str, Any]) -> None:
    body = json.dumps(frame, separators=(",", ":")).encode()
    stream.write(_FRAME_HEADER.pack(len(body)) + body)
    stream.flush()


def _error(error_type: str, message: str, stack: list[str] | None = None) -> dict[str, Any]:
    return {"errorType": error_type, "errorMessage": message, "stackTrace": stack or []}


def _exception_error(exc: BaseException) -> dict[str, Any]:
    stack = [line.rstrip("\n") for line in traceback.format_tb(exc.__traceback__)]
    return _error(type(exc).__name__, str(exc), stack)


def _load_handler(handler: str) -> tuple[Any, dict[str, Any] | None]:
    """Import ``module.function`` as the Lambda runtime does; errors use its error types."""
    module_name, _, function_name = handler.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        return None, _error(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        )
    except Exception as exc:  # noqa: BLE001 - any init failure is reported, as Lambda does
        return None, _exception_error(exc)
    function = getattr(module, function_name, None)
    if function is None:
        return None, _error(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        )
    return function, None


def _watch_parent(parent_pid: int) -> None:
    """Exit when the runtime that started us is gone: no orphaned worker, ever."""
    while os.getppid() == parent_pid:
        time.sleep(_PARENT_WATCH_INTERVAL_SECONDS)
    os._exit(1)


def main(argv: list[str]) -> int:
    code_dir, handler, runtime_site = argv[1], argv[2], argv[3]
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    # Lambda's Python runtime writes the handler's output unbuffered: an invocation's lines
    # (Powertools' EMF metrics among them) are in its log when it ends, even if the execution
    # environment is then frozen or shut down.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    protocol_in = sys.stdin.buffer
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()

    sys.path[:0] = [code_dir, runtime_site]
    os.chdir(code_dir)
    function, init_error = _load_handler(handler)
    _write_frame(protocol_out, {"init": {"error": init_error}})

    while True:
        request = _read_frame(protocol_in)
        if request is None:
            return 0
        if init_error is not None:
            _write_frame(protocol_out, {"error": init_error})
            continue
        try:
            result = function(request["event"], LambdaContext(request))
        except Exception as exc:  # noqa: BLE001 - the handler's error is the invocation result
            _write_frame(protocol_out, {"error": _exception_error(exc)})
            continue
        try:
            _write_frame(protocol_out, {"result": result})
        except (TypeError, ValueError) as exc:
            _write_frame(
                protocol_out,
                {"error": _error("Runtime.MarshalError", f"Unable to marshal response: {exc}")},
            )


if __name__ == "__main__":
    sys.exit(main(sys.argv))
