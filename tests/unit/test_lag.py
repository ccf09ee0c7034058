"""ProvisioningLagSeconds and TimeToTrackingIdSeconds, as the store functions compute and emit them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from common import lag

STORED = datetime(2026, 12, 1, 12, 0, 30, tzinfo=UTC).timestamp()


def test_from_active_to_stored_and_from_the_event_to_stored() -> None:
    active = datetime(2026, 12, 1, 12, 0, 25, tzinfo=UTC)  # boto3 gives datetimes
    assert lag.measure(active, "2026-12-01T11:58:00Z", "2026-12-01T11:59:00.000Z", STORED) == {
        "provisioningLagSeconds": 5.0,
        "timeToTrackingIdSeconds": 150.0,  # from the CloudTrail event, not the later execution start
        "timeToTrackingIdFrom": "eventTime",
    }


def test_without_an_event_it_counts_from_the_execution_start() -> None:
    measured = lag.measure(None, None, "2026-12-01T11:59:00.123Z", STORED)
    assert measured == {
        "provisioningLagSeconds": None,  # Personalize gave no lastUpdatedDateTime: no figure, rather than a guess
        "timeToTrackingIdSeconds": 89.877,
        "timeToTrackingIdFrom": "executionStartTime",
    }


def test_never_negative_and_unreadable_times_give_no_figure() -> None:
    future = datetime(2026, 12, 1, 12, 1, tzinfo=UTC)
    assert lag.measure(future, "not a time", "2027-01-01T00:00:00Z", STORED) == {
        "provisioningLagSeconds": 0.0,
        "timeToTrackingIdSeconds": 0.0,  # the samples' start lies in the future
        "timeToTrackingIdFrom": "executionStartTime",
    }
    assert lag.measure(None, None, "yesterday", STORED)["timeToTrackingIdSeconds"] is None


class Recorder:
    def __init__(self) -> None:
        self.added: list[dict[str, Any]] = []

    def add_metric(self, **metric: Any) -> None:
        self.added.append(metric)


def test_emits_seconds_for_each_figure_there_is() -> None:
    metrics = Recorder()
    lag.emit(metrics, lag.measure(None, None, "2026-12-01T11:59:00Z", STORED))
    assert [(m["name"], m["unit"].value, m["value"]) for m in metrics.added] == [
        ("TimeToTrackingIdSeconds", "Seconds", 90.0)
    ]
