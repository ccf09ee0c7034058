"""The whole workflow in containers (`make local ARGS=--containers`) against the in-process run of the same scenario,
`sam local start-lambda`'s start-up, and a cold and a warm invocation of one function.

The functions are arm64: on an x86_64 host they run under qemu, so these describe the local tool on this machine,
not Lambda.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

from local.template import ROOT

EVENT = json.dumps({"datasetGroupArn": "arn:aws:personalize:us-east-1:123456789012:dataset-group/bench"})


@dataclass
class Run:
    mode: str
    wall: float  # the run's own wall time (the summary's row): from the first state to the end
    command: float  # the whole command: set-up, build, start-lambda, run, clean-up
    startup: float | None  # sam build to start-lambda listening
    invocations: int
    result: str


def _row(output: str, name: str) -> str:
    found = re.search(rf"^\s+{re.escape(name)}\s+(\S.*?)\s*$", output, re.MULTILINE)
    return found.group(1) if found else ""


def local_run(containers: bool) -> Run:
    started = time.monotonic()
    command = [sys.executable, "-m", "tools.local_run", *(["--containers"] if containers else [])]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    took = time.monotonic() - started
    up = re.search(r"sam local start-lambda \S+, up in ([\d.]+) s", run.stdout)
    return Run(
        "containers" if containers else "in-process",
        float(_row(run.stdout, "wall time").split()[0] or "nan"),
        took,
        float(up.group(1)) if up else None,
        int(_row(run.stdout, "lambda invocations") or 0),
        _row(run.stdout, "result"),
    )


def invocations(warm: int) -> tuple[float, float, list[float]]:
    """start-lambda's start-up, then ParseInputFunction once cold and `warm` times warm (seconds, client side)."""
    from tools.sam_local import docker_gateway, start_lambda

    gateway = docker_gateway()
    services = {"AWS_ENDPOINT_URL": f"http://{gateway}:9", "AWS_ENDPOINT_URL_PERSONALIZE": f"http://{gateway}:9"}
    with start_lambda(services, {}, {}) as containers:
        client = containers.client()
        times = []
        for _ in range(warm + 1):
            started = time.monotonic()
            answer = client.invoke(FunctionName="ParseInputFunction", Payload=EVENT.encode())
            assert "FunctionError" not in answer, answer["Payload"].read()
            answer["Payload"].read()
            times.append(time.monotonic() - started)
        return containers.started_in, times[0], times[1:]


def measure(runs: int = 2, warm: int = 5) -> tuple[list[Run], tuple[float, float, list[float]]]:
    results = [local_run(containers) for _ in range(runs) for containers in (False, True)]
    return results, invocations(warm)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
