"""Hostile inputs through the whole workflow: InvalidEvent with nothing written, or a clean success."""

from __future__ import annotations

from typing import Any

import pytest

from local.personalize_emulator import PersonalizeEmulator
from local.stack import LocalStack
from tests.hostile_inputs import HOSTILE, SEEDED


@pytest.mark.parametrize("payload, outcome", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input(stack: LocalStack, emulator: PersonalizeEmulator, payload: Any, outcome: str) -> None:
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
