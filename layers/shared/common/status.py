"""A status check: describe a resource being created; it is ACTIVE, still being created (wait), or failed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from common.errors import ProvisioningError
from common.personalize import ACTIVE, CREATE_FAILED, CREATING, describe_or_throttled, is_being_deleted
from common.polling import THROTTLED, PollRequest, PollResult, keep_waiting, wait_out_outage

logger = Logger()


def check_status(
    label: str,
    arn: str,
    describe: Callable[[], dict[str, Any]],
    not_found: ProvisioningError,
    failed: type[ProvisioningError],
    request: PollRequest,
    now: float,
    on_create_failed: Callable[[dict[str, Any]], None] = lambda resource: None,
) -> tuple[dict[str, Any] | None, PollResult]:
    """(the resource, ready) once ACTIVE; (None, how long to wait) while it is being created or Personalize throttled
    the call or did not answer; `failed` when it failed (after `on_create_failed`) or is being deleted; `not_found`
    when it does not exist."""
    try:
        resource = describe_or_throttled(describe, not_found)
    except Exception as error:
        return None, waiting_out_outage(f"{label} {arn}", error, request, now)
    if resource is None:
        logger.warning("Describe throttled; waiting", extra={"arn": arn})
        return None, keep_waiting(f"{label} {arn}", THROTTLED, request, now)
    status = resource.get("status", "")
    logger.info(f"{label} status", extra={"arn": arn, "status": status})
    if status == ACTIVE:
        return resource, {"status": status, "outcome": "ready", "waitSeconds": 0}
    if status == CREATE_FAILED:
        try:
            on_create_failed(resource)
        except Exception as error:  # recorded before the failure is reported: wait for the outage to end
            return None, waiting_out_outage(f"{label} {arn}", error, request, now)
        reason = resource.get("failureReason")  # DescribeDatasetGroup's; trackers and datasets have none
        raise failed(f"{label} {arn} is {status}" + (f": {reason}" if reason else ""))
    if is_being_deleted(status):
        raise failed(f"{label} {arn} is being deleted ({status})")
    if status not in CREATING:
        logger.warning(f"Unknown {label.lower()} status; waiting", extra={"status": status})
    return None, keep_waiting(f"{label} {arn}", status, request, now, resource.get("creationDateTime"))


def waiting_out_outage(what: str, error: Exception, request: PollRequest, now: float) -> PollResult:
    """common.polling.wait_out_outage, logged."""
    waiting = wait_out_outage(what, error, request, now)
    logger.warning("No answer; waiting", extra={"what": what, "reason": str(error), **waiting})
    return waiting
