"""A scheduled run that might not finish in one invocation continues in a new invocation of its own function.

The reconciler (dataset groups) and the sweeper (parameters) each hand the rest of their listing over this way,
asynchronously like the schedule's own invocation, through a policy that allows invoking only that function.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from aws_lambda_powertools import Logger

from common.clients import lambda_client

logger = Logger()
awslambda = functools.cache(lambda_client)  # made on the first hand-over only: big accounts


def continue_in_new_invocation(function_arn: str, payload: dict[str, Any]) -> None:
    """Invoke the function again (InvocationType Event) with where to go on from."""
    awslambda().invoke(FunctionName=function_arn, InvocationType="Event", Payload=json.dumps(payload).encode())
    logger.info("Continuing in a new invocation", extra=payload)
