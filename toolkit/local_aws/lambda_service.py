"""Stand-in for the AWS Lambda service: runs deployed functions from their built zips.

The emulator stores functions but does not run them. This service reads what was deployed
(``GetFunctionConfiguration``: handler, environment, timeout, memory, ``CodeSha256``), checks the
deployed code is the zip it is given, unzips it once and hosts each function in long-lived worker
processes (:mod:`local_aws.lambda_worker`): the first invocation of a worker is its cold start,
later ones are warm. As in Lambda, the cold start's Init phase has 10 s of its own: the function's
timeout counts from the end of Init (an Init that overruns the 10 s takes the rest from it).
A worker runs with temporary credentials of the function's execution role (``sts:AssumeRole``,
as Lambda provides them), so the emulator authorises its calls against the role's policies.
A worker only sees the zip's contents plus boto3/botocore and their dependencies (what the AWS
Python runtime provides), the function's environment and the emulator endpoint, so a dependency
missing from a zip fails here as it would in AWS.

Each worker runs one invocation at a time; concurrent invocations of a function get more
workers, up to ``max_concurrency``. A timeout kills the worker (the next invocation starts a new
one, a cold start) and is reported as AWS reports it (``Sandbox.Timedout``). Workers also exit by
themselves when the runtime process dies. Asynchronous (``Event``) invocations are queued and run
on a background thread; a failed one is retried twice, as Lambda does (at once here, not after
Lambda's one- and two-minute waits), then sent to the function's dead-letter queue if it has one,
as the function's execution role.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from local_aws import fault_plan
from local_aws.moto_server import emulator_environment, role_environment

logger = logging.getLogger(__name__)

_FRAME_HEADER = struct.Struct(">I")
_WORKER_SCRIPT = Path(__file__).with_name("lambda_worker.py")
# What the AWS Lambda Python 3.11 runtime ships besides the standard library.
_RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
_UNHANDLED = "Unhandled"
INIT_PHASE_SECONDS = 10.0
"""Lambda's own limit on a cold start's Init phase, outside the function's timeout."""
ASYNC_RETRIES = 2
"""Lambda retries a failed asynchronous invocation twice by default."""


class CodeMismatchError(RuntimeError):
    """The deployed function's CodeSha256 is not the hash of the zip we were asked to run."""


@dataclass(frozen=True)
class FunctionConfig:
    """What was deployed, as ``GetFunctionConfiguration`` reports it."""

    name: str
    arn: str
    role: str
    handler: str
    environment: Mapping[str, str]
    timeout_seconds: float
    memory_mb: int
    code_sha256: str
    dead_letter_target: str | None = None

    @classmethod
    def from_api(cls, configuration: Mapping[str, Any]) -> FunctionConfig:
        return cls(
            name=configuration["FunctionName"],
            arn=configuration["FunctionArn"],
            role=configuration.get("Role", ""),
            handler=configuration["Handler"],
            environment=dict(configuration.get("Environment", {}).get("Variables", {})),
            timeout_seconds=float(configuration.get("Timeout", 3)),
            memory_mb=int(configuration.get("MemorySize", 128)),
            code_sha256=configuration["CodeSha256"],
            dead_letter_target=configuration.get("DeadLetterConfig", {}).get("TargetArn") or None,
        )

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.name}"


@dataclass(frozen=True)
class InvocationResult:
    """An ``Invoke`` response; ``function_error`` is ``Unhandled`` when the function failed."""

    request_id: str
    status_code: int
    payload: Any
    function_error: str | None = None
    executed_version: str = "$LATEST"
    cold_start: bool = False

    @property
    def error_type(self) -> str | None:
        if self.function_error and isinstance(self.payload, dict):
            return str(self.payload.get("errorType", ""))
        return None


@dataclass
class FunctionStats:
    """Counters for the progress display."""

    invocations: int = 0
    errors: int = 0
    timeouts: int = 0
    cold_starts: int = 0
    throttles: int = 0
    dead_letters: int = 0
    dead_letter_errors: int = 0
    last_error: str = ""


def code_sha256(zip_path: Path) -> str:
    """The base64 SHA-256 Lambda reports as ``CodeSha256``."""
    return base64.b64encode(hashlib.sha256(zip_path.read_bytes()).digest()).decode()


def lambda_runtime_site(work_dir: Path) -> Path:
    """A directory holding only the packages the Lambda runtime provides (symlinked from ours)."""
    site = work_dir / "lambda-runtime-site"
    site.mkdir(parents=True, exist_ok=True)
    for package in _RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        link = site / source.name
        if not link.exists():
            link.symlink_to(source, target_is_directory=source.is_dir())
    return site


