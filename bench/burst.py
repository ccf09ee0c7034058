"""Burst: N dataset groups created at once, Personalize limiting tracker calls to 5 a second."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from local.engine import LocalEngine
from local.template import ROOT

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
    lambda_concurrency: int | None = None
    lambda_throttled: int = 0


class RemoteEmulator:
    """The emulator in a process of its own (its own GIL), so hundreds of local executions don't starve it."""

    def __init__(self, tracker_seconds: float) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tools.emulator",
                "--port",
                "0",
                "--dataset-group-seconds",
                "0",
                "--tracker-seconds",
                str(tracker_seconds),
                "--rate-limit",
                str(RATE),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().split("AWS_ENDPOINT_URL_PERSONALIZE=")[1].strip()

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/_emulator/stats") as response:
            return json.loads(response.read())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def burst(
    groups: int, tracker_seconds: float = 10.0, lambda_concurrency: int | None = None, lambda_seconds: float = 0.2
) -> Burst:
    """`lambda_concurrency`: the account's Lambda concurrency (None: unlimited); invocations take `lambda_seconds`."""
    emulator = RemoteEmulator(tracker_seconds)
    try:
        limits = {"lambda_concurrency": lambda_concurrency, "lambda_seconds": lambda_seconds}
        with (
            LocalEngine(emulator, SETTINGS, **limits, time_scale=1.0) as stack,
            contextlib.redirect_stdout(io.StringIO()),
        ):
            names = [f"burst-{index:03}" for index in range(groups)]
            for name in names:
                stack.create_dataset_group(name)
            started = time.monotonic()
            arns = [
                stack.start({"datasetGroupArn": f"arn:aws:personalize:us-east-1:123456789012:dataset-group/{n}"})
                for n in names
            ]
            with ThreadPoolExecutor(max_workers=32) as pool:
                executions = list(pool.map(lambda arn: stack.wait(arn, timeout=3600), arns))
            wall = time.monotonic() - started
            stats = emulator.stats()
            statuses = Counter(e.status for e in executions)
            errors = Counter(e.error for e in executions if e.status != "SUCCEEDED")
            right = 0
            for name in names:
                trackers = stats["trackers"].get(name, [])
                parameter = stack.parameter(f"/personalize/{name}/tracking-id")
                right += (
                    len(trackers) == 1 and parameter is not None and parameter["Value"] == trackers[0]["trackingId"]
                )
            return Burst(
                groups=groups,
                succeeded=statuses["SUCCEEDED"],
                failed=len(executions) - statuses["SUCCEEDED"],
                missing=groups - len(executions),
                errors=dict(errors),
                wall_seconds=wall,
                throttled_calls=stats["throttled"],
                calls=stats["calls"],
                peak_concurrent=_peak_running(stack, arns),
                parameters_right=right,
                lambda_concurrency=lambda_concurrency,
                lambda_throttled=stack.lambda_throttled,
            )
    finally:
        emulator.stop()


def _peak_running(stack: LocalEngine, arns: list[str]) -> int:
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
