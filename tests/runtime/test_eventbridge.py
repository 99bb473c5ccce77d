"""EventBridge schedules, tested against the EventBridge schedule expression reference.

Time is a manual clock: the tests move it, nothing sleeps.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.runtime.conftest import DeployedFunction, unique

from local_aws.clock import ManualClock
from local_aws.eventbridge import (
    EventBridgeScheduler,
    ScheduleExpressionError,
    parse_schedule,
)
from local_aws.lambda_service import LambdaService


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M")


def test_rate_expressions() -> None:
    """EventBridge docs, rate expressions: "rate(value unit)" where unit is minute | minutes |
    hour | hours | day | days; "If the value is equal to 1, then the unit must be singular.
    Similarly, for values greater than 1, the unit must be plural"."""
    assert parse_schedule("rate(1 minute)").next_after(0) == 60
    assert parse_schedule("rate(5 minutes)").next_after(100) == 400
    assert parse_schedule("rate(2 hours)").next_after(0) == 7200
    assert parse_schedule("rate(1 day)").next_after(0) == 86400
    for invalid in ("rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(5 seconds)"):
        with pytest.raises(ScheduleExpressionError):
            parse_schedule(invalid)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        # "cron(0 10 * * ? *)" - run at 10:00 am (UTC) every day
        ("cron(0 10 * * ? *)", "2026-11-22 09:59", "2026-11-22 10:00"),
        ("cron(0 10 * * ? *)", "2026-11-22 10:00", "2026-11-23 10:00"),
        # "cron(15 12 * * ? *)" - run at 12:15 pm (UTC) every day
        ("cron(15 12 * * ? *)", "2026-11-22 13:00", "2026-11-23 12:15"),
        # "cron(0 18 ? * MON-FRI *)" - 6:00 pm Monday through Friday (2026-11-22 is a Sunday)
        ("cron(0 18 ? * MON-FRI *)", "2026-11-21 19:00", "2026-11-23 18:00"),
        # "cron(0 8 1 * ? *)" - 8:00 am on the first day of the month
        ("cron(0 8 1 * ? *)", "2026-11-22 00:00", "2026-12-01 08:00"),
        # "cron(0/10 * ? * MON-FRI *)" - every 10 minutes Monday through Friday
        ("cron(0/10 * ? * MON-FRI *)", "2026-11-23 10:01", "2026-11-23 10:10"),
        # "cron(0/5 8-17 ? * MON-FRI *)" - every 5 minutes between 8:00 am and 5:55 pm
        ("cron(0/5 8-17 ? * MON-FRI *)", "2026-11-23 17:56", "2026-11-24 08:00"),
        # day-of-week 1-7 is SUN-SAT
        ("cron(0 0 ? * 1 *)", "2026-11-23 00:00", "2026-11-29 00:00"),
        # L in day-of-month: last day of the month
        ("cron(0 0 L * ? *)", "2026-02-01 00:00", "2026-02-28 00:00"),
        ("cron(30 6 ? JAN,JUL SAT 2027)", "2026-11-22 00:00", "2027-01-02 06:30"),
    ],
)
def test_cron_expressions(expression: str, after: str, expected: str) -> None:
    """EventBridge docs, cron expressions: six required fields "cron(minutes hours
    day-of-month month day-of-week year)", all in UTC, with the documented examples."""
    assert iso(parse_schedule(expression).next_after(at(after))) == expected


def test_cron_requires_a_question_mark_in_one_day_field() -> None:
    """EventBridge docs: "You can't specify the Day-of-month and Day-of-week fields in the same
    cron expression. If you specify a value or a * (asterisk) in one of the fields, you must
    use a ? (question mark) in the other"."""
    with pytest.raises(ScheduleExpressionError):
        parse_schedule("cron(0 10 * * * *)")


RECORDER = """
import json, os

def lambda_handler(event, context):
    with open(os.environ["CALLS_PATH"], "a") as calls:
        calls.write(json.dumps(event) + "\\n")
"""


@pytest.mark.emulator
def test_scheduled_rule_invokes_its_lambda_target_with_the_scheduled_event(
    clients: Callable[[str], Any],
    deploy: Callable[..., DeployedFunction],
    lambda_service: LambdaService,
) -> None:
    """EventBridge docs, "Creating a rule that runs on a schedule" and the Scheduled Event
    example: {"version": "0", "id", "detail-type": "Scheduled Event", "source": "aws.events",
    "account", "time", "region", "resources": [rule ARN], "detail": {}}; Lambda docs: EventBridge
    invokes the function asynchronously."""
    function = deploy(RECORDER)
    lambda_service.register(function.name, function.zip_path)
    events = clients("events")
    rule = unique("every-minute")
    rule_arn = events.put_rule(Name=rule, ScheduleExpression="rate(1 minute)")["RuleArn"]
    events.put_targets(Rule=rule, Targets=[{"Id": "producer", "Arn": function.arn}])
    clock = ManualClock(at("2026-11-22 10:00"))
    futures: list[Any] = []
    scheduler = EventBridgeScheduler(
        events,
        lambda name, payload: futures.append(lambda_service.invoke_async(name, payload)),
        clock,
        rule_filter=lambda r: r["Name"] == rule,
    )

    clock.advance(59)
    assert scheduler.poll_once() == 0
    clock.advance(1)
    assert scheduler.poll_once() == 1
    for future in futures:
        future.result(timeout=60)

    [event] = function.calls()
    assert event["version"] == "0"
    assert event["id"]
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["account"] == rule_arn.split(":")[4]
    assert event["time"] == "2026-11-22T10:01:00Z"
    assert event["region"] == "us-east-1"
    assert event["resources"] == [rule_arn]
    assert event["detail"] == {}


@pytest.mark.emulator
def test_missed_periods_fire_once_and_disabled_rules_never(
    clients: Callable[[str], Any],
) -> None:
    """EventBridge delivers a schedule's event when it is due; a scheduler that was not
    running does not replay every missed period. A DISABLED rule "does not match any events"."""
    events = clients("events")
    enabled, disabled = unique("enabled"), unique("disabled")
    events.put_rule(Name=enabled, ScheduleExpression="rate(5 minutes)")
    events.put_rule(Name=disabled, ScheduleExpression="rate(5 minutes)", State="DISABLED")
    target = "arn:aws:lambda:us-east-1:123456789012:function:target"
    for rule in (enabled, disabled):
        events.put_targets(
            Rule=rule, Targets=[{"Id": "t", "Arn": target, "Input": json.dumps({"k": rule})}]
        )
    sent: list[tuple[str, Any]] = []
    clock = ManualClock(time.time())
    scheduler = EventBridgeScheduler(
        events,
        lambda name, payload: sent.append((name, payload)),
        clock,
        rule_filter=lambda r: r["Name"] in (enabled, disabled),
    )

    clock.advance(3600)
    scheduler.poll_once()
    scheduler.poll_once()
    clock.advance(300)
    scheduler.poll_once()

    assert sent == [(target, {"k": enabled})] * 2
