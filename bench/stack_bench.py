"""Figures 5 and 6: ``make up`` seconds, and end-to-end tweets per second on the emulator.

``make up`` is ``trendstream_cli.stack.up`` into a fresh temporary state directory on a free
port (emulator start, ``terraform init`` with the offline provider mirror, ``apply``), so each
run pays what a fresh clone pays. ``down`` always follows.

End to end: on the last stack brought up, ``LocalRuntime`` runs the consumer's event source
mapping and the Firehose delivery stream (not the producer's schedule: the benchmark is the only
writer), the replayed tweets are put with ``PutRecords``, and the clock stops when the runtime's
own counters say the consumer stored every record and Firehose delivered every line. Both
counters move only after the write they count succeeded; the table and the lake are then read
back to confirm it, and a shortfall turns the figure into "n/a". Firehose buffers are flushed
once the consumer is done, so the 60 s buffering interval of the local stack does not become
the figure.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.dataset import StreamRecordBytes
from bench.figures import Figure, Spread, unavailable
from local_aws.runtime import LocalRuntime, client_factory
from producer.kinesis_writer import KinesisWriter, OutgoingRecord
from trendstream_cli.lake_objects import lake_rows
from trendstream_cli.stack import StackPaths, down, running_endpoint, up
from tweet_record.lake import TWEETS_PREFIX

logger = logging.getLogger(__name__)

E2E_DEADLINE_SECONDS = 300.0
E2E_WARM_UP_SHARE = 20
"""1/20 of the end-to-end tweets (500 of 10,000) warm the pipeline up before the clock starts."""
POLL_SECONDS = 0.2
APPLY_FINISHED = "terraform apply finished in %.1fs"
UP_KEY = "make_up_seconds"
UP_TITLE = "make up: emulator start + terraform init + apply (fresh state dir)"
E2E_KEY = "end_to_end_tweets_per_second"


@dataclass
class UpTiming:
    total: float
    emulator: float
    apply: float

    @property
    def init_and_outputs(self) -> float:
        return self.total - self.emulator - self.apply


class _StackLog(logging.Handler):
    """Picks the emulator start and the apply duration out of the stack's own log lines."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.emulator_ready_at: float | None = None
        self.apply_seconds: float | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == APPLY_FINISHED and isinstance(record.args, tuple) and record.args:
            self.apply_seconds = float(str(record.args[0]))
        elif record.getMessage().startswith("emulator pid") and "ready" in record.getMessage():
            self.emulator_ready_at = time.monotonic()


