"""Reconciler at scale: N dataset groups, some missing their parameter, Personalize's reads rate-limited."""

from __future__ import annotations

import contextlib
import io
import os
import time
from dataclasses import dataclass
from typing import Any

from local.personalize_emulator import PersonalizeEmulator
from local.stack import LocalStack

# Personalize's read calls the reconciler makes, each limited on its own (AWS rate-limits per API).
READS = (
    "ListDatasetGroups",
    "ListTagsForResource",
    "ListEventTrackers",
    "DescribeEventTracker",
    "ListDatasets",
    "DescribeDataset",
)
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


def populate(stack: LocalStack, emulator: PersonalizeEmulator, groups: int, missing: int) -> set[str]:
    """`groups` dataset groups with their tracker; all but the first `missing` with the right parameter."""
    names = [f"scale-{index:04d}" for index in range(groups)]
    for index, name in enumerate(names):
        arn = stack.create_dataset_group(name)
        tracker = emulator.seed_tracker(arn)
        if index >= missing:
            [view] = emulator.trackers_of(name)
            stack.ssm.put_parameter(Name=stack.parameter_name(name), Value=view["trackingId"], Type="String")
    assert tracker
    return set(names[:missing])


def run(groups: int, missing: int, reads_per_second: float) -> ScaleRun:
    with PersonalizeEmulator() as emulator, LocalStack(emulator, SETTINGS) as stack:
        expected = populate(stack, emulator, groups, missing)
        for operation in READS:
            emulator.limit_rate(operation, reads_per_second)
        before = emulator.stats()
        started = time.monotonic()
        with contextlib.redirect_stdout(io.StringIO()):  # the reconciler's log lines
            report = stack.call("ReconcilerFunction", {})
        wall = time.monotonic() - started
        after = emulator.stats()
    calls = sum(after["calls"].get(op, 0) - before["calls"].get(op, 0) for op in READS)
    return ScaleRun(
        groups=groups,
        missing=missing,
        reads_per_second=reads_per_second,
        wall_seconds=wall,
        checked=report["checked"],
        started=len(report["started"]),
        unchecked=len(report["unchecked"]),
        started_right=set(report["started"]) == expected,
        throttled_calls=after["throttled"] - before["throttled"],
        calls=calls,
    )


def main(argv: Any = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--groups", type=int, default=300)
    parser.add_argument("--missing", type=int, default=20)
    parser.add_argument("--rate", type=float, default=10)
    args = parser.parse_args(argv)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    print(run(args.groups, args.missing, args.rate))


if __name__ == "__main__":
    main()
