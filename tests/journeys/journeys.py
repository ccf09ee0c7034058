"""The user journeys, each written once against a World (world.py): the same code runs on the local engine and in
an AWS account. Each returns what it measured and what it saw; an assertion that fails is its failure."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from tests.journeys.world import StackResource, World

# What the local engine answers, for the report: a real run that sees otherwise says so.
LOCAL_ANSWERS = {
    "the API's error for a refused DeleteDatasetGroup": "ResourceInUseException",
    "CloudTrail's errorCode for a refused deletion": "ResourceInUseException",
    "the field of the hook's request that carried the properties": "previousResourceProperties",
    "a stack's first delete": "DELETE_COMPLETE",
}


@dataclass
class Outcome:
    journey: str
    ok: bool = False
    seconds: float = 0.0
    figures: dict[str, Any] = field(default_factory=dict)  # timings, in seconds
    seen: dict[str, Any] = field(default_factory=dict)  # answers the report compares with LOCAL_ANSWERS
    error: str = ""


def a_new_dataset_group(w: World, seen: dict[str, Any], figures: dict[str, Any]) -> None:
    """A new dataset group gets its tracker and its tracking-id parameter, and PutEvents with that ID is accepted."""
    created = time.monotonic()
    name, arn = w.create_dataset_group("new", interactions=True)
    tracking_id = w.tracking_id(name)
    figures["CreateDatasetGroup to the parameter"] = round(time.monotonic() - created, 1)
    [tracker] = w.trackers(arn)
    described = w.personalize.describe_event_tracker(eventTrackerArn=tracker["eventTrackerArn"])["eventTracker"]
    assert (described["status"], described["trackingId"]) == ("ACTIVE", tracking_id), described
    w.events.put_events(
        trackingId=tracking_id,
        userId="journey-user",
        sessionId="journey-session",
        eventList=[{"eventType": "click", "itemId": "journey-item", "sentAt": datetime.now(UTC)}],
    )


def a_person_deletes_the_tracker(w: World, seen: dict[str, Any], figures: dict[str, Any]) -> None:
    """No tracker is made again; the record says who deleted it, and tools.status shows it; a start by hand brings
    the tracker back."""
    name, arn = w.create_dataset_group("person")
    w.tracking_id(name)
    [tracker] = w.trackers(arn)
    deleted = time.monotonic()
    w.personalize.delete_event_tracker(eventTrackerArn=tracker["eventTrackerArn"])
    hold_name = f"{w.prefix}/{name}/tracker-hold"
    hold = w.wait(lambda: w.parameter(hold_name), f"{hold_name} recorded", w.timeouts.event)
    figures["DeleteEventTracker to the record"] = round(time.monotonic() - deleted, 1)
    record = json.loads(hold)
    assert (record["kind"], record["by"]) == ("deleted", w.person()), record
    w.wait(lambda: not w.trackers(arn), "the tracker gone", w.timeouts.release)
    report = w.run_reconciler()
    assert name in report.get("held", {}) and name not in report.get("started", []), report
    assert w.trackers(arn) == [] and w.parameter(f"{w.prefix}/{name}/tracking-id") is None
    line = w.status().groups[name]
    assert line["state"] == "tracker deleted" and w.person() in line["detail"], line
    w.start_by_hand(arn)
    w.tracking_id(name)
    assert len(w.trackers(arn)) == 1 and w.parameter(hold_name) is None


def a_script_deletes_the_group(w: World, seen: dict[str, Any], figures: dict[str, Any]) -> None:
    """DeleteDatasetGroup without deleting the tracker: the first is refused, a retry succeeds, and nothing of the
    group is left in SSM."""
    name, arn = w.create_dataset_group("script")
    w.tracking_id(name)
    first = time.monotonic()
    try:
        w.personalize.delete_dataset_group(datasetGroupArn=arn)
        raise AssertionError("the first DeleteDatasetGroup was not refused")
    except ClientError as error:
        seen["the API's error for a refused DeleteDatasetGroup"] = error.response["Error"]["Code"]
    w.wait(lambda: retried(w, arn), "a retried DeleteDatasetGroup accepted", w.timeouts.release)
    figures["the refused deletion to the accepted retry"] = round(time.monotonic() - first, 1)
    w.wait(lambda: w.status_of(arn) is None, f"{name} gone", w.timeouts.release)
    w.wait(lambda: w.parameters_of(name) == [] or None, f"nothing under {w.prefix}/{name}", w.timeouts.event)
    refused = logged(w, "Refused deletion", lambda r: r.get("eventName") == "DeleteDatasetGroup")
    codes = sorted({str(r.get("errorCode")) for r in refused})
    seen["CloudTrail's errorCode for a refused deletion"] = ", ".join(codes) or "not seen"


def logged(w: World, message: str, which: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """The application's log lines with this message (they reach CloudWatch Logs within seconds), or none."""
    try:
        return w.wait(lambda: [r for r in w.log_records(message) if which(r)], message, w.timeouts.event / 10)
    except TimeoutError:
        return []


