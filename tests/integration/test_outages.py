"""Waiting is not failing: Personalize or SSM may not answer for minutes (calls time out, cannot connect, or get
5xx answers once the client's attempts are spent). The workflow waits it out with backoff, within
ProvisioningTimeoutSeconds, and only then fails, with ServiceUnreachable."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from local.engine import LocalEngine
from local.faults import Fault, inject
from local.personalize_emulator import PersonalizeEmulator
from tests.helpers import event
from tests.integration.test_workflow import assert_failed

NAME = "retail-recommendations"
PARAMETER = f"/personalize/{NAME}/tracking-id"
CLOCK = {"time_scale": 0.005}  # minutes of outage on the engine's clock in a second or two


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
    inject(Fault("personalize", error=personalize_says, seconds=60), stack)
    inject(Fault("ssm", error=ssm_says, seconds=120), stack)
    inject(Fault("ssm", "PutParameter", error=ssm_says, seconds=300), stack)  # the store meets it

    execution = stack.run(event("create-dataset-group.json"))

    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.failed_tasks == []  # every outage answered "wait", none failed a task
    assert {hit.split(":")[0] for hit in stack.faults.hits} == {"personalize", "ssm"}
    assert "ssm:PutParameter" in stack.faults.hits  # the store itself waited, not only the checks before it
    [tracker] = emulator.trackers_of(NAME)
    assert stack.parameter(PARAMETER)["Value"] == tracker["trackingId"]


@pytest.mark.parametrize(("service", "cause"), [("personalize", "Personalize did not answer"), ("ssm", "SSM did not")])
def test_an_outage_longer_than_the_deadline_fails_with_service_unreachable(
    make_stack: Callable[..., LocalEngine], emulator: PersonalizeEmulator, service: str, cause: str
) -> None:
    stack = make_stack(CLOCK, ProvisioningTimeoutSeconds=90, MaxPollIntervalSeconds=30)
    stack.create_dataset_group(NAME)
    inject(Fault(service, error="ReadTimeoutError", seconds=3600), stack)

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
    inject(Fault("personalize", "CreateEventTracker", error="ReadTimeoutError", seconds=60, acted=True), stack)

    execution = stack.run(event("create-dataset-group.json"))

    assert execution.status == "SUCCEEDED", execution.cause
    assert "personalize:CreateEventTracker" in stack.faults.hits
    [tracker] = emulator.trackers_of(NAME)
    assert execution.output["adopted"] is True
    assert execution.output["eventTrackerArn"] == tracker["eventTrackerArn"]
    assert stack.parameter(PARAMETER)["Value"] == tracker["trackingId"]


def test_5xx_answers_past_the_clients_attempts_are_waited_out(
    stack: LocalEngine, emulator: PersonalizeEmulator, no_client_backoff: None
) -> None:
    """The emulator answers 500 for real: botocore retries each call 3 times, then the check waits."""
    stack.create_dataset_group(NAME)
    inject(Fault("personalize", "DescribeEventTracker", "ServiceUnavailable", times=6), emulator=emulator)

    execution = stack.run(event("create-dataset-group.json"))

    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.failed_tasks == []
    assert emulator.calls["DescribeEventTracker"] >= 7
    [tracker] = emulator.trackers_of(NAME)
    assert stack.parameter(PARAMETER)["Value"] == tracker["trackingId"]