@contextmanager
def _capturing_stack_log() -> Iterator[_StackLog]:
    handler = _StackLog()
    loggers = [
        logging.getLogger(name) for name in ("trendstream_cli.stack", "local_aws.moto_server")
    ]
    previous = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        for logger, level in zip(loggers, previous, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def timed_up(paths: StackPaths) -> tuple[dict[str, Any], UpTiming]:
    with _capturing_stack_log() as log:
        started = time.monotonic()
        outputs = up(paths, 0)
        total = time.monotonic() - started
    emulator = (log.emulator_ready_at or started) - started
    return outputs, UpTiming(total, emulator, log.apply_seconds or 0.0)


@dataclass
class EndToEnd:
    tweets: int
    seconds: float
    put_seconds: float
    consumer_seconds: float
    shards: int
    consumer_invocations: int
    firehose_invocations: int
    table_items: int
    lake_pairs: int
    cpu: CpuSplit

    @property
    def rate(self) -> float:
        return self.tweets / self.seconds


@dataclass
class CpuSplit:
    """CPU seconds each part of the local pipeline spent during an end-to-end run."""

    emulator: float
    functions: float
    runtime: float

    def per_tweet_ms(self, tweets: int) -> str:
        return (
            f"CPU per tweet: emulator {self.emulator / tweets * 1000:.2f} ms, "
            f"functions {self.functions / tweets * 1000:.2f} ms, "
            f"runtime + writer {self.runtime / tweets * 1000:.2f} ms"
        )


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` from ``/proc`` (0 when it has exited or is unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    except (FileNotFoundError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """Samples the emulator, the function workers and this process before and after a run."""

    def __init__(self, emulator_pid: int | None, worker_pids: Callable[[], list[int]]) -> None:
        self._emulator_pid = emulator_pid
        self._worker_pids = worker_pids
        self._emulator = 0.0
        self._workers: dict[int, float] = {}
        self._runtime = 0.0

    def _emulator_now(self) -> float:
        return 0.0 if self._emulator_pid is None else process_cpu_seconds(self._emulator_pid)

    def start(self) -> None:
        self._emulator = self._emulator_now()
        self._workers = {pid: process_cpu_seconds(pid) for pid in self._worker_pids()}
        self._runtime = time.process_time()

    def stop(self) -> CpuSplit:
        workers = sum(
            process_cpu_seconds(pid) - self._workers.get(pid, 0.0) for pid in self._worker_pids()
        )
        return CpuSplit(
            emulator=self._emulator_now() - self._emulator,
            functions=workers,
            runtime=time.process_time() - self._runtime,
        )


def _wait(
    condition: Callable[[], bool], deadline: float, what: str, progress: Callable[[], str]
) -> None:
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{progress()} after {E2E_DEADLINE_SECONDS:.0f} s ({what})")
        time.sleep(POLL_SECONDS)


def table_tweet_items(dynamodb: Any, table_name: str) -> int:
    count = 0
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=table_name,
        Select="COUNT",
        FilterExpression="begins_with(sk, :tweet)",
        ExpressionAttributeValues={":tweet": {"S": "TWEET#"}},
    ):
        count += page["Count"]
    return count


def lake_pairs(s3: Any, bucket: str) -> set[tuple[str, str]]:
    """Distinct (topic, tweet_id) of every row under ``tweets/`` (Firehose may repeat rows)."""
    pairs: set[tuple[str, str]] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=TWEETS_PREFIX):
        for listed in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read()
            pairs.update((row["topic"], row["tweet_id"]) for row in lake_rows(body))
    return pairs


def end_to_end(
    outputs: dict[str, Any],
    endpoint: str,
    build_dir: Path,
    state_dir: Path,
    records: Sequence[StreamRecordBytes],
    *,
    emulator_pid: int | None = None,
    warm_up: int = 0,
) -> EndToEnd:
    """Put ``records`` on the deployed stream and time them into the table and the lake.

    The first ``warm_up`` records go through untimed, so the figure is a running pipeline's
    rate rather than six function cold starts (~0.5 s of CPU each) spread over the batch.
    """
    runtime_outputs = {k: v for k, v in outputs.items() if k != "producer_function_name"}
    clients = client_factory(endpoint)
    expected = {(record.topic, record.tweet_id) for record in records}
    with LocalRuntime(runtime_outputs, endpoint, build_dir, state_dir) as runtime:
        firehose = runtime.firehose
        if firehose is None:
            raise RuntimeError("the stack has no Firehose delivery stream")

        def consumed() -> int:
            return sum(mapping.stats.records_succeeded for mapping in runtime.mappings)

        writer = KinesisWriter(str(outputs["stream_name"]), lambda: clients("kinesis"))

        def put(batch: Sequence[StreamRecordBytes]) -> None:
            for record in batch:
                writer.add(OutgoingRecord(record.partition_key, record.data, record.topic))
                writer.send_full_batches()
            writer.flush()
            if writer.stats.failed:
                raise RuntimeError(f"{writer.stats.failed} records were not put on the stream")

        def progress() -> str:
            return (
                f"{consumed():,} consumed, {firehose.stats.records_delivered:,} in the lake "
                f"of {len(records):,}"
            )

        def drained(target: int, deadline: float) -> float:
            """Wait until ``target`` records are in the table, then in the lake; return when
            the table had them (``time.monotonic``)."""

            def all_consumed() -> bool:
                discarded = sum(mapping.stats.records_discarded for mapping in runtime.mappings)
                if discarded:
                    raise RuntimeError(
                        f"the consumer gave up on {discarded:,} records; {progress()}"
                    )
                return consumed() >= target

            def delivered() -> bool:
                runtime.flush()
                return firehose.stats.records_delivered >= target

            _wait(all_consumed, deadline, "consumer", progress)
            consumed_at = time.monotonic()
            _wait(delivered, deadline, "Firehose", progress)
            return consumed_at

        warm, timed = records[:warm_up], records[warm_up:]
        if warm:  # start every worker first: a running stack is warm, a fresh one pays once
            put(warm)
            drained(len(warm), time.monotonic() + E2E_DEADLINE_SECONDS)
        lambda_service = runtime.lambda_service
        meter = CpuMeter(emulator_pid, lambda_service.worker_pids if lambda_service else list)
        meter.start()
        started = time.monotonic()
        put(timed)
        put_seconds = time.monotonic() - started
        consumer_seconds = drained(len(records), started + E2E_DEADLINE_SECONDS) - started
        seconds = time.monotonic() - started
        cpu = meter.stop()
        invocations = sum(mapping.stats.invocations for mapping in runtime.mappings)
        shards = sum(len(mapping.pollers) for mapping in runtime.mappings)
        transformer_calls = firehose.stats.processor_invocations
    stored = table_tweet_items(clients("dynamodb"), str(outputs["table_name"]))
    in_lake = lake_pairs(clients("s3"), str(outputs["lake_bucket"]))
    if stored != len(expected) or in_lake != expected:
        raise RuntimeError(
            f"counters said done but the table holds {stored} and the lake "
            f"{len(in_lake & expected)} of {len(expected)} (topic, tweet) pairs"
        )
    return EndToEnd(
        tweets=len(records) - warm_up,
        seconds=seconds,
        put_seconds=put_seconds,
        consumer_seconds=consumer_seconds,
        shards=shards,
        consumer_invocations=invocations,
        firehose_invocations=transformer_calls,
        table_items=stored,
        lake_pairs=len(in_lake),
        cpu=cpu,
    )


def _pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text(encoding="utf-8").strip())
    except (FileNotFoundError, ValueError):
        return None


def _reason(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"[:200]


def stack_figures(
    build_dir: Path, records: Sequence[StreamRecordBytes], up_runs: int
) -> list[Figure]:
    """``up_runs`` fresh ``make up``s (each followed by ``down``); the last one runs end to end."""
    warm_up = len(records) // E2E_WARM_UP_SHARE
    e2e_title = (
        f"end to end, stream → table + lake ({len(records) - warm_up:,} tweets "
        f"after {warm_up:,} to warm up)"
    )
    timings: list[UpTiming] = []
    e2e: EndToEnd | None = None
    e2e_failure = "the stack never came up"
    up_failure = ""
    for run in range(up_runs):
        state_dir = Path(tempfile.mkdtemp(prefix="trendstream-bench-stack-"))
        paths = StackPaths(state_dir)
        try:
            outputs, timing = timed_up(paths)
            timings.append(timing)
            endpoint = running_endpoint(paths)
            if run == up_runs - 1 and endpoint is not None:
                try:
                    e2e = end_to_end(
                        outputs,
                        endpoint,
                        build_dir,
                        state_dir / "runtime",
                        records,
                        emulator_pid=_pid(paths.pid_file),
                        warm_up=warm_up,
                    )
                except Exception as error:  # any failure is a row, not a crash
                    logger.warning("end-to-end run failed", exc_info=True)
                    e2e_failure = _reason(error)
        except Exception as error:  # a failed apply must not hide the other figures
            logger.warning("make up failed", exc_info=True)
            up_failure = _reason(error)
            break
        finally:
            try:
                down(paths)
            finally:
                shutil.rmtree(state_dir, ignore_errors=True)
    figures: list[Figure] = []
    if timings:
        figures.append(
            Figure(
                UP_KEY,
                UP_TITLE,
                "s",
                Spread.of([timing.total for timing in timings]),
                baseline=(
                    "of which emulator "
                    f"{Spread.of([t.emulator for t in timings]).median:.1f} s, apply "
                    f"{Spread.of([t.apply for t in timings]).median:.1f} s, init + outputs "
                    f"{Spread.of([t.init_and_outputs for t in timings]).median:.1f} s"
                ),
                details={"runs": [timing.__dict__ for timing in timings]},
            )
        )
    else:
        figures.append(unavailable(UP_KEY, UP_TITLE, "s", up_failure or "not run"))
    if e2e is None:
        figures.append(unavailable(E2E_KEY, e2e_title, "tweets/s", e2e_failure))
    else:
        figures.append(
            Figure(
                E2E_KEY,
                e2e_title,
                "tweets/s",
                Spread.of([e2e.rate]),
                baseline=(
                    f"{e2e.seconds:.1f} s in all: PutRecords done at {e2e.put_seconds:.1f} s, "
                    f"table at {e2e.consumer_seconds:.1f} s; {e2e.shards} shard(s), "
                    f"{e2e.consumer_invocations} consumer and "
                    f"{e2e.firehose_invocations} transformer invocations; "
                    f"{e2e.cpu.per_tweet_ms(e2e.tweets)}"
                ),
                details={**e2e.__dict__, "cpu": e2e.cpu.__dict__},
            )
        )
    return figures
