"""The fault-injection seam: a deterministic fault plan for the emulator and the local runtime.

Set ``TRENDSTREAM_FAULTS`` to the path of a JSON fault plan before starting the emulator
(:mod:`local_aws.moto_server` passes its environment on) and the runtime
(:class:`local_aws.runtime.LocalRuntime` reads it in-process). Without the variable nothing is
patched and every hook is a no-op. Faults fire on counters, never at random, so a failing run
reproduces with the same plan. Every section is optional::

    {
      "dynamodb": {"throttle_every": 11, "max": 40},
      "kinesis": {"put_records_fail_every": 9, "max": 200},
      "lambda": {
        "consumer": {"crash_at_invocations": [5], "crash_on_partition_keys": []},
        "firehose-transformer": {"timeout_at_invocations": [2]}
      },
      "event_source_mapping": {"redeliver_batch_at_invocations": [8]}
    }

Emulator side (:mod:`local_aws.moto_patches.faults`):

* ``dynamodb.throttle_every`` N: every Nth DynamoDB write call (``PutItem`` and ``UpdateItem``,
  the only writes the stack makes: the consumer's puts and stats updates, and the producer's
  checkpoint updates) is refused with ``ProvisionedThroughputExceededException`` (HTTP 400,
  nothing written), the error botocore retries and then raises.
* ``kinesis.put_records_fail_every`` N: every Nth ``PutRecords`` entry (counted over all calls) is
  not written and answered with ``ErrorCode: ProvisionedThroughputExceededException`` (HTTP 200,
  ``FailedRecordCount`` set). A given record (partition key + data) is failed at most once, so a
  producer's bounded resend always lands it: the fault exercises the resend path without
  turning into data loss that would only test the retry budget.
* ``max`` in a section caps how many faults of that section fire in all (absent: no cap).

A key the plan does not know, in any section, is an error: a misspelt fault never silently
does nothing.

Runtime side (hooks in :mod:`local_aws.lambda_service` and
:mod:`local_aws.event_source_mapping`):

* ``lambda.<function>`` (the function name, or its suffix after ``-``, e.g. ``consumer``)
  counts that function's invocations from 1. ``crash_at_invocations``: the worker process is
  SIGKILLed once the handler has finished (its writes are done) but before its answer is read,
  so the service reports ``Runtime.ExitError`` and the caller retries a batch whose effects
  already landed: the worst case for exactly-once. ``timeout_at_invocations``: the
  invocation's deadline is cut to zero, so the service's own timeout path fires (worker killed,
  ``Sandbox.Timedout``) and the caller (Firehose) retries per its settings.
  ``crash_on_partition_keys``: every invocation whose Kinesis event holds a record with one of
  these partition keys kills the worker before it starts (nothing done, ``Runtime.ExitError``):
  a batch that can never succeed, so the event source mapping bisects it, exhausts its retries
  and sends the on-failure record for the part it gives up.
* ``event_source_mapping.redeliver_batch_at_invocations``: the first successful invocation at or
  after each listed mapping invocation number is followed by the same batch again, as AWS may
  deliver a batch twice.

Fired faults are counted per kind and written, after each one, to
``<plan>.<side>-fired.json`` beside the plan; :func:`read_fired` sums both sides, so a test can
check that every configured fault really fired.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

ENVIRONMENT_VARIABLE = "TRENDSTREAM_FAULTS"
THROTTLE_CODE = "ProvisionedThroughputExceededException"

# Fault kinds as counted in the fired files.
DYNAMODB_THROTTLE = "dynamodb.throttle"
KINESIS_FAILED_ENTRIES = "kinesis.put_records_failed_entries"
LAMBDA_CRASH = "lambda.crash"
LAMBDA_TIMEOUT = "lambda.timeout"
LAMBDA_CRASH_ON_ARRIVAL = "lambda.crash_on_arrival"
ESM_REDELIVERY = "event_source_mapping.redelivered_batches"


class FaultPlanError(ValueError):
    """The fault plan is not valid JSON of the documented shape."""


class LambdaFault(Enum):
    CRASH = "crash"
    CRASH_ON_ARRIVAL = "crash_on_arrival"
    TIMEOUT = "timeout"


def _non_negative_int(section: Mapping[str, Any], name: str, where: str) -> int:
    value = section.get(name, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise FaultPlanError(f"{where}.{name} must be a non-negative integer, got {value!r}")
    return value


def _optional_max(section: Mapping[str, Any], where: str) -> int | None:
    if "max" not in section:
        return None
    return _non_negative_int(section, "max", where)


def _invocations(section: Mapping[str, Any], name: str, where: str) -> frozenset[int]:
    value = section.get(name, [])
    if not isinstance(value, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in value
    ):
        raise FaultPlanError(f"{where}.{name} must be a list of invocation numbers (from 1)")
    return frozenset(value)


def _section(
    document: Mapping[str, Any], name: str, known: frozenset[str] | None = None
) -> Mapping[str, Any]:
    section = document.get(name, {})
    if not isinstance(section, dict):
        raise FaultPlanError(f"{name} must be an object")
    unknown = set(section) - known if known is not None else set()
    if unknown:
        raise FaultPlanError(f"unknown keys in {name}: {sorted(unknown)}")
    return section


@dataclass(frozen=True)
class DynamoDBFaults:
    throttle_every: int = 0
    max: int | None = None


@dataclass(frozen=True)
class KinesisFaults:
    put_records_fail_every: int = 0
    max: int | None = None


@dataclass(frozen=True)
class FunctionFaults:
    crash_at_invocations: frozenset[int] = frozenset()
    timeout_at_invocations: frozenset[int] = frozenset()
    crash_on_partition_keys: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FaultPlan:
    """The parsed plan; :meth:`parse` validates it so a typo fails loudly, not silently."""

    dynamodb: DynamoDBFaults = field(default_factory=DynamoDBFaults)
    kinesis: KinesisFaults = field(default_factory=KinesisFaults)
    functions: Mapping[str, FunctionFaults] = field(default_factory=dict)
    redeliver_batch_at_invocations: frozenset[int] = frozenset()

    @classmethod
    def parse(cls, document: Any) -> FaultPlan:
        if not isinstance(document, dict):
            raise FaultPlanError("a fault plan is a JSON object")
        known = {"dynamodb", "kinesis", "lambda", "event_source_mapping"}
        unknown = set(document) - known
        if unknown:
            raise FaultPlanError(f"unknown fault plan sections: {sorted(unknown)}")
        dynamodb = _section(document, "dynamodb", frozenset({"throttle_every", "max"}))
        kinesis = _section(document, "kinesis", frozenset({"put_records_fail_every", "max"}))
        functions = {}
        for name, faults in _section(document, "lambda").items():
            where = f"lambda.{name}"
            if not isinstance(faults, dict):
                raise FaultPlanError(f"{where} must be an object")
            unknown = set(faults) - set(FunctionFaults.__dataclass_fields__)
            if unknown:
                raise FaultPlanError(f"unknown keys in {where}: {sorted(unknown)}")
            keys = faults.get("crash_on_partition_keys", [])
            if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                raise FaultPlanError(f"{where}.crash_on_partition_keys must be a list of strings")
            functions[name] = FunctionFaults(
                crash_at_invocations=_invocations(faults, "crash_at_invocations", where),
                timeout_at_invocations=_invocations(faults, "timeout_at_invocations", where),
                crash_on_partition_keys=frozenset(keys),
            )
        mapping = _section(
            document, "event_source_mapping", frozenset({"redeliver_batch_at_invocations"})
        )
        return cls(
            dynamodb=DynamoDBFaults(
                throttle_every=_non_negative_int(dynamodb, "throttle_every", "dynamodb"),
                max=_optional_max(dynamodb, "dynamodb"),
            ),
            kinesis=KinesisFaults(
                put_records_fail_every=_non_negative_int(
                    kinesis, "put_records_fail_every", "kinesis"
                ),
                max=_optional_max(kinesis, "kinesis"),
            ),
            functions=functions,
            redeliver_batch_at_invocations=_invocations(
                mapping, "redeliver_batch_at_invocations", "event_source_mapping"
            ),
        )

    @classmethod
    def load(cls, path: Path) -> FaultPlan:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise FaultPlanError(f"{path}: {error}") from error
        return cls.parse(document)

    def for_function(self, function_name: str) -> FunctionFaults | None:
        for key, faults in self.functions.items():
            if function_name == key or function_name.endswith(f"-{key}"):
                return faults
        return None


def fired_path(plan_path: Path, side: str) -> Path:
    return plan_path.with_name(f"{plan_path.name}.{side}-fired.json")


def read_fired(plan_path: Path) -> Counter[str]:
    """Faults fired so far, by kind, summed over the emulator and the runtime."""
    total: Counter[str] = Counter()
    for side in ("emulator", "runtime"):
        try:
            total.update(json.loads(fired_path(plan_path, side).read_text(encoding="utf-8")))
        except FileNotFoundError:
            continue
    return total


class FaultInjector:
    """The plan plus its counters; every decision method is thread safe and deterministic."""

    def __init__(self, plan: FaultPlan, fired_file: Path | None = None) -> None:
        self.plan = plan
        self._fired_file = fired_file
        self._lock = threading.Lock()
        self.fired: Counter[str] = Counter()
        self._dynamodb_calls = 0
        self._dynamodb_fired = 0
        self._kinesis_entries = 0
        self._kinesis_fired = 0
        self._kinesis_failed_once: set[tuple[str, str]] = set()
        self._invocations: Counter[str] = Counter()
        self._redeliveries_due: list[int] = sorted(plan.redeliver_batch_at_invocations)

    def _record(self, kind: str, amount: int = 1) -> None:
        """Count a fired fault (caller holds the lock) and persist the counters."""
        self.fired[kind] += amount
        if self._fired_file is not None:
            partial = self._fired_file.with_name(self._fired_file.name + ".partial")
            partial.write_text(json.dumps(dict(self.fired), sort_keys=True), encoding="utf-8")
            partial.replace(self._fired_file)

    @staticmethod
    def _under(limit: int | None, fired: int) -> bool:
        return limit is None or fired < limit

    def dynamodb_throttle(self) -> bool:
        """Whether this DynamoDB write call is refused as throttled."""
        faults = self.plan.dynamodb
        with self._lock:
            self._dynamodb_calls += 1
            if not faults.throttle_every or self._dynamodb_calls % faults.throttle_every:
                return False
            if not self._under(faults.max, self._dynamodb_fired):
                return False
            self._dynamodb_fired += 1
            self._record(DYNAMODB_THROTTLE)
            return True

    def put_records_failures(self, entries: Sequence[tuple[str, str]]) -> set[int]:
        """Indexes of the PutRecords entries (partition key, base64 data) to fail."""
        faults = self.plan.kinesis
        failed: set[int] = set()
        with self._lock:
            for index, entry in enumerate(entries):
                self._kinesis_entries += 1
                every = faults.put_records_fail_every
                if not every or self._kinesis_entries % every:
                    continue
                if entry in self._kinesis_failed_once:
                    continue
                if not self._under(faults.max, self._kinesis_fired):
                    continue
                self._kinesis_failed_once.add(entry)
                self._kinesis_fired += 1
                failed.add(index)
            if failed:
                self._record(KINESIS_FAILED_ENTRIES, len(failed))
        return failed

    def lambda_fault(self, function_name: str, payload: Any = None) -> LambdaFault | None:
        """Count an invocation of the function; the fault it gets, if any."""
        faults = self.plan.for_function(function_name)
        if faults is None:
            return None
        with self._lock:
            self._invocations[function_name] += 1
            number = self._invocations[function_name]
            if faults.crash_on_partition_keys & _partition_keys(payload):
                self._record(LAMBDA_CRASH_ON_ARRIVAL)
                return LambdaFault.CRASH_ON_ARRIVAL
            if number in faults.crash_at_invocations:
                self._record(LAMBDA_CRASH)
                return LambdaFault.CRASH
            if number in faults.timeout_at_invocations:
                self._record(LAMBDA_TIMEOUT)
                return LambdaFault.TIMEOUT
        return None

    def redeliver_batch(self, mapping_invocations: int) -> bool:
        """After a successful mapping invocation: whether to deliver the same batch again."""
        with self._lock:
            if not self._redeliveries_due or mapping_invocations < self._redeliveries_due[0]:
                return False
            self._redeliveries_due.pop(0)
            self._record(ESM_REDELIVERY)
            return True


_NO_FAULTS = FaultInjector(FaultPlan())
_injectors: dict[str, FaultInjector] = {}
_injectors_lock = threading.Lock()


def plan_path_from_environment() -> Path | None:
    value = os.environ.get(ENVIRONMENT_VARIABLE)
    return Path(value) if value else None


def injector(side: str = "runtime") -> FaultInjector:
    """The process's injector for ``side`` (``emulator`` or ``runtime``), built from
    ``TRENDSTREAM_FAULTS`` on first use; a no-op injector when the variable is unset."""
    plan_path = plan_path_from_environment()
    if plan_path is None:
        return _NO_FAULTS
    key = f"{side}:{plan_path}"
    with _injectors_lock:
        found = _injectors.get(key)
        if found is None:
            found = FaultInjector(FaultPlan.load(plan_path), fired_path(plan_path, side))
            _injectors[key] = found
        return found


def _partition_keys(payload: Any) -> frozenset[str]:
    """The partition keys of a Kinesis event's records (empty for any other payload)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("Records"), list):
        return frozenset()
    return frozenset(
        str(record.get("kinesis", {}).get("partitionKey"))
        for record in payload["Records"]
        if isinstance(record, dict)
    )


def lambda_fault(function_name: str, payload: Any = None) -> LambdaFault | None:
    """Hook for the local Lambda service (see the module docstring)."""
    return injector("runtime").lambda_fault(function_name, payload)


def redeliver_batch(mapping_invocations: int) -> bool:
    """Hook for the event source mapping (see the module docstring)."""
    return injector("runtime").redeliver_batch(mapping_invocations)