class ServiceStoppedError(RuntimeError):
    """The service was stopped while the invocation ran: it has no result, not even an error."""


class _WorkerCrashedError(Exception):
    pass


class _WorkerTimedOutError(Exception):
    pass


def _read_exact(fd: int, size: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            raise _WorkerTimedOutError
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            raise _WorkerTimedOutError
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise _WorkerCrashedError
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


class _Worker:
    """One execution environment: a process that imported the handler and serves invocations."""

    def __init__(
        self,
        config: FunctionConfig,
        code_dir: Path,
        site: Path,
        env: dict[str, str],
        log_path: Path,
    ) -> None:
        self.config = config
        self.invocations = 0
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
                [
                    sys.executable,
                    "-I",
                    "-S",
                    str(_WORKER_SCRIPT),
                    str(code_dir),
                    config.handler,
                    str(site),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                cwd=code_dir,
                start_new_session=True,
            )
        if self._process.stdin is None or self._process.stdout is None:
            raise RuntimeError("worker pipes were not created")
        self._stdin: IO[bytes] = self._process.stdin
        self._stdout_fd = self._process.stdout.fileno()
        self._init: dict[str, Any] | None = None

    @property
    def pid(self) -> int:
        return self._process.pid

    def alive(self) -> bool:
        return self._process.poll() is None

    def _read_frame(self, deadline: float) -> dict[str, Any]:
        (length,) = _FRAME_HEADER.unpack(_read_exact(self._stdout_fd, _FRAME_HEADER.size, deadline))
        frame: dict[str, Any] = json.loads(_read_exact(self._stdout_fd, length, deadline))
        return frame

    def initialise(self, deadline: float) -> None:
        """Wait for the Init phase (the handler's import) to end, once per worker."""
        if self._init is None:
            self._init = self._read_frame(deadline)

    def invoke(self, request: dict[str, Any], deadline: float) -> dict[str, Any]:
        """Send one invocation to an initialised worker and wait for its answer."""
        body = json.dumps(request, separators=(",", ":")).encode()
        try:
            self._stdin.write(_FRAME_HEADER.pack(len(body)) + body)
            self._stdin.flush()
        except BrokenPipeError as exc:
            raise _WorkerCrashedError from exc
        self.invocations += 1
        return self._read_frame(deadline)

    def kill(self) -> None:
        if self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                with contextlib.suppress(BrokenPipeError):
                    stream.close()

    def exit_status(self) -> int | None:
        return self._process.poll()


def _kill_worker(worker: _Worker) -> None:
    """Fault injection (local_aws.fault_plan): the worker dies mid-invocation."""
    worker.kill()
    raise _WorkerCrashedError


@dataclass
class _Function:
    config: FunctionConfig
    code_dir: Path
    environment: dict[str, str]
    log_path: Path
    idle: list[_Worker] = field(default_factory=list)
    busy: set[_Worker] = field(default_factory=set)
    stats: FunctionStats = field(default_factory=FunctionStats)
    slot_free: threading.Condition = field(default_factory=threading.Condition)


class LambdaService:
    """Runs deployed functions locally; ``invoke`` answers as the Lambda ``Invoke`` API does."""

    def __init__(
        self, endpoint: str, work_dir: Path, region: str = "us-east-1", max_concurrency: int = 8
    ) -> None:
        self._endpoint = endpoint
        self._region = region
        self._work_dir = work_dir
        self._max_concurrency = max_concurrency
        self._functions: dict[str, _Function] = {}
        self._lock = threading.Lock()
        self._async_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lambda-async")
        self._site = lambda_runtime_site(work_dir)
        self._closed = False

    def _client(self) -> Any:
        environment = emulator_environment(self._endpoint)
        return boto3.client(
            "lambda",
            endpoint_url=self._endpoint,
            region_name=self._region,
            aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
        )

    def register(self, function_name: str, zip_path: Path) -> FunctionConfig:
        """Read the deployed configuration and prepare to run ``zip_path`` as that function."""
        config = FunctionConfig.from_api(
            self._client().get_function_configuration(FunctionName=function_name)
        )
        if not zip_path.is_file():
            raise FileNotFoundError(f"{zip_path} not found: build the Lambda zips first")
        local_sha = code_sha256(zip_path)
        if local_sha != config.code_sha256:
            raise CodeMismatchError(
                f"{function_name} is deployed with CodeSha256 {config.code_sha256} but "
                f"{zip_path} has {local_sha}: rebuild and redeploy so the code that runs is the "
                "code that was deployed"
            )
        digest = base64.b64decode(local_sha).hex()[:16]
        code_dir = self._work_dir / "functions" / f"{config.name}-{digest}"
        if not code_dir.is_dir():
            staging = code_dir.with_name(code_dir.name + f".{uuid.uuid4().hex}")
            with zipfile.ZipFile(zip_path) as archive:
                archive.extractall(staging)
            staging.rename(code_dir)
        environment = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": str(code_dir),
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": config.log_group_name,
            **config.environment,
            # No X-Ray daemon runs here: Powertools' Tracer becomes a no-op instead of
            # importing the X-Ray SDK and discarding every segment it records.
            "POWERTOOLS_TRACE_DISABLED": "true",
            # As Lambda does: the execution role's temporary credentials, session named after
            # the function, so every call the function makes is authorised as its role.
            **role_environment(self._endpoint, config.role, config.name),
            "AWS_REGION": self._region,
            "AWS_DEFAULT_REGION": self._region,
        }
        with self._lock:
            previous = self._functions.get(config.name)
            if previous is not None:
                self._stop_function(previous)
            self._functions[config.name] = _Function(
                config=config,
                code_dir=code_dir,
                environment=environment,
                log_path=self._work_dir / "logs" / f"{config.name}.log",
            )
        return config

    def config(self, function_name: str) -> FunctionConfig:
        return self._function(function_name).config

    def stats(self) -> dict[str, FunctionStats]:
        with self._lock:
            return {name: function.stats for name, function in self._functions.items()}

    def worker_pids(self) -> list[int]:
        with self._lock:
            functions = list(self._functions.values())
        pids: list[int] = []
        for function in functions:
            with function.slot_free:
                pids.extend(w.pid for w in [*function.idle, *function.busy])
        return pids

    def _function(self, function_name: str) -> _Function:
        name = function_name.split(":")[6] if function_name.startswith("arn:") else function_name
        with self._lock:
            function = self._functions.get(name)
        if function is None:
            raise KeyError(f"function {name} is not registered with the local Lambda service")
        return function

    def _acquire(self, function: _Function) -> tuple[_Worker, bool]:
        with function.slot_free:
            while True:
                if self._closed:
                    raise ServiceStoppedError("the local Lambda service is stopped")
                while function.idle:
                    worker = function.idle.pop()
                    if worker.alive():
                        function.busy.add(worker)
                        return worker, False
                    worker.kill()
                if len(function.busy) < self._max_concurrency:
                    break
                function.slot_free.wait()
            log_stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
            worker = _Worker(
                function.config,
                function.code_dir,
                self._site,
                {**function.environment, "AWS_LAMBDA_LOG_STREAM_NAME": log_stream},
                function.log_path,
            )
            function.busy.add(worker)
            function.stats.cold_starts += 1
            return worker, True

    @staticmethod
    def _initialise(worker: _Worker, timeout_seconds: float) -> float:
        """Let a cold worker finish its Init phase; returns the invocation's deadline.

        Lambda limits Init to 10 s of its own, not counted in the function's timeout; an Init
        that takes longer is retried on the first invocation with the configured timeout, so
        here an overrun comes out of the invocation's time.
        """
        init_started = time.monotonic()
        worker.initialise(init_started + INIT_PHASE_SECONDS + timeout_seconds)
        initialised = time.monotonic()
        overrun = max(0.0, initialised - init_started - INIT_PHASE_SECONDS)
        return initialised + timeout_seconds - overrun

    def _release(self, function: _Function, worker: _Worker, keep: bool) -> None:
        with function.slot_free:
            function.busy.discard(worker)
            if keep and not self._closed:
                function.idle.append(worker)
            else:
                worker.kill()
            function.slot_free.notify()

    def invoke(self, function_name: str, payload: Any) -> InvocationResult:
        """A synchronous (``RequestResponse``) invocation."""
        function = self._function(function_name)
        config = function.config
        request_id = str(uuid.uuid4())
        worker, cold = self._acquire(function)
        fault = fault_plan.lambda_fault(
            config.name, payload
        )  # fault-injection hook (local_aws.fault_plan)
        keep = False
        try:
            deadline = self._initialise(worker, config.timeout_seconds)
            if fault is fault_plan.LambdaFault.TIMEOUT:
                deadline = time.monotonic()
            request = {
                "requestId": request_id,
                "event": payload,
                "deadlineMs": int((time.time() + deadline - time.monotonic()) * 1000),
                "functionName": config.name,
                "functionVersion": "$LATEST",
                "invokedFunctionArn": config.arn,
                "memoryLimitInMb": config.memory_mb,
                "logGroupName": config.log_group_name,
                "logStreamName": "local",
            }
            if fault is fault_plan.LambdaFault.CRASH_ON_ARRIVAL:  # fault-injection hook
                _kill_worker(worker)
            response = worker.invoke(request, deadline)
            if fault is fault_plan.LambdaFault.CRASH:  # fault-injection hook: answer lost
                _kill_worker(worker)
            keep = True
        except _WorkerTimedOutError:
            response = {
                "error": {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {request_id} Error: Task timed out after "
                    f"{config.timeout_seconds:.2f} seconds",
                }
            }
        except _WorkerCrashedError:
            response = {
                "error": {
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: "
                    f"exit status {worker.exit_status()}",
                }
            }
        finally:
            self._release(function, worker, keep)
        if self._closed and not keep:
            raise ServiceStoppedError(f"{config.name} was stopped during invocation {request_id}")
        failed = "error" in response
        with function.slot_free:
            function.stats.invocations += 1
            function.stats.errors += failed
            function.stats.timeouts += (
                response.get("error", {}).get("errorType") == "Sandbox.Timedout"
            )
            if failed:
                error = response["error"]
                function.stats.last_error = (
                    f"{error.get('errorType', 'Error')}: {error.get('errorMessage', '')}"
                )
        if failed:
            return InvocationResult(request_id, 200, response["error"], _UNHANDLED, cold_start=cold)
        return InvocationResult(request_id, 200, response.get("result"), cold_start=cold)

    def invoke_async(self, function_name: str, payload: Any) -> Future[InvocationResult]:
        """An ``Event`` invocation: queued, run in the background, retried, then dead-lettered."""
        function = self._function(function_name)

        def run() -> InvocationResult:
            for _ in range(1 + ASYNC_RETRIES):
                result = self.invoke(function_name, payload)
                if not result.function_error:
                    return result
                # Counted in the stats (errors, last error) that the runtime publishes.
                logger.debug("async invocation of %s failed: %s", function_name, result.payload)
            self._dead_letter(function, payload, result)
            return result

        return self._async_pool.submit(run)

    def _dead_letter(self, function: _Function, payload: Any, result: InvocationResult) -> None:
        """Send the event of a failed asynchronous invocation to the dead-letter queue (SQS),
        with the attributes Lambda adds (RequestID, ErrorCode, ErrorMessage), as the function's
        execution role: Lambda sends with the role's permissions, so an encrypted queue needs
        the role's KMS grant too."""
        target = function.config.dead_letter_target
        if target is None:
            return
        message = str(result.payload.get("errorMessage", "")) if result.payload else ""
        sent = False
        if target.split(":")[2] == "sqs":
            environment = role_environment(
                self._endpoint, function.config.role, function.config.name
            )
            sqs = boto3.client(
                "sqs",
                endpoint_url=self._endpoint,
                region_name=self._region,
                aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
                aws_session_token=environment["AWS_SESSION_TOKEN"],
            )
            try:
                # The URL from the ARN, as the service does: the role may only send.
                account, queue = target.split(":")[4:6]
                queue_url = f"{self._endpoint}/{account}/{queue}"
                sqs.send_message(
                    QueueUrl=queue_url,
                    MessageBody=json.dumps(payload),
                    MessageAttributes={
                        "RequestID": {"DataType": "String", "StringValue": result.request_id},
                        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                        "ErrorMessage": {
                            "DataType": "String",
                            "StringValue": message[:1024] or "-",
                        },
                    },
                )
                sent = True
            except (ClientError, BotoCoreError):
                logger.exception("dead-lettering %s to %s failed", function.config.name, target)
        else:
            logger.error("unsupported dead-letter target %s", target)
        with function.slot_free:
            if sent:
                function.stats.dead_letters += 1
            else:
                function.stats.dead_letter_errors += 1

    def _stop_function(self, function: _Function) -> None:
        with function.slot_free:
            workers = [*function.idle, *function.busy]
            function.idle.clear()
            function.slot_free.notify_all()
        for worker in workers:
            worker.kill()

    def stop(self) -> None:
        """Kill every worker; safe to call more than once."""
        self._closed = True
        self._async_pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            functions = list(self._functions.values())
        for function in functions:
            self._stop_function(function)
