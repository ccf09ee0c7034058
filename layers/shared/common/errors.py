"""Errors the workflow reports by name.

A Python exception raised by a handler reaches Step Functions with its class
name as the error name, so each class here is named for what happened.
"""

from __future__ import annotations

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError


class ProvisioningError(Exception):
    """Base class: a reason the provisioning cannot go on."""


class InvalidEvent(ProvisioningError):
    """The input is neither a CreateDatasetGroup event nor {"datasetGroupArn": ...}."""


class DatasetGroupFailed(ProvisioningError):
    """The dataset group ended in CREATE FAILED or is being deleted."""


class DatasetGroupNotFound(ProvisioningError):
    """The dataset group does not exist (any more)."""


class DatasetFailed(ProvisioningError):
    """The Action interactions dataset ended in CREATE FAILED or is being deleted."""


class DatasetNotFound(ProvisioningError):
    """The Action interactions dataset does not exist (any more)."""


class EventTrackerFailed(ProvisioningError):
    """The tracker ended in CREATE FAILED, disappeared or is being deleted."""


class ProvisioningTimedOut(ProvisioningError):
    """ProvisioningTimeoutSeconds passed before the resource became ACTIVE."""


class LimitExceeded(ProvisioningError):
    """Personalize kept answering LimitExceeded or throttling until ProvisioningTimeoutSeconds."""


class ServiceUnreachable(ProvisioningError):
    """Personalize or SSM did not answer (timeouts, no connection, 5xx answers) until ProvisioningTimeoutSeconds."""


class Misconfigured(ProvisioningError):
    """An environment variable the template sets is missing or malformed."""


class InvalidTrackingId(ProvisioningError):
    """DescribeEventTracker returned no usable trackingId for an ACTIVE tracker."""


# Codes that mean "slow down" from Personalize (it models LimitExceededException
# only, but an unmodeled throttling code can still arrive).
_THROTTLING_CODES = frozenset({"LimitExceededException", "ThrottlingException", "TooManyRequestsException"})


class AwsError(Exception):
    """Base class of the exceptions named after an AWS error code (named_aws_error)."""

    operation = ""  # the call that answered it
    status = 0  # its HTTP status


_by_code: dict[str, type[AwsError]] = {}


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "ClientError"))


def is_throttling(error: ClientError) -> bool:
    """Personalize (or another service) says "slow down": a reason to wait, not to fail."""
    return error_code(error) in _THROTTLING_CODES


def named_aws_error(error: ClientError, throttling_as_limit: bool = True) -> LimitExceeded | AwsError:
    """The ClientError as an exception whose class name is the AWS error code.

    Step Functions shows a handler's exception class name as the error name, so
    an AccessDeniedException reaches the execution as `AccessDeniedException`
    rather than as the generic `ClientError`.
    """
    code = error_code(error)
    message = error.response.get("Error", {}).get("Message") or str(error)
    if throttling_as_limit and code in _THROTTLING_CODES:
        return LimitExceeded(f"{code}: {message}")
    if not code.isidentifier():
        code = "ClientError"
    cls = _by_code.setdefault(code, type(code, (AwsError,), {"__module__": __name__}))
    named = cls(message)
    named.operation = error.operation_name
    named.status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return named


# What the functions call SSM for; every other operation is Personalize's.
_SSM_OPERATIONS = frozenset(
    {
        "GetParameter",
        "PutParameter",
        "DeleteParameter",
        "AddTagsToResource",
        "GetParametersByPath",
        "LabelParameterVersion",
    }
)


def is_outage(error: BaseException) -> bool:
    """No answer once the client's attempts are spent: a timeout, no connection, a dropped connection, or a 5xx.
    Like throttling, a reason to wait and ask again, not to fail."""
    if isinstance(error, (BotocoreConnectionError, HTTPClientError)):  # Connect/ReadTimeoutError, Endpoint..., Closed
        return True
    if isinstance(error, ClientError):
        return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0) >= 500
    return isinstance(error, AwsError) and error.status >= 500


def unanswered(error: BaseException) -> str:
    """Which service did not answer, and how: "SSM did not answer (ReadTimeoutError: ...)"."""
    if isinstance(error, ClientError):
        operation = error.operation_name
    elif isinstance(error, AwsError):
        operation = error.operation
    else:
        operation = "ssm." if "ssm." in str(getattr(error, "kwargs", {}).get("endpoint_url", "")) else ""
    service = "SSM" if operation in _SSM_OPERATIONS or operation == "ssm." else "Personalize"
    return f"{service} did not answer ({type(error).__name__}: {error})"