def retried(w: World, arn: str) -> bool:
    try:
        w.personalize.delete_dataset_group(datasetGroupArn=arn)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return True
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
        return False
    return True


def a_stack_deletes_its_group(w: World, seen: dict[str, Any], figures: dict[str, Any]) -> None:
    """A stack that declares a dataset group and its Item interactions dataset, but no tracker, deletes the first
    time."""
    name = w.name("stack")
    group = {"Fn::GetAtt": ["Group", "DatasetGroupArn"]}
    interactions = {"Name": f"{name}-interactions", "DatasetType": "Interactions", "DatasetGroupArn": group}
    stack = w.create_stack(
        name,
        [
            StackResource("Group", "AWS::Personalize::DatasetGroup", {"Name": name}),
            StackResource("Interactions", "AWS::Personalize::Dataset", {**interactions, "SchemaArn": w.schema()}),
        ],
    )
    w.tracking_id(name)
    deleting = time.monotonic()
    seen["a stack's first delete"] = w.delete_stack(stack)
    figures["delete-stack to its end"] = round(time.monotonic() - deleting, 1)
    assert seen["a stack's first delete"] == "DELETE_COMPLETE"
    w.wait(lambda: w.parameters_of(name) == [] or None, f"nothing under {w.prefix}/{name}", w.timeouts.event)
    fields = sorted({str(r.get("propertiesFrom")) for r in logged(w, "Hook request", lambda r: True)})
    seen["the field of the hook's request that carried the properties"] = ", ".join(fields) or "not seen"


def the_status_view(w: World, seen: dict[str, Any], figures: dict[str, Any]) -> None:
    """tools.status lists each group as the journeys left it."""
    groups = w.status().groups
    expected = {w.name("new"): "provisioned", w.name("person"): "provisioned"}
    assert {name: groups.get(name, {}).get("state") for name in expected} == expected, groups
    assert not {w.name("script"), w.name("stack")} & set(groups), groups


JOURNEYS: list[Callable[[World, dict[str, Any], dict[str, Any]], None]] = [
    a_new_dataset_group,
    a_person_deletes_the_tracker,
    a_script_deletes_the_group,
    a_stack_deletes_its_group,
    the_status_view,
]


def run(w: World, only: list[str] | None = None, announce: Callable[[Any], None] | None = None) -> list[Outcome]:
    """Every journey (or those named), in order; then the run's resources are deleted, whatever happened."""
    outcomes = []
    try:
        for journey in JOURNEYS:
            if only and journey.__name__ not in only:
                continue
            if announce is not None:
                announce(journey)
            outcome = Outcome(journey.__name__)
            began = time.monotonic()
            try:
                journey(w, outcome.seen, outcome.figures)
                outcome.ok = True
            except Exception as error:  # the report says which journey failed and why; the others still run
                outcome.error = f"{type(error).__name__}: {error}"[:500]
            outcome.seconds = round(time.monotonic() - began, 1)
            outcomes.append(outcome)
    finally:
        w.clean()
    return outcomes


def differences(outcomes: list[Outcome]) -> list[str]:
    """The answers a run saw that the local engine would not have given."""
    seen = {key: value for outcome in outcomes for key, value in outcome.seen.items()}
    return [
        f"{key}: {seen[key]} (the local engine: {local})"
        for key, local in LOCAL_ANSWERS.items()
        if key in seen and seen[key] != local
    ]


def report(outcomes: list[Outcome], target: str) -> str:
    """The run as Markdown: each journey's result and time, what it measured, and what differed."""
    lines = [f"# Journeys on {target}", "", f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", ""]
    lines += ["| journey | result | seconds | measured |", "|---|---|---|---|"]
    for o in outcomes:
        measured = "; ".join(f"{k}: {v} s" for k, v in o.figures.items())
        lines.append(f"| {o.journey} | {'passed' if o.ok else 'FAILED: ' + o.error} | {o.seconds} | {measured} |")
    seen = {key: value for o in outcomes for key, value in o.seen.items()}
    lines += ["", "| what AWS answered | value |", "|---|---|"]
    lines += [f"| {key} | {seen.get(key, 'not reached')} |" for key in LOCAL_ANSWERS]
    lines += ["", "Answers the local engine would not have given:", ""]
    lines += [f"- {d}" for d in differences(outcomes)] or ["- none"]
    passed = sum(o.ok for o in outcomes)
    lines += ["", f"{passed} passed, {len(outcomes) - passed} failed"]
    return "\n".join(lines) + "\n"
