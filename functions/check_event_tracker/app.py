"""WaitForEventTracker: is the event tracker ACTIVE yet, with a trackingId?

The trackingId itself is not returned: it would travel through the execution's history. StoreTrackingId
reads it from DescribeEventTracker.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger

from common.clients import personalize_client
from common.errors import EventTrackerFailed, InvalidTrackingId
from common.personalize import ACTIVE, CREATE_FAILED, CREATING, describe_or_throttled, is_being_deleted
from common.polling import THROTTLED, PollRequest, PollResult, keep_waiting

logger = Logger()
personalize = personalize_client()


class CheckEventTrackerRequest(PollRequest):
    eventTrackerArn: str


def check_event_tracker(personalize: Any, request: CheckEventTrackerRequest, now: float) -> PollResult:
    arn = request["eventTrackerArn"]
    tracker = describe_or_throttled(
        lambda: personalize.describe_event_tracker(eventTrackerArn=arn)["eventTracker"],
        EventTrackerFailed(f"Event tracker {arn} disappeared while being created"),
    )
    if tracker is None:
        logger.warning("DescribeEventTracker throttled; waiting")
        return keep_waiting(f"DescribeEventTracker {arn}", THROTTLED, request, now)

    status = tracker.get("status", "")
    logger.info("Event tracker status", extra={"eventTrackerArn": arn, "status": status})
    if status == ACTIVE:
        if not (tracker.get("trackingId") or "").strip():
            raise InvalidTrackingId(f"Event tracker {arn} is ACTIVE but has no trackingId")
        return {"status": status, "ready": True, "waitSeconds": 0}
    if status == CREATE_FAILED:
        # DescribeEventTracker has no failureReason field.
        raise EventTrackerFailed(f"Event tracker {arn} is CREATE FAILED")
    if is_being_deleted(status):
        raise EventTrackerFailed(f"Event tracker {arn} is being deleted ({status})")
    if status not in CREATING:
        logger.warning("Unknown event tracker status; waiting", extra={"status": status})
    return keep_waiting(f"Event tracker {arn}", status, request, now, tracker.get("creationDateTime"))


@logger.inject_lambda_context(correlation_id_path="executionId")
def lambda_handler(event: CheckEventTrackerRequest, context: Any) -> PollResult:
    return check_event_tracker(personalize, event, now=time.time())
