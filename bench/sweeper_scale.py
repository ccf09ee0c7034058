"""The sweeper at scale: N parameters under the prefix, half of them stale, Personalize's reads rate-limited."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "layers" / "shared"))  # common, as in the layer

import time
from dataclasses import dataclass

from bench.reconciler_scale import scheduled_run
from common.parameters import TAG_DATASET_ARN, TAG_DATASET_GROUP_ARN, TAG_EVENT_TRACKER_ARN
from local.engine import LocalEngine
from local.faults import Fault, inject
from local.personalize_emulator import PersonalizeEmulator

# Personalize's read calls the sweeper makes, each limited on its own (AWS rate-limits per API), as in section 7.
READS = ("DescribeDatasetGroup", "DescribeEventTracker", "ListEventTrackers", "DescribeDataset")
SCHEMA = "arn:aws:personalize:us-east-1:123456789012:schema/scale"


@dataclass
class SweepRun:
    parameters: int
    stale: int
    reads_per_second: float
    wall_seconds: float
    checked: int
    swept: int
    unchecked: int
    swept_right: bool  # exactly the stale parameters were deleted, and every other one is there
    throttled_calls: int
    calls: int
    invocations: int


def tagged(stack: LocalEngine, name: str, tags: dict[str, str], value: str = "id") -> None:
    stack.ssm.put_parameter(
        Name=name, Value=value, Type="String", Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
    )


def populate(stack: LocalEngine, emulator: PersonalizeEmulator, parameters: int) -> set[str]:
    """Half live (a group with its tracker; every fifth with its Action interactions dataset too), half stale
    (groups deleted with both their parameters left); the names of the stale ones."""
    stale: set[str] = set()
    index = 0
    while len(stale) < parameters // 2:
        name = f"gone-{index:04d}"
        group = f"arn:aws:personalize:us-east-1:123456789012:dataset-group/{name}"
        tagged(stack, stack.parameter_name(name), {TAG_DATASET_GROUP_ARN: group, TAG_EVENT_TRACKER_ARN: group + "-t"})
        action = f"/personalize/{name}/action-tracking-id"
        tagged(stack, action, {TAG_DATASET_GROUP_ARN: group, TAG_DATASET_ARN: f"{group}/ACTION_INTERACTIONS"})
        stale |= {stack.parameter_name(name), action}
        index += 1
    live, index = 0, 0
    while live < parameters - len(stale):
        name = f"live-{index:04d}"
        group = stack.create_dataset_group(name)
        tracker = emulator.seed_tracker(group)
        tagged(
            stack,
            stack.parameter_name(name),
            {TAG_DATASET_GROUP_ARN: group, TAG_EVENT_TRACKER_ARN: tracker["eventTrackerArn"]},
        )
        live += 1
        if index % 5 == 0 and live < parameters - len(stale):
            dataset = stack.personalize.create_dataset(
                name=f"{name}-a", schemaArn=SCHEMA, datasetGroupArn=group, datasetType="ACTION_INTERACTIONS"
            )["datasetArn"]
            tagged(
                stack,
                f"/personalize/{name}/action-tracking-id",
                {TAG_DATASET_GROUP_ARN: group, TAG_DATASET_ARN: dataset},
            )
            live += 1
        index += 1
    return stale


def run(parameters: int, reads_per_second: float) -> SweepRun:
    with PersonalizeEmulator() as emulator, LocalEngine(emulator, {}, time_scale=1.0) as stack:
        stale = populate(stack, emulator, parameters)
        before_names = set(stack.parameters())
        for operation in READS:
            inject(Fault("personalize", operation, per_second=reads_per_second), emulator=emulator)
        before = emulator.stats()
        started = time.monotonic()
        reports = scheduled_run(stack, "SweeperFunction", "Swept stale parameters")
        wall = time.monotonic() - started
        after = emulator.stats()
        left = set(stack.parameters())
    swept = {name for report in reports for name in report["swept"]}
    return SweepRun(
        parameters=parameters,
        stale=len(stale),
        reads_per_second=reads_per_second,
        wall_seconds=wall,
        checked=sum(r["checked"] for r in reports),
        swept=len(swept),
        unchecked=sum(len(r["unchecked"]) for r in reports),
        swept_right=swept == stale and left == before_names - stale,
        throttled_calls=after["throttled"] - before["throttled"],
        calls=sum(after["calls"].get(op, 0) - before["calls"].get(op, 0) for op in READS),
        invocations=len(reports),
    )


if __name__ == "__main__":
    print(run(200, 10))
