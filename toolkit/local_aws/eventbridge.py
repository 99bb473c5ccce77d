"""Stand-in for EventBridge scheduled rules that target Lambda functions.

The emulator stores rules and targets but never fires them. ``EventBridgeScheduler`` reads the
rules (``ListRules``) and their targets (``ListTargetsByRule``) and invokes each Lambda target
asynchronously, as EventBridge does, with the scheduled-event shape (or the target's constant
``Input`` when it has one; ``InputPath`` and ``InputTransformer`` are not supported).

Semantics, from the EventBridge schedule expression reference:

* ``rate(value unit)`` with unit minute(s), hour(s) or day(s); the first event fires one period
  after the scheduler starts (AWS counts from rule creation);
* ``cron(minutes hours day-of-month month day-of-week year)`` in UTC, with ``*``, ``?``, lists,
  ranges, ``/`` steps, month and weekday names, ``L`` (last day of month), day-of-week 1-7 =
  SUN-SAT; ``W`` and ``#`` are rejected with a clear error;
* a schedule that fell behind (a stopped runtime, a jumping clock) fires once for the missed
  period and then continues on schedule: missed events are not replayed.

Time comes from a :class:`local_aws.clock.Clock`, so the demo can run faster and tests can drive
time without sleeping.
"""

from __future__ import annotations

import calendar
import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from local_aws.clock import Clock

logger = logging.getLogger(__name__)

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTH_NAMES = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
_DAY_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MAX_SEARCH_MINUTES = 60 * 24 * 366 * 5


class ScheduleExpressionError(ValueError):
    pass


