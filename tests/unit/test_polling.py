"""How long to wait between two status checks, and when to give up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from common.errors import ProvisioningTimedOut
from common.polling import STEADY_PHASE_SECONDS, keep_waiting, next_wait_seconds, seconds_left

START = "2026-11-26T06:00:00Z"
T0 = datetime(2026, 11, 26, 6, 0, tzinfo=UTC).timestamp()


def test_waits_start_at_the_interval_and_double_up_to_the_cap() -> None:
    waits, previous = [], 0
    for _ in range(7):
        previous = next_wait_seconds(previous, 5, 60, left=10_000)
        waits.append(previous)
    assert waits == [5, 10, 20, 40, 60, 60, 60]


def test_the_last_wait_ends_at_the_deadline() -> None:
    assert next_wait_seconds(40, 5, 60, left=12.2) == 13
    assert next_wait_seconds(40, 5, 60, left=0.3) == 1


def test_seconds_left_reads_the_execution_start_time() -> None:
    assert seconds_left(START, 1800, now=T0 + 100) == 1700
    assert seconds_left("2026-11-26T06:00:00.250+00:00", 10, now=T0) == pytest.approx(10.25)


def request(previous: int = 0, timeout: int = 1800) -> dict:
    return {
        "executionId": "x",
        "executionStartTime": START,
        "previousWaitSeconds": previous,
        "polling": {"initialWaitSeconds": "5", "maxWaitSeconds": "60", "timeoutSeconds": str(timeout)},
    }


def test_keep_waiting_answers_the_next_wait() -> None:
    assert keep_waiting("Tracker", "CREATE PENDING", request(previous=20), now=T0 + 60) == {
        "status": "CREATE PENDING",
        "outcome": "waiting",
        "waitSeconds": 40,
    }


def test_keep_waiting_times_out_past_the_deadline() -> None:
    with pytest.raises(ProvisioningTimedOut, match=r"Tracker was still CREATE IN_PROGRESS after .*\(1800 s\)"):
        keep_waiting("Tracker", "CREATE IN_PROGRESS", request(), now=T0 + 1800)


def test_the_reconcilers_pace_spaces_its_starts() -> None:
    from reconciler.app import Pace

    clock = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    pace = Pace(2, clock=lambda: clock[0], sleep=sleep)
    for _ in range(5):
        pace.wait()
    assert slept == [0.5, 0.5, 0.5, 0.5]  # 5 starts in 2 s: at most 2 a second
    clock[0] += 10  # a slow check in between: no catching up in a burst
    pace.wait()
    pace.wait()
    assert slept[-1] == 0.5 and len(slept) == 5


def test_a_young_resource_is_checked_at_a_steady_pace_then_the_waits_back_off() -> None:
    assert next_wait_seconds(40, 5, 60, 1000, age=10) == 5  # whatever the previous wait
    assert next_wait_seconds(5, 5, 60, 1000, age=STEADY_PHASE_SECONDS) == 10
    assert next_wait_seconds(5, 5, 60, 3, age=10) == 3  # never past the deadline
    assert next_wait_seconds(0, 1, 60, 1000, shortest=2, age=0) == 2  # nor below the history-quota guard
    assert next_wait_seconds(40, 5, 60, 1000) == 60  # no creationDateTime: backoff from the first wait
