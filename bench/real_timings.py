"""The workflow at the timings Personalize really has, side by side with the peers' polling schedules.

Several dataset groups at once, each ACTIVE after 10 to 90 s and its tracker ACTIVE after 30 to 95 s (AWS's own
notebooks: groups 10 to 60 s, trackers 30 to 60 s, "a minute or so"), provisioned by the real definition on the
local engine with the template's defaults, in real time. The same run with the polling schedule replaced: the AWS
solution for Personalize MLOps (first wait 8 s, each later wait x1.25) and a flat 60 s loop. Every wait is rounded
up to whole seconds, as a Wait state needs.

The added lag of a stage is the time from the moment its resource became ACTIVE to the moment a status check of
the workflow first saw it ACTIVE (the emulator records both).
"""

from __future__ import annotations

import contextlib
import io
import math
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from unittest import mock

from bench.lag_cost import LAMBDA_ARM64_GB_SECOND_USD, LAMBDA_MEMORY_GB, LAMBDA_REQUEST_USD, STANDARD_TRANSITION_USD
from local.engine import LocalEngine
from local.personalize_emulator import PersonalizeEmulator, Timing

GROUPS = 20
GROUP_READY = (10, 90)
TRACKER_READY = (30, 95)
LAMBDA_BILLED_SECONDS = 0.1  # assumed per invocation, as in section 2 (in-process durations are not Lambda's)


def _mpe(previous: int, initial: int, maximum: int, left: float, shortest: int = 1, age: Any = None) -> int:
    wait = 8 if previous <= 0 else math.ceil(previous * 1.25)
    return max(1, min(max(wait, shortest), math.ceil(left)))


def _flat_60(previous: int, initial: int, maximum: int, left: float, shortest: int = 1, age: Any = None) -> int:
    return max(1, min(60, math.ceil(left)))


SCHEDULES: dict[str, Callable[..., int] | None] = {
    "this project (template defaults)": None,
    "MPE (8 s x 1.25)": _mpe,
    "flat 60 s": _flat_60,
}


@dataclass
class Run:
    schedule: str
    groups: int
    succeeded: int
    group_lags: list[float]
    tracker_lags: list[float]
    describe_calls: int
    transitions: int
    lambda_invocations: int
    seconds: float

    @property
    def lags(self) -> list[float]:
        return self.group_lags + self.tracker_lags

    def percentile(self, q: float) -> float:
        ordered = sorted(self.lags)
        return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]

    @property
    def usd_per_tracker(self) -> float:
        lambda_usd = self.lambda_invocations * (
            LAMBDA_REQUEST_USD + LAMBDA_MEMORY_GB * LAMBDA_BILLED_SECONDS * LAMBDA_ARM64_GB_SECOND_USD
        )
        return (self.transitions * STANDARD_TRANSITION_USD + lambda_usd) / max(1, self.succeeded)


def run(schedule: str, groups: int = GROUPS, seed: int = 7) -> Run:
    rng = random.Random(seed)  # the same timings for every schedule
    timings = [(rng.uniform(*GROUP_READY), rng.uniform(*TRACKER_READY)) for _ in range(groups)]
    replace = SCHEDULES[schedule]
    patch = mock.patch("common.polling.next_wait_seconds", replace) if replace else contextlib.nullcontext()
    started = time.monotonic()
    quiet = contextlib.redirect_stdout(io.StringIO())  # the handlers' log lines
    with quiet, PersonalizeEmulator() as emulator, LocalEngine(emulator, {}, time_scale=1.0) as stack, patch:
        arns = []
        for index, (group_ready, tracker_ready) in enumerate(timings):
            name = f"timed-{index:02d}"
            emulator.time_dataset_group(name, Timing(pending=group_ready))
            emulator.time_tracker(name, Timing(pending=tracker_ready))
            arns.append(stack.start({"datasetGroupArn": stack.create_dataset_group(name)}))
        executions = [stack.wait(arn, timeout=1200) for arn in arns]
        group_lags, tracker_lags = [], []
        for arn, (ready, seen) in emulator.active_seen.items():
            (tracker_lags if ":event-tracker/" in arn else group_lags).append(seen - ready)
        calls = emulator.stats()["calls"]
    return Run(
        schedule=schedule,
        groups=groups,
        succeeded=sum(e.status == "SUCCEEDED" for e in executions),
        group_lags=group_lags,
        tracker_lags=tracker_lags,
        describe_calls=calls.get("DescribeDatasetGroup", 0) + calls.get("DescribeEventTracker", 0),
        transitions=sum(e.state_transitions for e in executions),
        lambda_invocations=sum(e.lambda_invocations for e in executions),
        seconds=time.monotonic() - started,
    )


def summary(r: Run) -> dict[str, Any]:
    return {
        "schedule": r.schedule,
        "ok": f"{r.succeeded}/{r.groups}",
        "p50": statistics.median(r.lags),
        "p95": r.percentile(0.95),
        "max": max(r.lags),
        "group p95": sorted(r.group_lags)[math.ceil(0.95 * len(r.group_lags)) - 1],
        "tracker p95": sorted(r.tracker_lags)[math.ceil(0.95 * len(r.tracker_lags)) - 1],
        "describe": r.describe_calls,
        "transitions": r.transitions,
        "usd": r.usd_per_tracker,
    }


if __name__ == "__main__":
    import sys

    for name in sys.argv[1:] or SCHEDULES:
        print(summary(run(name, groups=4)))
