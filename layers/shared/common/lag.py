"""How long provisioning took, as the people who wait for a tracking ID feel it.

- ProvisioningLagSeconds: from the moment the tracker (or the Action interactions dataset) became ACTIVE, its
  `lastUpdatedDateTime` in Personalize's answer, to the moment its parameter was stored. The design bounds it by
  MaxPollIntervalSeconds (the longest wait between two status checks), plus the check's and the store's own time.
- TimeToTrackingIdSeconds: from the dataset group's (or dataset's) creation, the CloudTrail event's `eventTime`, to
  the moment the parameter was stored; without an event (a direct input, the reconciler) from the execution's start.

Both in seconds, emitted with Powertools Metrics (EMF) in the application's namespace and `service` dimension.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from aws_lambda_powertools.metrics import MetricUnit


class Lag(TypedDict):
    provisioningLagSeconds: float | None  # None: Personalize gave no lastUpdatedDateTime
    timeToTrackingIdSeconds: float | None  # None: neither an eventTime nor an execution start time to count from
    timeToTrackingIdFrom: str  # eventTime or executionStartTime


def _timestamp(moment: Any) -> float | None:
    """Seconds since the epoch of a datetime (boto3's) or an ISO 8601 string (Step Functions', CloudTrail's)."""
    if isinstance(moment, datetime):
        return moment.timestamp()
    if isinstance(moment, str) and moment:
        try:
            return datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def measure(active_at: Any, event_time: Any, execution_start: Any, stored_at: float) -> Lag:
    """Both figures for a parameter stored at `stored_at`; never negative (clocks differ by a little)."""
    active = _timestamp(active_at)
    event = _timestamp(event_time)
    origin, start = ("eventTime", event) if event is not None else ("executionStartTime", _timestamp(execution_start))
    return {
        "provisioningLagSeconds": None if active is None else round(max(0.0, stored_at - active), 3),
        "timeToTrackingIdSeconds": None if start is None else round(max(0.0, stored_at - start), 3),
        "timeToTrackingIdFrom": origin,
    }


def emit(metrics: Any, lag: Lag) -> None:
    """The two metrics (names written out: the dashboard test reads them from the code)."""
    if lag["provisioningLagSeconds"] is not None:
        metrics.add_metric(name="ProvisioningLagSeconds", unit=MetricUnit.Seconds, value=lag["provisioningLagSeconds"])
    if lag["timeToTrackingIdSeconds"] is not None:
        metrics.add_metric(
            name="TimeToTrackingIdSeconds", unit=MetricUnit.Seconds, value=lag["timeToTrackingIdSeconds"]
        )
