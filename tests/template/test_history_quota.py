"""Every wait the template allows stays within Step Functions' history quota (25,000 events an execution)."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime

import pytest

from common.errors import ProvisioningTimedOut
from common.polling import EVENTS_PER_POLL, HISTORY_EVENTS_QUOTA, POLL_EVENTS_BUDGET, STEADY_PHASE_SECONDS, keep_waiting
from local.template import Template

PARAMETERS = Template().doc["Parameters"]
START = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


def allowed(name: str) -> list[int]:
    parameter = PARAMETERS[name]
    return sorted({int(parameter["MinValue"]), int(parameter["Default"]), int(parameter["MaxValue"])})


def polls_until_timeout(initial: int, maximum: int, timeout: int) -> int:
    """Status checks of one execution whose resource never turns ACTIVE, each wait as keep_waiting answers."""
    request = {
        "executionId": "x",
        "executionStartTime": START.isoformat(),
        "previousWaitSeconds": 0,
        "polling": {"initialWaitSeconds": initial, "maxWaitSeconds": maximum, "timeoutSeconds": timeout},
    }
    now, polls = START.timestamp(), 0
    while True:
        polls += 1
        try:  # created when the execution started: the steady phase first
            wait = keep_waiting("Tracker", "CREATE IN_PROGRESS", request, now, START)["waitSeconds"]
        except ProvisioningTimedOut:
            return polls
        request["previousWaitSeconds"] = wait
        now += wait


@pytest.mark.parametrize(
    ("initial", "maximum", "timeout"),
    list(
        itertools.product(
            allowed("PollIntervalSeconds"), allowed("MaxPollIntervalSeconds"), allowed("ProvisioningTimeoutSeconds")
        )
    ),
)
def test_the_polls_of_any_allowed_setting_fit_in_the_history_quota(initial: int, maximum: int, timeout: int) -> None:
    assert polls_until_timeout(initial, maximum, timeout) * EVENTS_PER_POLL <= POLL_EVENTS_BUDGET + 2 * EVENTS_PER_POLL


def test_the_boundary_the_backoff_guards() -> None:
    # The combination the issue found: 1 s polls for a day would be 86,400 polls, far past the quota ...
    assert 86_400 * EVENTS_PER_POLL > HISTORY_EVENTS_QUOTA
    # ... the backoff stretches them to 63 s, which keeps a day's polls within half the quota.
    polls = polls_until_timeout(1, 1, 86_400)
    assert 1_300 < polls <= POLL_EVENTS_BUDGET // EVENTS_PER_POLL + 2
    # With the defaults: 5 s waits for the steady phase (36 of them), then 10, 20, 40, and 60 s to 30 minutes.
    assert STEADY_PHASE_SECONDS == 180
    assert polls_until_timeout(5, 60, 1_800) == 36 + 3 + math.ceil((1_800 - 250) / 60) + 1
