"""A scheduled run that might not finish in one invocation continues in a new invocation of its own function.

The reconciler (dataset groups) and the sweeper (parameters) each hand the rest of their listing over this way,
asynchronously like the schedule's own invocation, through a policy that allows invoking only that function.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger

from common.clients import Deadline, OutOfTime, lambda_client

logger = Logger()
awslambda = functools.cache(lambda_client)  # made on the first hand-over only: big accounts


def continue_in_new_invocation(function_arn: str, payload: dict[str, Any]) -> None:
    """Invoke the function again (InvocationType Event) with where to go on from."""
    awslambda().invoke(FunctionName=function_arn, InvocationType="Event", Payload=json.dumps(payload).encode())
    logger.info("Continuing in a new invocation", extra=payload)


Result = TypeVar("Result")


def within_deadline(
    work: Callable[[], Result],
    deadline: Deadline | None,
    seconds_left: Callable[[], float],
    hand_over: Callable[[str], None] | None,
    cursor: Callable[[], str | None],
) -> Result | None:
    """Do the work with the clients' deadline set to this invocation's; when a call could not begin in the time
    left, hand over from `cursor()` (where the work had got to) and answer None."""
    if deadline is not None:
        deadline.seconds_left = seconds_left
    try:
        return work()
    except OutOfTime as error:
        if hand_over is None:
            raise
        logger.warning("Out of time", extra={"reason": str(error)})
        hand_over(cursor() or "")
        return None
