"""Hostile inputs through the whole workflow: InvalidEvent with nothing written, or a clean success."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from local.engine import LocalEngine
from local.personalize_emulator import PersonalizeEmulator
from tests.hostile_inputs import HOSTILE, SEEDED
from tests.strategies import generated_inputs


@pytest.mark.parametrize("payload, outcome", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input(stack: LocalEngine, emulator: PersonalizeEmulator, payload: Any, outcome: str) -> None:
    for name in SEEDED:
        stack.create_dataset_group(name)

    execution = stack.run(payload)

    if outcome == "InvalidEvent":
        assert (execution.status, execution.error) == ("FAILED", "InvalidEvent"), execution.cause
        assert len(execution.cause or "") < 2000
        assert stack.parameters() == []
        assert emulator.calls.get("CreateEventTracker", 0) == 0
    else:
        assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
        assert execution.failed_tasks == []
        [name] = stack.parameters()
        assert stack.parameter(name)["Value"] == execution.output["trackingId"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=generated_inputs)
def test_generated_inputs_through_the_workflow(stack: LocalEngine, emulator: PersonalizeEmulator, payload: Any) -> None:
    """One stack for all examples: each ends cleanly, and only a success writes a parameter."""
    for name in SEEDED:
        if not emulator.dataset_groups.get(f"arn:aws:personalize:us-east-1:123456789012:dataset-group/{name}"):
            stack.create_dataset_group(name)
    before = set(stack.parameters())

    execution = stack.run(payload)

    written = set(stack.parameters()) - before
    if execution.status == "SUCCEEDED":
        assert execution.failed_tasks == []
        assert written <= {execution.output["parameterName"]}
    else:
        # InvalidEvent, or a well-formed ARN of a dataset group that does not exist.
        assert execution.error in ("InvalidEvent", "DatasetGroupNotFound"), (execution.error, execution.cause)
        assert written == set()
