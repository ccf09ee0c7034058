"""Every alarm can fire: for each alarm of the template, the local engine is driven into the condition it watches,
and the metric it reads is published (tests/fakes/metrics.py: what AWS publishes for what happened) with the alarm's
namespace, name and dimensions, at or past its threshold.

The alarms that need three periods in a row (the reconciler's and the sweeper's "unchecked") are shown one period
past the threshold: each run that cannot check publishes the same."""

from __future__ import annotations

import copy
import operator
from collections.abc import Callable
from typing import Any

import pytest

from common import polling
from local.engine import LocalEngine
from local.faults import Fault, inject
from local.personalize_emulator import PersonalizeEmulator, Timing
from local.template import Template
from tests.fakes.metrics import Datum, published
from tests.helpers import event

NAME = "retail-recommendations"
COMPARE = {
    "GreaterThanOrEqualToThreshold": operator.ge,
    "GreaterThanThreshold": operator.gt,
}


def alarms() -> dict[str, dict[str, Any]]:
    template = Template()
    return {
        logical_id: template.resolve(resource["Properties"])
        for logical_id, resource in template.resources("AWS::CloudWatch::Alarm").items()
    }


def watched(alarm: dict[str, Any]) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """(namespace, metric, dimensions) the alarm reads: its own, or its metric math's one metric."""
    if "Metrics" in alarm:
        [stat] = [m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m]
    else:
        stat = alarm
    dimensions = tuple(sorted((d["Name"], str(d["Value"])) for d in stat.get("Dimensions", [])))
    return stat["Namespace"], stat["MetricName"], dimensions


# ------------------------------------------------------------------ the conditions
def a_failed_execution(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    stack.run(event("create-dataset-group.json"))  # no such dataset group: DatasetGroupNotFound


def an_execution_looping_by_mistake(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    """A tracker that never becomes ACTIVE and a deadline that never comes: the backstop TimeoutSeconds ends it."""
    emulator.time_tracker(NAME, Timing(pending=10**7))
    stack.create_dataset_group(NAME)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(polling, "seconds_left", lambda *args: 10.0**9)
        assert stack.run(event("create-dataset-group.json")).status == "TIMED_OUT"


def a_start_the_target_refused(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    stack.create_dataset_group(NAME)
    stack.sfn.delete_state_machine(stateMachineArn=stack.state_machine_arn)
    stack.deliver(event("create-dataset-group.json"))


def denied(function: str, deliver: dict[str, Any]) -> Callable[[LocalEngine, PersonalizeEmulator], None]:
    """Every AWS call of `function` is denied (its role lost its policies), then EventBridge delivers `deliver`:
    Lambda's two retries fail too, and the event goes to the function's dead-letter queue."""

    def condition(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
        stack.create_dataset_group(NAME)
        stack.policies[function] = []
        stack.deliver(deliver)

    return condition


def a_refused_deletion() -> dict[str, Any]:
    refused = copy.deepcopy(event("delete-dataset-group.json"))
    refused["detail"]["errorCode"] = "ResourceInUseException"
    refused["detail"]["errorMessage"] = "Event tracker is still attached"
    return refused


def a_run_that_fails(function: str) -> Callable[[LocalEngine, PersonalizeEmulator], None]:
    def condition(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
        stack.create_dataset_group(NAME)
        stack.policies[function] = []
        with pytest.raises(Exception, match="AccessDenied"):
            stack.call(function, event("scheduled-event.json"))

    return condition


def a_reconciler_that_cannot_check_a_group(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    stack.create_dataset_group(NAME)
    inject(Fault("ssm", "GetParameter", "AccessDeniedException", times=20), stack)
    stack.call("ReconcilerFunction", event("scheduled-event.json"))


def a_sweeper_that_cannot_check_a_parameter(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    stack.ssm.put_parameter(Name=stack.parameter_name("gone"), Value="x", Type="String")
    inject(Fault("ssm", "ListTagsForResource", "AccessDeniedException", times=20), stack)
    stack.call("SweeperFunction", event("scheduled-event.json"))


def a_hand_over_that_fails(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    """A run with too little time hands everything over; the continuation fails, and so do Lambda's two retries."""
    stack.create_dataset_group(NAME)
    inject(Fault("personalize", "ListDatasetGroups", "AccessDeniedException", times=3), stack)
    assert stack.call("ReconcilerFunction", event("scheduled-event.json"), timeout_seconds=1)["continued"] is True
    [(function, continuation)] = stack.dead_letters
    assert function == "ReconcilerFunction" and "nextToken" in continuation  # where to go on from


def a_tracking_id_stored(stack: LocalEngine, emulator: PersonalizeEmulator) -> None:
    stack.create_dataset_group(NAME)
    assert stack.run(event("create-dataset-group.json")).status == "SUCCEEDED"


CONDITIONS: dict[str, tuple[Callable[[LocalEngine, PersonalizeEmulator], None], dict[str, Any]]] = {
    "ProvisioningFailedAlarm": (a_failed_execution, {}),
    "ProvisioningTimedOutAlarm": (an_execution_looping_by_mistake, {"time_scale": 3e-5}),
    "ProvisioningDeadLetterAlarm": (a_start_the_target_refused, {}),
    "TeardownDeadLetterAlarm": (denied("TeardownFunction", event("delete-dataset-group.json")), {}),
    "TeardownErrorsAlarm": (denied("TeardownFunction", event("delete-dataset-group.json")), {}),
    "ReleaseTrackerErrorsAlarm": (denied("ReleaseTrackerFunction", a_refused_deletion()), {}),
    "ReconcilerErrorsAlarm": (a_run_that_fails("ReconcilerFunction"), {}),
    "ReconcilerUncheckedAlarm": (a_reconciler_that_cannot_check_a_group, {}),
    "ScheduledRunDeadLetterAlarm": (a_hand_over_that_fails, {}),
    "SweeperErrorsAlarm": (a_run_that_fails("SweeperFunction"), {}),
    "SweeperUncheckedAlarm": (a_sweeper_that_cannot_check_a_parameter, {}),
    "ProvisioningLagAlarm": (a_tracking_id_stored, {}),
}


def test_every_alarm_has_a_condition_here() -> None:
    assert sorted(CONDITIONS) == sorted(alarms())


@pytest.mark.parametrize("name", sorted(CONDITIONS))
def test_the_alarm_can_fire(
    name: str,
    make_stack: Callable[..., LocalEngine],
    emulator: PersonalizeEmulator,
    capfd: pytest.CaptureFixture[str],
) -> None:
    condition, engine = CONDITIONS[name]
    alarm = alarms()[name]
    stack = make_stack(engine)
    capfd.readouterr()

    condition(stack, emulator)

    data = published(stack, capfd.readouterr().out)
    namespace, metric, dimensions = watched(alarm)
    found = [d for d in data if (d.namespace, d.name, d.dimensions) == (namespace, metric, dimensions)]
    assert found, f"{namespace} {metric} {dimensions} not in {sorted(set((d.namespace, d.name) for d in data))}"
    [datum] = found
    assert passes(alarm, datum), (datum, alarm.get("Threshold"))


def passes(alarm: dict[str, Any], datum: Datum) -> bool:
    if "Metrics" in alarm:  # metric math (the lag alarm): its expression's value against the threshold is timing;
        return datum.value > 0  # here, that the metric is published at all
    return bool(COMPARE[alarm["ComparisonOperator"]](datum.value, float(alarm["Threshold"])))
