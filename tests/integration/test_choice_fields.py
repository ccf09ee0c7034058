"""Every Choice compares fields that are there: each task result carries every field its Choices read.

A rule on a missing field fails the execution with States.Runtime on AWS, unless an engine happens to skip
it (an And after a false IsPresent); nothing may depend on that order. Every test that uses the `make_stack`
fixture checks this for each execution it waits for (tests/conftest.py); the runs here reach each outcome
of each task a Choice reads: created, adopted, opted out, throttled, stored, failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from local.engine import LocalEngine
from local.faults import Fault, inject
from local.personalize_emulator import PersonalizeEmulator, ServiceError, Timing
from tests.helpers import choice_reads_missing, dataset_group_arn, event

GROUP = "retail-recommendations"
SCHEMA = "arn:aws:personalize:us-east-1:123456789012:schema/retail-action-interactions"


def throttle_calls(emulator: PersonalizeEmulator, operation: str, numbers: range) -> None:
    """The operation's calls with these numbers (1 is the first) answer LimitExceeded."""
    original = emulator.handle
    seen = {"calls": 0}

    def handle(name: str, params: Any) -> dict[str, Any]:
        if name == operation:
            seen["calls"] += 1
            if seen["calls"] in numbers:
                raise ServiceError("LimitExceededException", "Rate exceeded")
        return original(name, params)

    emulator.handle = handle  # type: ignore[method-assign]


def action_dataset(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    emulator.time_dataset_group(GROUP, Timing())
    stack.create_dataset_group(GROUP)
    stack.personalize.create_dataset(
        name=f"{GROUP}-actions",
        schemaArn=SCHEMA,
        datasetGroupArn=dataset_group_arn(GROUP),
        datasetType="Action_Interactions",
    )


def created(stack: LocalEngine, emulator: PersonalizeEmulator) -> Any:
    stack.create_dataset_group(GROUP)
    return event("create-dataset-group.json")


def adopted_after_a_throttled_check(stack: LocalEngine, emulator: PersonalizeEmulator) -> Any:
    emulator.time_dataset_group(GROUP, Timing())
    emulator.time_tracker(GROUP, Timing())
    arn = stack.create_dataset_group(GROUP)
    stack.personalize.create_event_tracker(name="by-hand", datasetGroupArn=arn)
    # CheckEventTracker's first read is throttled through botocore's three attempts.
    throttle_calls(emulator, "DescribeEventTracker", range(1, 4))
    return event("create-dataset-group.json")


def stack_grace(stack: LocalEngine, emulator: PersonalizeEmulator) -> Any:
    stack.create_dataset_group("stack-recommendations")
    return event("create-dataset-group-by-cloudformation.json")


def throttled_create(stack: LocalEngine, emulator: PersonalizeEmulator) -> Any:
    inject(Fault("personalize", "CreateEventTracker", "LimitExceededException", times=4), emulator=emulator)
    stack.create_dataset_group(GROUP)
    return event("create-dataset-group.json")


def opted_out(stack: LocalEngine, emulator: PersonalizeEmulator) -> Any:
    stack.create_dataset_group(GROUP, tags=[{"tagKey": "event-tracker-provisioner:skip", "tagValue": "true"}])
    return event("create-dataset-group.json")


def tracker_failed(stack: LocalEngine, emulator: PersonalizeEmulator) -> Any:
    emulator.tracker_timing = Timing(pending=0.5, fails_with="Injected")
    stack.create_dataset_group(GROUP)
    return event("create-dataset-group.json")


def invalid_input(stack: LocalEngine, emulator: PersonalizeEmulator) -> Any:
    return {"datasetGroupArn": "not an ARN"}


def action_stored_after_a_throttled_read(stack: LocalEngine, emulator: PersonalizeEmulator) -> Any:
    action_dataset(stack, emulator)
    throttle_calls(emulator, "DescribeDataset", range(1, 4))
    return event("create-action-interactions-dataset.json")


def action_opted_out(stack: LocalEngine, emulator: PersonalizeEmulator) -> Any:
    emulator.time_dataset_group(GROUP, Timing())
    stack.create_dataset_group(GROUP, tags=[{"tagKey": "event-tracker-provisioner:skip", "tagValue": "true"}])
    stack.personalize.create_dataset(
        name=f"{GROUP}-actions",
        schemaArn=SCHEMA,
        datasetGroupArn=dataset_group_arn(GROUP),
        datasetType="Action_Interactions",
    )
    return event("create-action-interactions-dataset.json")


SCENARIOS: dict[str, tuple[Callable[[LocalEngine, PersonalizeEmulator], Any], str, set[str]]] = {
    # name: (set-up, the execution's status, states it must pass through)
    "created": (created, "SUCCEEDED", {"WaitForEventTracker", "IsTrackingIdStored"}),
    "adopted, check throttled": (adopted_after_a_throttled_check, "SUCCEEDED", {"WaitForEventTracker"}),
    "create throttled": (throttled_create, "SUCCEEDED", {"WaitToCreateTracker"}),
    "a stack's grace period": (stack_grace, "SUCCEEDED", {"WaitToCreateTracker"}),
    "opted out": (opted_out, "SUCCEEDED", {"OptedOut"}),
    "tracker failed": (tracker_failed, "FAILED", {"ParseLambdaError"}),
    "invalid input": (invalid_input, "FAILED", {"NoDatasetGroup", "ReadFailure"}),
    "action, check throttled": (action_stored_after_a_throttled_read, "SUCCEEDED", {"WaitForDataset"}),
    "action, opted out": (action_opted_out, "SUCCEEDED", {"ActionOptedOut"}),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_no_choice_reads_a_missing_field(scenario: str, make_stack, emulator: PersonalizeEmulator) -> None:
    setup, status, states = SCENARIOS[scenario]
    stack = make_stack(CloudFormationGraceSeconds=10)  # 2 s on the engine's clock: longer than one step under load
    execution = stack.run(setup(stack, emulator))

    assert execution.status == status, execution.cause
    assert states <= set(execution.states_entered()), execution.states_entered()
    assert choice_reads_missing(json.loads(stack.machine.definition), execution.history) == []


def test_the_check_finds_a_rule_on_a_missing_field() -> None:
    """The check itself: a plain comparison on a field the input lacks is reported; IsPresent is not."""
    definition = {
        "States": {
            "WasStoreThrottled": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.provisioned.throttled", "BooleanEquals": True, "Next": "Wait"},
                    {"Variable": "$.provisioned.reason", "IsPresent": True, "Next": "Skipped"},
                    {"And": [{"Variable": "$.provisioned.skipped", "BooleanEquals": True}], "Next": "Skipped"},
                ],
            }
        }
    }
    history = [
        {
            "type": "ChoiceStateEntered",
            "stateEnteredEventDetails": {"name": "WasStoreThrottled", "input": json.dumps({"provisioned": {}})},
        }
    ]
    assert choice_reads_missing(definition, history) == [
        "WasStoreThrottled: $.provisioned.throttled",
        "WasStoreThrottled: $.provisioned.skipped",
    ]
    history[0]["stateEnteredEventDetails"]["input"] = json.dumps(
        {"provisioned": {"throttled": False, "skipped": False}}
    )
    assert choice_reads_missing(definition, history) == []