def _parse_field(text: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    values: set[int] = set()
    for item in text.split(","):
        part, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = _value(first, names), _value(last, names)
        else:
            start = _value(part, names)
            end = high if step > 1 else start
        if not low <= start <= high or not low <= end <= high:
            raise ScheduleExpressionError(f"{part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return values


def _value(text: str, names: dict[str, int]) -> int:
    key = text.upper()
    if key in names:
        return names[key]
    if not text.isdigit():
        raise ScheduleExpressionError(f"unsupported cron value {text!r}")
    return int(text)


@dataclass(frozen=True)
class CronSchedule:
    minutes: set[int]
    hours: set[int]
    days_of_month: set[int] | None
    last_day_of_month: bool
    months: set[int]
    days_of_week: set[int] | None
    years: set[int] | None

    @classmethod
    def parse(cls, body: str) -> CronSchedule:
        fields = body.split()
        if len(fields) != 6:
            raise ScheduleExpressionError("cron() takes six fields: min hour dom month dow year")
        minute, hour, dom, month, dow, year = fields
        if dom != "?" and dow != "?":
            raise ScheduleExpressionError("one of day-of-month or day-of-week must be '?'")
        for text in (dom, dow):
            if "W" in text.upper().replace("WED", "") or "#" in text:
                raise ScheduleExpressionError(f"{text!r}: W and # are not supported locally")
        return cls(
            minutes=_parse_field(minute, 0, 59, {}),
            hours=_parse_field(hour, 0, 23, {}),
            days_of_month=None if dom in ("?", "L") else _parse_field(dom, 1, 31, {}),
            last_day_of_month=dom == "L",
            months=_parse_field(month, 1, 12, _MONTH_NAMES),
            days_of_week=None if dow == "?" else _parse_field(dow, 1, 7, _DAY_NAMES),
            years=None if year == "*" else _parse_field(year, 1970, 2199, {}),
        )

    def _matches_day(self, moment: datetime) -> bool:
        if self.days_of_week is not None:
            return (moment.isoweekday() % 7) + 1 in self.days_of_week
        if self.last_day_of_month:
            return moment.day == calendar.monthrange(moment.year, moment.month)[1]
        return self.days_of_month is None or moment.day in self.days_of_month

    def next_after(self, after: float) -> float:
        moment = datetime.fromtimestamp(after, UTC).replace(second=0, microsecond=0)
        moment += timedelta(minutes=1)
        for _ in range(_MAX_SEARCH_MINUTES):
            if (
                (self.years is None or moment.year in self.years)
                and moment.month in self.months
                and self._matches_day(moment)
                and moment.hour in self.hours
                and moment.minute in self.minutes
            ):
                return moment.timestamp()
            if moment.month not in self.months or not self._matches_day(moment):
                moment = (moment + timedelta(days=1)).replace(hour=0, minute=0)
            elif moment.hour not in self.hours:
                moment = (moment + timedelta(hours=1)).replace(minute=0)
            else:
                moment += timedelta(minutes=1)
        raise ScheduleExpressionError("the cron expression never fires")


@dataclass(frozen=True)
class RateSchedule:
    seconds: int

    def next_after(self, after: float) -> float:
        return after + self.seconds


def parse_schedule(expression: str) -> CronSchedule | RateSchedule:
    rate = _RATE.match(expression.strip())
    if rate:
        value, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        if value < 1:
            raise ScheduleExpressionError("a rate must be positive")
        if (value == 1) != (not rate.group(2).endswith("s")):
            raise ScheduleExpressionError(f"{expression}: use '{unit}' for 1 and '{unit}s' above")
        return RateSchedule(value * _UNIT_SECONDS[unit])
    cron = _CRON.match(expression.strip())
    if cron:
        return CronSchedule.parse(cron.group(1))
    raise ScheduleExpressionError(f"unsupported schedule expression {expression!r}")


def scheduled_event(rule_arn: str, account: str, region: str, fire_time: float) -> dict[str, Any]:
    """The event EventBridge sends for a scheduled rule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": datetime.fromtimestamp(fire_time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


@dataclass
class ScheduledRule:
    name: str
    arn: str
    schedule: CronSchedule | RateSchedule
    targets: list[dict[str, Any]]
    next_fire: float
    fired: int = 0


class EventBridgeScheduler:
    """Fires scheduled rules whose targets are Lambda functions; ``poll_once`` is one tick."""

    def __init__(
        self,
        events_client: Any,
        invoke_async: Callable[[str, Any], Any],
        clock: Clock,
        region: str = "us-east-1",
        rule_filter: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        self._invoke_async = invoke_async
        self._clock = clock
        self._region = region
        self.rules: list[ScheduledRule] = []
        now = clock.now()
        for rule in _list_rules(events_client):
            if rule.get("State") != "ENABLED" or not rule.get("ScheduleExpression"):
                continue
            if rule_filter is not None and not rule_filter(rule):
                continue
            targets = [
                target
                for target in events_client.list_targets_by_rule(Rule=rule["Name"])["Targets"]
                if target["Arn"].split(":")[2] == "lambda"
            ]
            if targets:
                schedule = parse_schedule(rule["ScheduleExpression"])
                self.rules.append(
                    ScheduledRule(
                        rule["Name"], rule["Arn"], schedule, targets, schedule.next_after(now)
                    )
                )

    @property
    def events_fired(self) -> int:
        return sum(rule.fired for rule in self.rules)

    def seconds_until_next(self) -> float:
        if not self.rules:
            return 60.0
        return max(0.0, min(rule.next_fire for rule in self.rules) - self._clock.now())

    def poll_once(self) -> int:
        """Fire every rule that is due; returns how many events were sent."""
        now = self._clock.now()
        sent = 0
        for rule in self.rules:
            if rule.next_fire > now:
                continue
            fire_time = rule.next_fire
            account = rule.arn.split(":")[4]
            for target in rule.targets:
                payload: Any = scheduled_event(rule.arn, account, self._region, fire_time)
                if target.get("Input"):
                    payload = json.loads(target["Input"])
                self._invoke_async(target["Arn"], payload)
                sent += 1
            rule.fired += 1
            rule.next_fire = rule.schedule.next_after(fire_time)
            if rule.next_fire <= now:
                rule.next_fire = rule.schedule.next_after(now)
        return sent


def _list_rules(events_client: Any) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = events_client.list_rules(**kwargs)
        rules.extend(page.get("Rules", []))
        token = page.get("NextToken")
        if not token:
            return rules
        kwargs = {"NextToken": token}
