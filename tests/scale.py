"""An account with many dataset groups, for the reconciler's scale tests and benchmarks."""

from __future__ import annotations

from typing import Any

# The Personalize reads the reconciler makes: the calls a test or a benchmark rate-limits.
READS = (
    "ListDatasetGroups",
    "ListTagsForResource",
    "ListEventTrackers",
    "DescribeEventTracker",
    "ListDatasets",
    "DescribeDataset",
)


def populate(stack: Any, emulator: Any, groups: int, missing: int) -> set[str]:
    """`groups` dataset groups with their tracker; all but the first `missing` with the right parameter, tagged as
    the workflow tags it."""
    from common.parameters import TAG_DATASET_GROUP_ARN, TAG_EVENT_TRACKER_ARN  # the shared layer: on sys.path now

    names = [f"scale-{index:04d}" for index in range(groups)]
    for index, name in enumerate(names):
        arn = stack.create_dataset_group(name)
        emulator.seed_tracker(arn)
        if index >= missing:
            [view] = emulator.trackers_of(name)
            tags = {TAG_DATASET_GROUP_ARN: arn, TAG_EVENT_TRACKER_ARN: view["eventTrackerArn"]}
            stack.ssm.put_parameter(
                Name=stack.parameter_name(name),
                Value=view["trackingId"],
                Type="String",
                Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
            )
    return set(names[:missing])
