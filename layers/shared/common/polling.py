"""How long to wait before the next status check, and when to give up."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, TypedDict

from common.errors import LimitExceeded, ProvisioningTimedOut, ServiceUnreachable, is_outage, unanswered


class Polling(TypedDict):
    """Settings the state machine passes to each status check (from DefinitionSubstitutions)."""

    initialWaitSeconds: int | str
    maxWaitSeconds: int | str
    timeoutSeconds: float | str


def seconds_left(execution_start: str, timeout_seconds: float, now: float) -> float:
    """Seconds until the execution's provisioning deadline (negative once past it)."""
    started = datetime.fromisoformat(execution_start.replace("Z", "+00:00")).timestamp()
    return started + timeout_seconds - now


# Step Functions fails an execution whose history passes 25,000 events. One poll (a status check task, its
# Choice and its Wait) adds 9; half the quota is left for the other states, retries and throttled invocations.
HISTORY_EVENTS_QUOTA = 25_000
EVENTS_PER_POLL = 9
POLL_EVENTS_BUDGET = HISTORY_EVENTS_QUOTA // 2


def shortest_wait_seconds(timeout_seconds: float) -> int:
    """The shortest wait that keeps all the polls of one execution within POLL_EVENTS_BUDGET.

    With the defaults (1800 s) it is 2 s, below any wait the backoff reaches; it matters only for a long
    ProvisioningTimeoutSeconds with a short MaxPollIntervalSeconds (86400 s with 1 s: 63 s).
    """
    return max(1, math.ceil(timeout_seconds * EVENTS_PER_POLL / POLL_EVENTS_BUDGET))


# How long Personalize really takes (AWS's own notebooks): dataset groups ACTIVE after 10 to 60 s, datasets after
# about 30 s, event trackers after 30 to 60 s ("a minute or so"). While a resource is younger than this, it is
# checked every `initial` seconds, so it is seen within `initial` of becoming ACTIVE; older, the waits back off.
STEADY_PHASE_SECONDS = 180


def next_wait_seconds(
    previous: int, initial: int, maximum: int, left: float, shortest: int = 1, age: float | None = None
) -> int:
    """`initial` while the resource is younger than STEADY_PHASE_SECONDS (its age from its creationDateTime:
    stateless), then exponential backoff from `initial`, capped at `maximum`; never past the deadline, never below
    `shortest`.

    The last wait is cut to end at the deadline, so a timeout is reported
    within one poll of ProvisioningTimeoutSeconds.
    """
    if age is not None and age < STEADY_PHASE_SECONDS:
        wait = initial
    else:
        wait = initial if previous <= 0 else min(previous * 2, maximum)
    return max(1, min(max(wait, shortest), math.ceil(left)))


def age_seconds(created: Any, now: float) -> float | None:
    """Seconds since a Describe call's creationDateTime (a datetime, as botocore parses it), None if unknown."""
    if isinstance(created, datetime):
        return max(0.0, now - created.timestamp())
    if isinstance(created, (int, float)):
        return max(0.0, now - float(created))
    return None


class PollRequest(TypedDict):
    """What the state machine sends to a status check."""

    executionId: str
    executionStartTime: str
    previousWaitSeconds: int
    polling: Polling


class PollResult(TypedDict, total=False):
    status: str
    outcome: str  # ready, waiting (or skipped, created, adopted): the only field a Choice state reads
    waitSeconds: int


THROTTLED = "THROTTLED"  # the status a check reports when Personalize answered "slow down"
UNAVAILABLE = "UNAVAILABLE"  # ... when Personalize or SSM did not answer (common.errors.is_outage)


def keep_waiting(
    what: str, status: str, request: PollRequest, now: float, created: Any = None, reason: str = ""
) -> PollResult:
    """The answer for a resource that is not ready yet, or a call that was throttled or not answered: wait, or give
    up.

    `created`: the resource's creationDateTime (a young resource is checked at a steady pace; throttling and
    outages always back off). Past the deadline: ProvisioningTimedOut, or LimitExceeded when throttling was the
    reason, or ServiceUnreachable (with `reason`) when an outage was.
    """
    polling = request["polling"]
    timeout = float(polling["timeoutSeconds"])  # a number of seconds: not always whole
    left = seconds_left(request["executionStartTime"], timeout, now)
    if left <= 0 and status == THROTTLED:
        raise LimitExceeded(
            f"{what}: Personalize was still throttling after ProvisioningTimeoutSeconds ({timeout:g} s)"
        )
    if left <= 0 and status == UNAVAILABLE:
        raise ServiceUnreachable(f"{what}: {reason}, still after ProvisioningTimeoutSeconds ({timeout:g} s)")
    if left <= 0:
        raise ProvisioningTimedOut(f"{what} was still {status} after ProvisioningTimeoutSeconds ({timeout:g} s)")
    wait = next_wait_seconds(
        int(request.get("previousWaitSeconds") or 0),
        int(polling["initialWaitSeconds"]),
        int(polling["maxWaitSeconds"]),
        left,
        shortest_wait_seconds(timeout),
        None if status in (THROTTLED, UNAVAILABLE) else age_seconds(created, now),
    )
    return {"status": status, "outcome": "waiting", "waitSeconds": wait}


def wait_out_outage(what: str, error: Exception, request: PollRequest, now: float) -> PollResult:
    """For an outage (common.errors.is_outage): wait and ask again, as for throttling, until the deadline. Any other
    error is raised again."""
    if not is_outage(error):
        raise error
    return keep_waiting(what, UNAVAILABLE, request, now, reason=unanswered(error))
