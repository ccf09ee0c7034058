"""Which errors are an outage (wait and ask again), what a cause says, and the deadline's error."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from common.errors import ServiceUnreachable, is_outage, named_aws_error, unanswered
from common.polling import UNAVAILABLE, PollRequest, wait_out_outage

PERSONALIZE = "https://personalize.us-east-1.amazonaws.com/"
SSM = "https://ssm.us-east-1.amazonaws.com/"


def client_error(code: str, status: int, operation: str = "DescribeEventTracker") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
    )


@pytest.mark.parametrize(
    "error",
    [
        ReadTimeoutError(endpoint_url=PERSONALIZE),
        ConnectTimeoutError(endpoint_url=PERSONALIZE),
        EndpointConnectionError(endpoint_url=SSM),
        ConnectionClosedError(endpoint_url=SSM),
        client_error("InternalServerError", 500),
        client_error("ServiceUnavailable", 503, "PutParameter"),
        named_aws_error(client_error("InternalFailure", 500)),
    ],
)
def test_no_answer_is_an_outage(error: Exception) -> None:
    assert is_outage(error)


@pytest.mark.parametrize(
    "error",
    [
        client_error("AccessDeniedException", 400),
        client_error("ResourceNotFoundException", 404),
        named_aws_error(client_error("InvalidInputException", 400)),
        NoCredentialsError(),
        ValueError("a bug"),
    ],
)
def test_an_answer_or_a_bug_is_not(error: Exception) -> None:
    assert not is_outage(error)


@pytest.mark.parametrize(
    ("error", "service"),
    [
        (ReadTimeoutError(endpoint_url=PERSONALIZE), "Personalize"),
        (EndpointConnectionError(endpoint_url=SSM), "SSM"),
        (client_error("InternalServerError", 500, "PutParameter"), "SSM"),
        (named_aws_error(client_error("InternalServerError", 500, "AddTagsToResource")), "SSM"),
        (client_error("ServiceUnavailable", 503, "CreateEventTracker"), "Personalize"),
    ],
)
def test_the_cause_says_which_service_did_not_answer(error: Exception, service: str) -> None:
    assert unanswered(error).startswith(f"{service} did not answer ({type(error).__name__}: ")


def request(started_seconds_ago: float, timeout: float = 60) -> PollRequest:
    start = datetime.fromtimestamp(time.time() - started_seconds_ago, UTC).isoformat()
    return {
        "executionId": "arn:aws:states:us-east-1:123456789012:execution:m:e",
        "executionStartTime": start,
        "previousWaitSeconds": 4,
        "polling": {"initialWaitSeconds": 1, "maxWaitSeconds": 30, "timeoutSeconds": timeout},
    }


def test_an_outage_before_the_deadline_waits_with_backoff() -> None:
    waiting = wait_out_outage("Event tracker x", ReadTimeoutError(endpoint_url=PERSONALIZE), request(10), time.time())
    assert waiting == {"status": UNAVAILABLE, "outcome": "waiting", "waitSeconds": 8}


def test_an_outage_past_the_deadline_is_service_unreachable() -> None:
    with pytest.raises(ServiceUnreachable, match=r"Event tracker x: SSM did not answer \(EndpointConnectionError"):
        wait_out_outage("Event tracker x", EndpointConnectionError(endpoint_url=SSM), request(61), time.time())


def test_any_other_error_is_raised_as_it_was() -> None:
    denied = client_error("AccessDeniedException", 400)
    with pytest.raises(ClientError) as raised:
        wait_out_outage("Event tracker x", denied, request(10), time.time())
    assert raised.value is denied
