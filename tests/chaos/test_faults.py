"""The fault plan: parsing and the deterministic decisions both sides of the seam take."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local_aws import fault_plan


def injector(document: dict[str, object], tmp_path: Path | None = None) -> fault_plan.FaultInjector:
    fired = tmp_path / "plan.json.runtime-fired.json" if tmp_path else None
    return fault_plan.FaultInjector(fault_plan.FaultPlan.parse(document), fired)


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"dynamo": {}},
        {"dynamodb": {"throttle_every": -1}},
        {"dynamodb": {"throttle_every": "7"}},
        {"dynamodb": {"batch_write_unprocessed_every": 7}},
        {"kinesis": {"put_record_fail_every": 2}},
        {"lambda": {"consumer": {"crash_at": [1]}}},
        {"event_source_mapping": {"redeliver_at": [8]}},
        {"kinesis": {"max": True}},
        {"lambda": {"consumer": {"crash_at_invocations": [0]}}},
        {"lambda": {"consumer": []}},
        {"event_source_mapping": {"redeliver_batch_at_invocations": 8}},
    ],
)
def test_an_invalid_plan_is_refused(document: object) -> None:
    with pytest.raises(fault_plan.FaultPlanError):
        fault_plan.FaultPlan.parse(document)


def test_throttling_fires_every_nth_call_up_to_the_cap() -> None:
    plan = injector({"dynamodb": {"throttle_every": 3, "max": 2}})
    decisions = [plan.dynamodb_throttle() for _ in range(12)]
    assert [i + 1 for i, throttled in enumerate(decisions) if throttled] == [3, 6]
    assert plan.fired[fault_plan.DYNAMODB_THROTTLE] == 2


def test_a_put_records_entry_is_failed_at_most_once_so_a_resend_lands() -> None:
    plan = injector({"kinesis": {"put_records_fail_every": 2}})
    entries = [("a", "AA=="), ("b", "Ag=="), ("c", "Aw=="), ("d", "BA==")]
    assert plan.put_records_failures(entries) == {1, 3}
    # The resend of b and d: positions 5 and 6 overall; 6 is due, but d already failed once.
    assert plan.put_records_failures([entries[1], entries[3]]) == set()
    assert plan.fired[fault_plan.KINESIS_FAILED_ENTRIES] == 2


def test_lambda_faults_count_invocations_per_function(tmp_path: Path) -> None:
    plan = injector(
        {
            "lambda": {
                "consumer": {"crash_at_invocations": [2]},
                "firehose-transformer": {"timeout_at_invocations": [1]},
            }
        },
        tmp_path,
    )
    consumer = [plan.lambda_fault("trendstream-local-consumer") for _ in range(3)]
    assert consumer == [None, fault_plan.LambdaFault.CRASH, None]
    assert (
        plan.lambda_fault("trendstream-local-firehose-transformer")
        is fault_plan.LambdaFault.TIMEOUT
    )
    assert plan.lambda_fault("trendstream-local-producer") is None
    written = json.loads((tmp_path / "plan.json.runtime-fired.json").read_text())
    assert written == {fault_plan.LAMBDA_CRASH: 1, fault_plan.LAMBDA_TIMEOUT: 1}


def test_a_redelivery_waits_for_the_first_success_at_or_after_its_invocation() -> None:
    plan = injector({"event_source_mapping": {"redeliver_batch_at_invocations": [3, 4]}})
    assert [plan.redeliver_batch(n) for n in (1, 2, 5, 6, 7)] == [False, False, True, True, False]


def test_without_the_variable_every_hook_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(fault_plan.ENVIRONMENT_VARIABLE, raising=False)
    assert fault_plan.lambda_fault("trendstream-local-consumer") is None
    assert not fault_plan.redeliver_batch(1_000)


def test_read_fired_sums_both_sides(tmp_path: Path) -> None:
    plan_path = tmp_path / "plan.json"
    fault_plan.fired_path(plan_path, "emulator").write_text(json.dumps({"dynamodb.throttle": 2}))
    fault_plan.fired_path(plan_path, "runtime").write_text(json.dumps({"lambda.crash": 1}))
    assert fault_plan.read_fired(plan_path) == {"dynamodb.throttle": 2, "lambda.crash": 1}


def test_a_batch_holding_a_crashing_partition_key_crashes_on_arrival() -> None:
    plan = injector({"lambda": {"consumer": {"crash_on_partition_keys": ["42"]}}})

    def event(*keys: str) -> dict[str, object]:
        return {"Records": [{"kinesis": {"partitionKey": key}} for key in keys]}

    assert plan.lambda_fault("x-consumer", event("1", "2")) is None
    assert (
        plan.lambda_fault("x-consumer", event("1", "42")) is fault_plan.LambdaFault.CRASH_ON_ARRIVAL
    )
    assert plan.lambda_fault("x-consumer", {"records": []}) is None
    assert plan.fired[fault_plan.LAMBDA_CRASH_ON_ARRIVAL] == 1
