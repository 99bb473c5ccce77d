"""CloudWatch: a new alarm starts in INSUFFICIENT_DATA, and an updated one keeps its state.

AWS documents PutMetricAlarm as: "When this operation creates an alarm, the alarm state is
immediately set to INSUFFICIENT_DATA ... When you update an existing alarm, its state is left
unchanged." moto 5.2.5 builds every alarm, new or updated, in state OK (with AWS's reason text,
"Unchecked: Initial alarm creation"). The emulator never evaluates alarms, so the stack's alarms
read OK locally, which AWS only says of an alarm whose metric it has evaluated and found within
its threshold; `trendstream status` showed that as health. With the patch a local alarm says
INSUFFICIENT_DATA, as a fresh one does on AWS, until something sets its state.
"""

from __future__ import annotations

from typing import Any

from moto.cloudwatch.models import CloudWatchBackend

INITIAL_STATE = "INSUFFICIENT_DATA"

_original_put_metric_alarm = CloudWatchBackend.put_metric_alarm


def put_metric_alarm(self: CloudWatchBackend, name: str, *args: Any, **kwargs: Any) -> Any:
    """moto's PutMetricAlarm, with AWS's initial state and an update that keeps the state."""
    previous = self.alarms.get(name)
    alarm = _original_put_metric_alarm(self, name, *args, **kwargs)
    if previous is None:
        alarm.state_value = INITIAL_STATE
    else:
        alarm.state_value = previous.state_value
        alarm.state_reason = previous.state_reason
        alarm.state_reason_data = previous.state_reason_data
        alarm.state_updated_timestamp = previous.state_updated_timestamp
        alarm.history = previous.history
    return alarm


def apply() -> None:
    CloudWatchBackend.put_metric_alarm = put_metric_alarm  # type: ignore[method-assign]
