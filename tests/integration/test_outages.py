"""Waiting is not failing: Personalize or SSM may not answer for minutes (calls time out, cannot connect, or get
5xx answers once the client's attempts are spent). The workflow waits it out with backoff, within
ProvisioningTimeoutSeconds, and only then fails, with ServiceUnreachable."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from local.engine import LocalEngine
from local.personalize_emulator import PersonalizeEmulator
from tests.helpers import event
from tests.integration.test_workflow import assert_failed

NAME = "retail-recommendations"
PARAMETER = f"/personalize/{NAME}/tracking-id"
CLOCK = {"time_scale": 0.01}  # minutes of outage on the engine's clock in seconds


@pytest.mark.parametrize(
    ("personalize_says", "ssm_says"),
    [
        ("ReadTimeoutError", "EndpointConnectionError"),
        ("ConnectTimeoutError", "ConnectionClosedError"),
        ("ServiceUnavailable", "InternalServerError"),
    ],
)
def test_minutes_without_an_answer_are_waited_out(
    make_stack: Callable[..., LocalEngine], emulator: PersonalizeEmulator, personalize_says: str, ssm_says: str
) -> None:
    stack = make_stack(CLOCK, ProvisioningTimeoutSeconds=1800, MaxPollIntervalSeconds=30)
    stack.create_dataset_group(NAME)
    stack.outage("personalize", 60, personalize_says)
    stack.outage("ssm", 120, ssm_says)
    stack.outage("ssm", 300, ssm_says, frozenset({"PutParameter"}))  # the store meets it

    execution = stack.run(event("create-dataset-group.json"))

    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.failed_tasks == []  # every outage answered "wait", none failed a task
    assert {hit.split(":")[0] for hit in stack.outage_hits} == {"personalize", "ssm"}
    assert "ssm:PutParameter" in stack.outage_hits  # the store itself waited, not only the checks before it
    [tracker] = emulator.trackers_of(NAME)
    assert stack.parameter(PARAMETER)["Value"] == tracker["trackingId"]


@pytest.mark.parametrize(("service", "cause"), [("personalize", "Personalize did not answer"), ("ssm", "SSM did not")])
def test_an_outage_longer_than_the_deadline_fails_with_service_unreachable(
    make_stack: Callable[..., LocalEngine], emulator: PersonalizeEmulator, service: str, cause: str
) -> None:
    stack = make_stack(CLOCK, ProvisioningTimeoutSeconds=90, MaxPollIntervalSeconds=30)
    stack.create_dataset_group(NAME)
    stack.outage(service, 3600, "ReadTimeoutError")

    execution = stack.run(event("create-dataset-group.json"))

    assert_failed(execution, "ServiceUnreachable", f"{cause} .*ReadTimeoutError.*after ProvisioningTimeoutSeconds")
    assert [e["lambdaFunctionFailedEventDetails"]["error"] for e in execution.failed_tasks] == ["ServiceUnreachable"]
    assert stack.parameter(PARAMETER) is None
    assert len(stack.notifications()) == 1  # the failure event, once


def test_a_create_whose_answer_was_lost_is_adopted_not_duplicated(
    make_stack: Callable[..., LocalEngine], emulator: PersonalizeEmulator
) -> None:
    """CreateEventTracker made the tracker, but no answer came back (each attempt, for a minute)."""
    stack = make_stack(CLOCK, MaxPollIntervalSeconds=30)
    stack.create_dataset_group(NAME)
    stack.outage("personalize", 60, "ReadTimeoutError", frozenset({"CreateEventTracker"}), acted=True)

    execution = stack.run(event("create-dataset-group.json"))

    assert execution.status == "SUCCEEDED", execution.cause
    assert "personalize:CreateEventTracker" in stack.outage_hits
    [tracker] = emulator.trackers_of(NAME)
    assert execution.output["adopted"] is True
    assert execution.output["eventTrackerArn"] == tracker["eventTrackerArn"]
    assert stack.parameter(PARAMETER)["Value"] == tracker["trackingId"]


def test_5xx_answers_past_the_clients_attempts_are_waited_out(
    stack: LocalEngine, emulator: PersonalizeEmulator, no_client_backoff: None
) -> None:
    """The emulator answers 500 for real: botocore retries each call 3 times, then the check waits."""
    stack.create_dataset_group(NAME)
    emulator.inject_error("DescribeEventTracker", "ServiceUnavailable", times=6)

    execution = stack.run(event("create-dataset-group.json"))

    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.failed_tasks == []
    assert emulator.calls["DescribeEventTracker"] >= 7
    [tracker] = emulator.trackers_of(NAME)
    assert stack.parameter(PARAMETER)["Value"] == tracker["trackingId"]
