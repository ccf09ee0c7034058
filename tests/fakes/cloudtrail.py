"""CloudTrail records of Personalize calls as EventBridge delivers them ("AWS API Call via CloudTrail").

A refused call carries `errorCode` and `errorMessage` and no `responseElements`. A call a CloudFormation stack made
names the service in `userIdentity.invokedBy`, `sourceIPAddress` and `userAgent`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from local.engine import ACCOUNT, REGION

PERSON = {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/alice", "principalId": "AIDAEXAMPLE"}
CLOUDFORMATION = {
    "type": "AssumedRole",
    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/session",
    "invokedBy": "cloudformation.amazonaws.com",
}


def record(
    name: str,
    request: dict[str, Any],
    response: dict[str, Any] | None = None,
    error: ClientError | None = None,
    identity: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    stamp = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    who = identity or PERSON
    by_stack = who.get("invokedBy") == "cloudformation.amazonaws.com"
    detail: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": who,
        "eventTime": stamp,
        "eventSource": "personalize.amazonaws.com",
        "eventName": name,
        "awsRegion": REGION,
        "sourceIPAddress": "cloudformation.amazonaws.com" if by_stack else "203.0.113.7",
        "userAgent": "cloudformation.amazonaws.com" if by_stack else "aws-cli/2",
        "requestParameters": request,
        "responseElements": None if error is not None else response,
        "eventID": str(uuid.uuid4()),
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT,
    }
    if error is not None:
        detail["errorCode"] = error.response["Error"]["Code"]
        detail["errorMessage"] = error.response["Error"].get("Message", "")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.personalize",
        "account": ACCOUNT,
        "time": stamp,
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


def call(
    personalize: Any, operation: str, identity: dict[str, Any] | None = None, /, **request: Any
) -> tuple[Any, dict[str, Any]]:
    """Make a person's (or a stack's) Personalize call: (its answer or the ClientError, its CloudTrail event)."""
    method = "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")
    try:
        answer = getattr(personalize, method)(**request)
    except ClientError as error:
        return error, record(operation, request, error=error, identity=identity)
    answer = {k: v for k, v in answer.items() if k != "ResponseMetadata"}
    return answer, record(operation, request, response=answer or None, identity=identity)
