"""The status view: every dataset group with what the application knows and will do, read only."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from local.engine import LocalEngine, Running, _running
from local.faults import Fault, inject
from local.personalize_emulator import PersonalizeEmulator, Timing
from tests.fakes import cloudtrail
from tests.helpers import REGION, create_event
from tools import status as status_tool


def trail(logging: bool = True, read_write: str = "WriteOnly") -> Any:
    """A CloudTrail trail in moto's account, logging this region's management events."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="trail-bucket")
    client = boto3.client("cloudtrail", region_name=REGION)
    client.create_trail(Name="management", S3BucketName="trail-bucket", IsMultiRegionTrail=True)
    client.put_event_selectors(
        TrailName="management", EventSelectors=[{"ReadWriteType": read_write, "IncludeManagementEvents": True}]
    )
    if logging:
        client.start_logging(Name="management")
    return client


def read_only_status(stack: LocalEngine, client: Any) -> status_tool.Status:
    """status() with every AWS call authorized against READ_ONLY_POLICY by the local IAM check."""
    stack.policies["Status"] = [status_tool.READ_ONLY_POLICY]
    token = _running.set(Running("Status", stack))
    try:
        parameters = stack.template.parameters  # what --stack-name reads from the stack
        return status_tool.status(
            stack.personalize,
            stack.ssm,
            stack.sfn,
            client,
            stack.state_machine_arn,
            parameters["ParameterPrefix"],
            parameters["ExcludeNamePattern"],
        )
    finally:
        _running.reset(token)


def test_every_group_with_what_is_known_and_what_will_be_done(make_stack: Any, emulator: PersonalizeEmulator) -> None:
    stack = make_stack(ExcludeNamePattern="sandbox-.*")
    for name in ("provisioned", "deleted", "missing", "sandbox-x", "failed"):
        if name == "failed":
            emulator.time_tracker(name, Timing(fails_with="bad schema"))
        stack.create_dataset_group(name)
    for name in ("provisioned", "deleted", "failed"):
        stack.run(create_event(name))
    [tracker] = emulator.trackers_of("deleted")
    _, deletion = cloudtrail.call(stack.personalize, "DeleteEventTracker", eventTrackerArn=tracker["eventTrackerArn"])
    stack.deliver(deletion)
    emulator.time_dataset_group("creating", Timing(pending=600))
    stack.create_dataset_group("creating")
    parameters_before = sorted(stack.parameters())
    executions_before = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]

    result = read_only_status(stack, trail())

    states = {name: line["state"] for name, line in result.groups.items()}
    assert states == {
        "provisioned": "provisioned",
        "deleted": "tracker deleted",
        "missing": "missing",
        "sandbox-x": "opted out",
        "failed": "failed",
        "creating": "being provisioned",
    }
    assert "/personalize/provisioned/tracking-id since" in result.groups["provisioned"]["detail"]
    assert cloudtrail.PERSON["arn"] in result.groups["deleted"]["detail"]
    assert result.groups["missing"]["action"] == "start the workflow"
    assert result.groups["deleted"]["action"].startswith("nothing")
    assert result.cloudtrail[0] is True and "management" in result.cloudtrail[1]
    assert stack.denied == []  # read only, and enough
    # Nothing was written, nothing started.
    assert sorted(stack.parameters()) == parameters_before
    after = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    assert len(after) == len(executions_before)


@pytest.mark.parametrize("logging, read_write", [(False, "All"), (True, "ReadOnly")])
def test_it_says_when_cloudtrail_does_not_send_personalize_calls(stack: LocalEngine, logging, read_write) -> None:
    result = read_only_status(stack, trail(logging, read_write))
    sends, why = result.cloudtrail
    assert sends is False and "wait for the next scheduled run" in why


def test_a_trail_it_cannot_read_is_said_and_the_others_are_read(stack: LocalEngine) -> None:
    """An organization trail seen from a member account, or another region's, can refuse GetTrailStatus."""
    client = trail()
    client.create_trail(Name="organization", S3BucketName="trail-bucket", IsMultiRegionTrail=True)
    client.start_logging(Name="organization")
    inject(Fault("cloudtrail", "GetTrailStatus", "TrailNotFoundException"), stack)

    sends, why = read_only_status(stack, client).cloudtrail

    assert sends is True and "could not read trail" in why and "TrailNotFoundException" in why


def test_when_no_trail_can_be_read_it_says_so_and_does_not_stop(stack: LocalEngine) -> None:
    client = trail()
    inject(Fault("cloudtrail", "GetEventSelectors", "AccessDeniedException"), stack)

    sends, why = read_only_status(stack, client).cloudtrail

    assert sends is False and "could not read trail management: " in why and "AccessDeniedException" in why


def test_it_renders_a_table(stack: LocalEngine) -> None:
    from rich.console import Console

    stack.create_dataset_group("missing")
    console = Console(record=True, width=200)
    status_tool.render(read_only_status(stack, boto3.client("cloudtrail", region_name=REGION)), console)
    text = console.export_text()
    assert "missing" in text and "start the workflow" in text and "CloudTrail: no" in text
