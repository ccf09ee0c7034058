"""Smoke test against a deployed stack: skipped unless AWS_SAM_STACK_NAME is set.

    AWS_SAM_STACK_NAME=event-tracker-provisioner AWS_REGION=us-east-1 .venv/bin/pytest tests/smoke -m smoke

It creates a dataset group with a unique name, waits for its parameter, checks
it against DescribeEventTracker, then deletes the tracker and the dataset group
and waits until the parameter is gone. It needs a CloudTrail trail with logging
on (the events come through it) and takes several minutes.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

STACK = os.environ.get("AWS_SAM_STACK_NAME")
pytestmark = [
    pytest.mark.smoke,
    pytest.mark.skipif(not STACK, reason="set AWS_SAM_STACK_NAME to run against a deployed stack"),
]


def eventually(check: Callable[[], Any], timeout: float, every: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true after {timeout} s: {check.__doc__}")
        time.sleep(every)


def test_a_new_dataset_group_gets_its_tracker_and_parameter_and_loses_it_on_deletion() -> None:
    import boto3

    stack = boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    prefix = next(p["ParameterValue"] for p in stack.get("Parameters", []) if p["ParameterKey"] == "ParameterPrefix")
    personalize = boto3.client("personalize")
    ssm = boto3.client("ssm")
    name = f"smoke-{uuid.uuid4().hex[:12]}"
    parameter = f"{prefix}/{name}/tracking-id"
    arn = personalize.create_dataset_group(name=name)["datasetGroupArn"]
    tracker_arn = None
    try:

        def stored() -> str | None:
            """the parameter exists"""
            try:
                return ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
            except ssm.exceptions.ParameterNotFound:
                return None

        value = eventually(stored, timeout=1800, every=15)
        [summary] = personalize.list_event_trackers(datasetGroupArn=arn)["eventTrackers"]
        tracker_arn = summary["eventTrackerArn"]
        tracker = personalize.describe_event_tracker(eventTrackerArn=tracker_arn)["eventTracker"]
        assert tracker["status"] == "ACTIVE"
        assert value == tracker["trackingId"]
    finally:
        if tracker_arn:
            personalize.delete_event_tracker(eventTrackerArn=tracker_arn)

            def tracker_gone() -> bool:
                """the tracker is deleted"""
                return not personalize.list_event_trackers(datasetGroupArn=arn)["eventTrackers"]

            eventually(tracker_gone, timeout=900)
        personalize.delete_dataset_group(datasetGroupArn=arn)

    def parameter_gone() -> bool:
        """the parameter is deleted"""
        return not ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [parameter]}])["Parameters"]

    eventually(parameter_gone, timeout=900)
