"""Burst: N dataset groups created at once, Personalize limiting tracker calls to 5 a second."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass

from local.personalize_emulator import PersonalizeEmulator, Timing
from local.stack import LocalStack

RATE = 5  # requests a second, for CreateEventTracker and DescribeEventTracker
SETTINGS = {"PollIntervalSeconds": 2, "MaxPollIntervalSeconds": 16, "ProvisioningTimeoutSeconds": 1800}


@dataclass
class Burst:
    groups: int
    succeeded: int
    failed: int
    missing: int
    errors: dict[str, int]
    wall_seconds: float
    throttled_calls: int
    calls: dict[str, int]
    peak_concurrent: int
    parameters_right: int


def burst(groups: int, tracker_seconds: float = 10.0) -> Burst:
    with PersonalizeEmulator() as emulator:
        emulator.tracker_timing = Timing(pending=tracker_seconds / 2, in_progress=tracker_seconds / 2)
        for operation in ("CreateEventTracker", "DescribeEventTracker"):
            emulator.limit_rate(operation, RATE)
        with LocalStack(emulator, SETTINGS) as stack:
            names = [f"burst-{index:03}" for index in range(groups)]
            for name in names:
                stack.create_dataset_group(name)
            running = {"now": 0, "peak": 0}
            lock = threading.Lock()
            started = time.monotonic()
            arns = [
                stack.start({"datasetGroupArn": f"arn:aws:personalize:us-east-1:123456789012:dataset-group/{n}"})
                for n in names
            ]
            finished: dict[str, object] = {}

            def follow(arn: str) -> None:
                with lock:
                    running["now"] += 1
                    running["peak"] = max(running["peak"], running["now"])
                try:
                    finished[arn] = stack.wait(arn, timeout=3600)
                finally:
                    with lock:
                        running["now"] -= 1

            threads = [threading.Thread(target=follow, args=(arn,)) for arn in arns]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.monotonic() - started
            executions = [finished[arn] for arn in arns if arn in finished]
            statuses = Counter(e.status for e in executions)
            errors = Counter(e.error for e in executions if e.status != "SUCCEEDED")
            right = 0
            for name in names:
                trackers = emulator.trackers_of(name)
                parameter = stack.parameter(f"/personalize/{name}/tracking-id")
                right += (
                    len(trackers) == 1 and parameter is not None and parameter["Value"] == trackers[0]["trackingId"]
                )
            peak = _peak_running(stack, arns)
            return Burst(
                groups,
                statuses["SUCCEEDED"],
                groups - statuses["SUCCEEDED"] - (groups - len(executions)),
                groups - len(executions),
                dict(errors),
                wall,
                emulator.throttled,
                dict(emulator.calls),
                peak,
                right,
            )


def _peak_running(stack: LocalStack, arns: list[str]) -> int:
    """The most executions running at one moment, from their start and stop times."""
    edges = []
    for arn in arns:
        description = stack.sfn.describe_execution(executionArn=arn)
        edges.append((description["startDate"].timestamp(), 1))
        edges.append((description["stopDate"].timestamp(), -1))
    peak = now = 0
    for _, step in sorted(edges):
        now += step
        peak = max(peak, now)
    return peak


if __name__ == "__main__":
    import sys

    print(burst(int(sys.argv[1]) if len(sys.argv) > 1 else 100))
