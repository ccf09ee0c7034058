"""Beside CloudFormation's own AWS::Personalize::EventTracker: a stack that declares its dataset group and its
tracker must not have its tracker taken by this workflow (its CreateEventTracker would fail, the stack roll back)."""

from __future__ import annotations

import time

import pytest

from local.engine import LocalEngine
from local.personalize_emulator import PersonalizeEmulator
from tests.helpers import dataset_group_arn, event

NAME = "stack-recommendations"  # the dataset group of events/create-dataset-group-by-cloudformation.json
GRACE = 3


def wait_for_state(stack: LocalEngine, arn: str, state: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if state in [
            e["stateEnteredEventDetails"]["name"] for e in stack.history(arn) if "stateEnteredEventDetails" in e
        ]:
            return
        time.sleep(0.05)
    raise TimeoutError(f"{state} was never entered")


@pytest.mark.slow  # a deadline in real time, by design: `make test-slow`, which CI runs
def test_the_stacks_own_tracker_appearing_in_the_grace_period_is_adopted(
    make_stack, emulator: PersonalizeEmulator
) -> None:
    stack = make_stack({"time_scale": 1.0}, CloudFormationGraceSeconds=GRACE)  # the grace period's timing: real time
    stack.create_dataset_group(NAME)

    arn = stack.start(event("create-dataset-group-by-cloudformation.json"))
    wait_for_state(stack, arn, "WaitToCreateTracker")
    # CloudFormation creates the stack's AWS::Personalize::EventTracker meanwhile.
    stacks_tracker = stack.personalize.create_event_tracker(
        name="from-the-stack", datasetGroupArn=dataset_group_arn(NAME)
    )
    execution = stack.wait(arn)

    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["adopted"] is True
    assert execution.output["eventTrackerArn"] == stacks_tracker["eventTrackerArn"]
    assert [t["name"] for t in emulator.trackers_of(NAME)] == ["from-the-stack"]
    assert stack.parameter(stack.parameter_name(NAME))["Value"] == stacks_tracker["trackingId"]


@pytest.mark.slow  # a deadline in real time, by design: `make test-slow`, which CI runs
def test_when_the_stack_declares_no_tracker_one_is_created_after_the_grace_period(
    make_stack, emulator: PersonalizeEmulator
) -> None:
    stack = make_stack({"time_scale": 1.0}, CloudFormationGraceSeconds=GRACE)  # the grace period's timing: real time
    stack.create_dataset_group(NAME)

    execution = stack.run(event("create-dataset-group-by-cloudformation.json"))

    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["adopted"] is False
    # Asked while the grace period lasted, the stack had declared no tracker: waited, then created one.
    states = execution.states_entered()
    assert states.count("WaitToCreateTracker") >= 1
    assert states.count("CreateOrAdoptTracker") == states.count("WaitToCreateTracker") + 1
    assert execution.seconds >= GRACE * stack.time_scale  # on the engine's clock
    assert emulator.calls["CreateEventTracker"] == 1
    [tracker] = emulator.trackers_of(NAME)
    assert stack.parameter(stack.parameter_name(NAME))["Value"] == tracker["trackingId"]


def test_a_dataset_group_made_by_a_person_gets_no_grace_period(make_stack) -> None:
    stack = make_stack(CloudFormationGraceSeconds=60)
    stack.create_dataset_group("retail-recommendations")

    execution = stack.run(event("create-dataset-group.json"))

    assert execution.status == "SUCCEEDED", execution.cause
    assert "WaitToCreateTracker" not in execution.states_entered()
    assert execution.seconds < 60 * stack.time_scale  # no grace period, on the engine's clock
