"""The local runtime: what AWS would run around the deployed stack, composed in one object.

``LocalRuntime`` reads the deployed stack from the emulator (given the Terraform outputs) and
runs, each on its own thread:

* the Lambda service (:mod:`local_aws.lambda_service`) hosting the built zips;
* every Kinesis event source mapping of the consumer, one poller thread per shard
  (:mod:`local_aws.event_source_mapping`);
* the Firehose delivery stream with its transformer (:mod:`local_aws.firehose`);
* the EventBridge schedule of the producer (:mod:`local_aws.eventbridge`);
* the read API's HTTP API on loopback, on ``api_port`` (0: any free port; the CLI passes
  ``LOCAL_API_PORT``, :mod:`local_aws.apigateway`).

Time: schedules, batching windows and buffer intervals follow ``clock`` (``clock_speed`` > 1
runs them faster for a demo); records' ages, function timeouts and retry back-off are real time
(see :mod:`local_aws.clock`).

``stop()`` ends every thread and kills every worker process; it runs on exit from
``with LocalRuntime(...)`` (Ctrl-C included) and at interpreter exit, and a
worker whose runtime died anyway (SIGKILL) exits by itself, so no worker process outlives the
runtime. ``stop()`` does not flush Firehose: call ``flush()`` first to deliver what its buffers
hold (what AWS would deliver once the buffer interval elapsed). Checkpoints are kept in
``state_dir`` and survive a restart; each belongs to the incarnation of the resource it was made
for (see :mod:`local_aws.kinesis_reader`), so a new stack with the same names starts clean.

One runtime per stack: ``start()`` takes an exclusive ``flock`` on ``state_dir/runtime.lock`` and
refuses to run beside another holder (AWS runs one event source mapping and one delivery stream
per resource; two runtimes would deliver every record twice). ``start_with_producer_run`` invokes
the producer once when the runtime starts, as a deployment kicks it off, instead of waiting one
schedule period. Invocations, errors, throttles and dead-letter errors are published to
CloudWatch as ``AWS/Lambda`` metrics per function, and each failure's message to the function's
log group, where ``trendstream status`` (and the alarms) read them, on AWS and locally alike.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import boto3
import urllib3
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

from local_aws.apigateway import HttpApiServer
from local_aws.clock import Clock, SystemClock
from local_aws.event_source_mapping import KinesisEventSourceMapping, mappings_for_function
from local_aws.eventbridge import EventBridgeScheduler
from local_aws.firehose import FirehoseDeliveryStream, describe_delivery_stream
from local_aws.lambda_service import (
    CodeMismatchError,
    LambdaService,
    ServiceStoppedError,
    code_sha256,
)
from local_aws.moto_server import emulator_environment, role_environment
from local_aws.stack_functions import stack_functions

if TYPE_CHECKING:
    from botocore.credentials import Credentials

logger = logging.getLogger(__name__)

REGION = "us-east-1"
_IDLE_WAIT_SECONDS = 0.1
_ERROR_BACKOFF_SECONDS = 1.0
METRICS_PERIOD_SECONDS = 2.0
"""Real seconds between two publications of the functions' metrics."""
_METRICS = {
    "invocations": "Invocations",
    "errors": "Errors",
    "throttles": "Throttles",
    "dead_letter_errors": "DeadLetterErrors",
}
_UNREACHABLE = (EndpointConnectionError, ConnectionClosedError, urllib3.exceptions.HTTPError)


class EmulatorClients:
    """boto3 clients for the emulator, one per service (low-level clients are thread safe), and
    the credentials of the session they come from."""

    def __init__(self, endpoint: str, session: boto3.session.Session) -> None:
        self._endpoint = endpoint
        self._session = session
        self._lock = threading.Lock()
        self._made: dict[str, Any] = {}

    def __call__(self, service: str) -> Any:
        with self._lock:
            if service not in self._made:
                self._made[service] = self._session.client(service, endpoint_url=self._endpoint)  # type: ignore[call-overload]
            return self._made[service]

    def credentials(self) -> Credentials:
        credentials = self._session.get_credentials()
        if credentials is None:
            raise RuntimeError("the emulator session has no credentials")
        return credentials


