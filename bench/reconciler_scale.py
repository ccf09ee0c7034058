"""Reconciler at scale: N dataset groups, some missing their parameter, Personalize's reads rate-limited."""

from __future__ import annotations

import io
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from local.engine import LocalEngine
from local.faults import Fault, inject
from local.personalize_emulator import PersonalizeEmulator
from tests.scale import READS, populate

# Personalize's read calls the reconciler makes, each limited on its own (AWS rate-limits per API).
SETTINGS = {"ReconcileStartsPerSecond": 10}


@dataclass
class ScaleRun:
    groups: int
    missing: int
    reads_per_second: float
    wall_seconds: float
    checked: int
    started: int
    unchecked: int
    started_right: bool  # exactly the groups missing their parameter were started
    throttled_calls: int
    calls: int
    invocations: int = 1


def run(groups: int, missing: int, reads_per_second: float) -> ScaleRun:
    with PersonalizeEmulator() as emulator, LocalEngine(emulator, SETTINGS, time_scale=1.0) as stack:
        expected = populate(stack, emulator, groups, missing)
        for operation in READS:
            inject(Fault("personalize", operation, per_second=reads_per_second), emulator=emulator)
        before = emulator.stats()
        started = time.monotonic()
        reports = scheduled_run(stack, "ReconcilerFunction", "Reconciled")
        wall = time.monotonic() - started
        after = emulator.stats()
    calls = sum(after["calls"].get(op, 0) - before["calls"].get(op, 0) for op in READS)
    started_names = {name for r in reports for name in r["started"]}
    return ScaleRun(
        groups=groups,
        missing=missing,
        reads_per_second=reads_per_second,
        wall_seconds=wall,
        checked=sum(r["checked"] for r in reports),
        started=sum(len(r["started"]) for r in reports),
        unchecked=sum(len(r["unchecked"]) for r in reports),
        started_right=started_names == expected,
        throttled_calls=after["throttled"] - before["throttled"],
        calls=calls,
        invocations=len(reports),
    )


def scheduled_run(stack: LocalEngine, function: str, message: str) -> list[dict[str, Any]]:
    """Invoke the function as its schedule would; the answer of each invocation of the run (its `message` log line).

    A continuation is an invocation of its own (locally it may even finish before the one that started it): the run
    is over once the one invocation that did not hand over has reported."""
    logs = io.StringIO()
    # Every handler's Powertools Logger shares the service's logging.Logger and its one handler.
    [handler] = logging.getLogger("event-tracker-provisioner").handlers
    previous = handler.setStream(logs)  # type: ignore[attr-defined]
    try:
        stack.call(function, {})
        reports = _reports(logs.getvalue(), message)
        while all(report["continued"] for report in reports):  # also while none has reported
            time.sleep(0.2)
            reports = _reports(logs.getvalue(), message)
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]
    return reports


def _reports(logs: str, message: str) -> list[dict[str, Any]]:
    """The log line of each invocation that says `message`, in order."""
    return [json.loads(line) for line in logs.splitlines() if f'"message":"{message}"' in line]