def client_factory(
    endpoint: str, region: str = REGION, environment: Mapping[str, str] | None = None
) -> EmulatorClients:
    """Clients with the admin's credentials unless ``environment`` holds others
    (``role_environment``)."""
    environment = environment or emulator_environment(endpoint)
    session = boto3.session.Session(
        aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=environment.get("AWS_SESSION_TOKEN"),
        region_name=region,
    )
    return EmulatorClients(endpoint, session)


class RuntimeAlreadyRunningError(RuntimeError):
    """Another local runtime holds this stack's lock."""


class InstanceLock:
    """An exclusive ``flock`` on a file that also says who holds it (pid, since when).

    The kernel releases the lock when its holder exits, however it exits: no stale pid file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode(errors="replace")
            os.close(fd)
            raise RuntimeAlreadyRunningError(
                f"another local runtime is already running on this stack ({_describe(holder)}); "
                f"stop it first (lock: {self.path})"
            ) from None
        os.ftruncate(fd, 0)
        since = datetime.now(UTC).isoformat(timespec="seconds")
        os.write(fd, json.dumps({"pid": os.getpid(), "since": since}).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _describe(holder: str) -> str:
    try:
        record = json.loads(holder)
        return f"pid {int(record['pid'])}, since {record['since']}"
    except (ValueError, KeyError, TypeError):
        return "its pid not yet written"


class LocalRuntime:
    """Schedule, event source mapping and Firehose delivery for the stack Terraform deployed."""

    def __init__(
        self,
        outputs: Mapping[str, Any],
        endpoint: str,
        build_dir: Path,
        state_dir: Path,
        *,
        clock_speed: float = 1.0,
        clock: Clock | None = None,
        start_with_producer_run: bool = False,
        api_port: int = 0,
    ) -> None:
        self._outputs = {
            k: (v.get("value") if isinstance(v, dict) else v) for k, v in outputs.items()
        }
        self._endpoint = endpoint
        self._build_dir = build_dir
        self._state_dir = state_dir
        self.clock: Clock = clock or SystemClock(clock_speed)
        self._clients = client_factory(endpoint)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started = False
        self.lambda_service: LambdaService | None = None
        self.mappings: list[KinesisEventSourceMapping] = []
        self.firehose: FirehoseDeliveryStream | None = None
        self.scheduler: EventBridgeScheduler | None = None
        self.api: HttpApiServer | None = None  # the read API on loopback, on api_port
        self._loop_errors = 0
        self._start_with_producer_run = start_with_producer_run
        self._api_port = api_port
        self.producer_runs_at_start = 0
        self._lock = InstanceLock(state_dir / "runtime.lock")
        self._published: dict[str, dict[str, int]] = {}
        self.unreachable_since: float | None = None
        self.last_loop_error = ""

    def __enter__(self) -> LocalRuntime:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _output(self, name: str) -> str:
        value = self._outputs.get(name)
        if not value:
            raise KeyError(f"Terraform output {name!r} is missing")
        return str(value)

    def _deployed_zip(self, function_name: str, zips: Mapping[str, Path]) -> Path:
        """The built zip holding the code Terraform deployed as the function (by CodeSha256)."""
        deployed = self._clients("lambda").get_function_configuration(FunctionName=function_name)
        zip_path = zips.get(deployed["CodeSha256"])
        if zip_path is None:
            raise CodeMismatchError(
                f"{function_name} is deployed with CodeSha256 {deployed['CodeSha256']}, which no "
                f"zip in {self._build_dir} has: rebuild and redeploy so the code that runs is the "
                "code that was deployed"
            )
        return zip_path

    def start(self) -> None:
        """Read the deployed stack, start the workers' service and every poller thread."""
        if self._started:
            return
        self._lock.acquire()
        self._started = True
        atexit.register(self.stop)
        try:
            self._compose()
        except BaseException:
            self.stop()
            raise
        if self._start_with_producer_run:
            self._run_producer_once()
        for mapping in self.mappings:
            for poller in mapping.pollers:
                self._spawn(f"esm-{poller.shard_id}", poller.poll_once, poller.retry_delay)
        if self.firehose is not None:
            self._spawn("firehose", self.firehose.poll_once)
        if self.scheduler is not None:
            self._spawn_scheduler(self.scheduler)
        self._spawn_metrics()

    def _run_producer_once(self) -> None:
        """One asynchronous producer run now, as a deployment kicks the producer off."""
        producer = self._outputs.get("producer_function_name")
        if producer and self.lambda_service is not None:
            self.lambda_service.invoke_async(str(producer), {"source": "trendstream.local.start"})
            self.producer_runs_at_start += 1

    def _compose(self) -> None:
        self.lambda_service = LambdaService(self._endpoint, self._state_dir, REGION)
        zips = built_zips(self._build_dir)
        for function in stack_functions(self._outputs):
            self.lambda_service.register(function.name, self._deployed_zip(function.name, zips))
        if self._outputs.get("api_id") and self._outputs.get("api_function_name"):
            self.api = HttpApiServer.for_lambda_service(
                self._clients, self._output("api_id"), self.lambda_service, self._api_port
            ).start()
        consumer = self._outputs.get("consumer_function_name")
        if consumer:
            # As AWS does, the mapping reads the stream and sends to its on-failure
            # destination with the function's execution role.
            consumer_role = self.lambda_service.config(str(consumer)).role
            for mapping_config in mappings_for_function(self._clients("lambda"), str(consumer)):
                mapping = KinesisEventSourceMapping(
                    mapping_config,
                    self.lambda_service,
                    self._role_clients(consumer_role, f"esm-{mapping_config.uuid}"),
                    state_dir=self._state_dir,
                    clock=self.clock,
                    region=REGION,
                )
                mapping.open()
                self.mappings.append(mapping)
        stream_name = self._outputs.get("delivery_stream_name")
        if stream_name:
            # Firehose reads the stream, invokes the transformer and writes the lake with the
            # delivery stream's role.
            self.firehose = FirehoseDeliveryStream(
                describe_delivery_stream(self._clients("firehose"), str(stream_name)),
                self.lambda_service,
                self._role_clients(
                    _delivery_role(self._clients("firehose"), str(stream_name)),
                    f"firehose-{stream_name}",
                ),
                state_dir=self._state_dir,
                clock=self.clock,
                region=REGION,
            )
            self.firehose.open()
        producer = self._outputs.get("producer_function_name")
        if producer:
            producer_arn = self.lambda_service.config(str(producer)).arn
            events = self._clients("events")
            self.scheduler = EventBridgeScheduler(
                events,
                self.lambda_service.invoke_async,
                self.clock,
                REGION,
                rule_filter=lambda rule: _targets(events, rule["Name"], producer_arn),
            )

    def _role_clients(self, role_arn: str, session_name: str) -> EmulatorClients:
        environment = role_environment(self._endpoint, role_arn, session_name)
        return client_factory(self._endpoint, REGION, environment)

    def _spawn(
        self, name: str, step: Callable[[], bool], delay: Callable[[], float] | None = None
    ) -> None:
        def loop() -> None:
            repeated: str | None = None
            while not self._stop.is_set():
                try:
                    worked = step()
                except ServiceStoppedError:
                    return
                except _UNREACHABLE as error:
                    self._unreachable(error)
                    self._stop.wait(_ERROR_BACKOFF_SECONDS)
                    continue
                except Exception as error:
                    # The traceback once; the same failure again only counts (and shows in stats).
                    failure = f"{name}: {type(error).__name__}: {error}"
                    self._loop_errors += 1
                    self.last_loop_error = failure
                    if failure != repeated:
                        logger.exception("%s step failed; retrying", name)
                    repeated = failure
                    self._stop.wait(_ERROR_BACKOFF_SECONDS)
                    continue
                repeated = None
                if not worked:
                    self._stop.wait(_IDLE_WAIT_SECONDS)
                elif delay is not None and delay() > 0:
                    self._stop.wait(delay())

        thread = threading.Thread(target=loop, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _unreachable(self, error: Exception) -> None:
        """Count a step that could not reach the emulator and note since when (for the caller
        to report once): every thread meets it at once, and a traceback per thread per second
        would say nothing more."""
        self._loop_errors += 1
        self.unreachable_since = self.unreachable_since or time.time()
        logger.debug("cannot reach the emulator at %s: %s", self._endpoint, error)

    def _spawn_scheduler(self, scheduler: EventBridgeScheduler) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    scheduler.poll_once()
                except ServiceStoppedError:
                    return
                except _UNREACHABLE as error:
                    self._unreachable(error)
                except Exception:
                    self._loop_errors += 1
                    logger.exception("schedule step failed; retrying")
                self.clock.wait(min(scheduler.seconds_until_next(), 1.0), self._stop)

        thread = threading.Thread(target=loop, name="eventbridge", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _spawn_metrics(self) -> None:
        def loop() -> None:
            while not self._stop.wait(METRICS_PERIOD_SECONDS):
                try:
                    self.publish_metrics()
                except _UNREACHABLE as error:
                    self._unreachable(error)
                except Exception:
                    self._loop_errors += 1
                    logger.exception("publishing the functions' metrics failed; retrying")

        thread = threading.Thread(target=loop, name="metrics", daemon=True)
        thread.start()
        self._threads.append(thread)

    def publish_metrics(self) -> None:
        """Put what the functions did since the last call as ``AWS/Lambda`` metrics, and each
        new failure's message as a log event in the function's log group, as Lambda does."""
        if self.lambda_service is None:
            return
        cloudwatch = self._clients("cloudwatch")
        now = datetime.now(UTC)
        for name, stats in self.lambda_service.stats().items():
            current = asdict(stats)
            previous = self._published.get(name, {})
            data = [
                {
                    "MetricName": metric,
                    "Dimensions": [{"Name": "FunctionName", "Value": name}],
                    "Timestamp": now,
                    "Value": float(current[field] - previous.get(field, 0)),
                    "Unit": "Count",
                }
                for field, metric in _METRICS.items()
                if current[field] > previous.get(field, 0)
            ]
            if data:
                cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=data)
            if current["errors"] > previous.get("errors", 0) and stats.last_error:
                self._log_error(name, stats.last_error, now)
            self._published[name] = {field: current[field] for field in _METRICS}

    def _log_error(self, function_name: str, message: str, now: datetime) -> None:
        logs = self._clients("logs")
        group = f"/aws/lambda/{function_name}"
        stream = f"{now:%Y/%m/%d}/[$LATEST]local-runtime"
        try:
            with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                logs.create_log_stream(logGroupName=group, logStreamName=stream)
            logs.put_log_events(
                logGroupName=group,
                logStreamName=stream,
                logEvents=[{"timestamp": int(time.time() * 1000), "message": f"[ERROR] {message}"}],
            )
        except logs.exceptions.ResourceNotFoundException:
            logger.debug("no log group %s: the error is not logged there", group)

    def flush(self) -> None:
        """Deliver what Firehose holds in its buffers now instead of when the intervals elapse."""
        if self.firehose is not None:
            self.firehose.flush()

    def stop(self) -> None:
        """Stop every thread and worker process; safe to call more than once."""
        self._stop.set()
        if self.api is not None:
            self.api.stop()
        if self.lambda_service is not None:
            self.lambda_service.stop()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()
        if self._started and self.lambda_service is not None and self.unreachable_since is None:
            with contextlib.suppress(Exception):
                self.publish_metrics()
        self._lock.release()
        atexit.unregister(self.stop)

    def stats(self) -> dict[str, Any]:
        """Counters for a live display."""
        consumed = sum(m.stats.records_succeeded for m in self.mappings)
        discarded = sum(m.stats.records_discarded for m in self.mappings)
        consumer_lag: dict[str, int] = {}
        for mapping in self.mappings:
            consumer_lag.update(mapping.stats.millis_behind_latest)
        firehose_stats = self.firehose.stats if self.firehose is not None else None
        functions = (
            {name: asdict(stats) for name, stats in self.lambda_service.stats().items()}
            if self.lambda_service is not None
            else {}
        )
        return {
            "produced": self._produced(),
            "consumed": consumed,
            "consumer_discarded": discarded,
            "delivered": firehose_stats.records_delivered if firehose_stats else 0,
            "dropped": firehose_stats.records_dropped if firehose_stats else 0,
            "processing_failed": firehose_stats.records_failed if firehose_stats else 0,
            "objects_written": firehose_stats.objects_written if firehose_stats else 0,
            "iterator_lag_ms": {
                "consumer": consumer_lag,
                "firehose": dict(firehose_stats.millis_behind_latest) if firehose_stats else {},
            },
            "functions": functions,
            "scheduled_events": self.scheduler.events_fired if self.scheduler else 0,
            "producer_runs_at_start": self.producer_runs_at_start,
            "next_scheduled_run_in": self._next_run_in(),
            "loop_errors": self._loop_errors,
            "last_loop_error": self.last_loop_error,
        }

    def _next_run_in(self) -> float | None:
        """Real seconds until the schedule next fires (None without a schedule)."""
        if self.scheduler is None or not self.scheduler.rules:
            return None
        return self.scheduler.seconds_until_next() / self.clock.speed

    def _produced(self) -> int:
        """Records put to the stream, from the stream's CloudWatch ``IncomingRecords`` metric."""
        stream_name = self._outputs.get("stream_name")
        if not stream_name:
            return 0
        now = datetime.now(UTC)
        response = self._clients("cloudwatch").get_metric_statistics(
            Namespace="AWS/Kinesis",
            MetricName="IncomingRecords",
            Dimensions=[{"Name": "StreamName", "Value": str(stream_name)}],
            StartTime=now - timedelta(days=14),
            EndTime=now + timedelta(minutes=5),
            Period=86400 * 15,
            Statistics=["Sum"],
        )
        return int(sum(point.get("Sum", 0) for point in response.get("Datapoints", [])))


def built_zips(build_dir: Path) -> dict[str, Path]:
    """The zips in ``build_dir`` by their ``CodeSha256``: a deployed function's code is found by
    its hash, as Lambda names it, not by a list of file names kept beside the outputs."""
    if not build_dir.is_dir():
        raise FileNotFoundError(f"{build_dir} not found: build the Lambda zips first (make build)")
    return {code_sha256(path): path for path in sorted(build_dir.glob("*.zip"))}


def _delivery_role(firehose: Any, name: str) -> str:
    """The role of the delivery stream's S3 destination (Terraform gives its source the same)."""
    description = firehose.describe_delivery_stream(DeliveryStreamName=name)
    destination = description["DeliveryStreamDescription"]["Destinations"][0]
    s3 = destination.get("ExtendedS3DestinationDescription") or destination.get(
        "S3DestinationDescription", {}
    )
    return str(s3["RoleARN"])


def _targets(events: Any, rule_name: str, function_arn: str) -> bool:
    targets = events.list_targets_by_rule(Rule=rule_name)["Targets"]
    return any(target["Arn"].split(":")[:7] == function_arn.split(":")[:7] for target in targets)
