"""`sam local invoke` per function: docs/local.md's `make invoke` lines, timed, with the image and layer sizes.

These describe the local tool on this machine (the functions are arm64; on an x86_64 host they run under
qemu), not Lambda's cold start.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.container.test_sam_local_invoke import ROOT, documented_invoke_lines, parsed
from tools import layer_cache as layer

SAM_IMAGE_PREFIX = "samcli/lambda-python"
BASE_IMAGE = "public.ecr.aws/lambda/python:3.13-arm64"


@dataclass
class Invocation:
    function: str
    event: str
    seconds: list[float]  # wall time of each `make invoke` run
    durations_ms: list[float]  # the runtime's REPORT Duration (init and handler, under debug mode)
    ok: bool


def _run(line: str) -> tuple[float, float, bool]:
    started = time.monotonic()
    run = subprocess.run(shlex.split(line), cwd=ROOT, capture_output=True, text=True, timeout=900)
    seconds = time.monotonic() - started
    report = re.search(r"REPORT RequestId: \S+\s+Init Duration: [\d.]+ ms\s+Duration: ([\d.]+) ms", run.stderr)
    return seconds, float(report.group(1)) if report else float("nan"), run.returncode == 0


def _docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout.strip()


def drop_sam_images() -> None:
    """SAM CLI's derived images (base + its emulator + the layer): the next invoke builds them again."""
    for image in _docker("images", "--format", "{{.Repository}}:{{.Tag}}").splitlines():
        if image.startswith(SAM_IMAGE_PREFIX):
            _docker("rmi", "-f", image)


def image_size_mb(name_prefix: str) -> float:
    sizes = [
        json.loads(line)
        for line in _docker("images", "--format", '{"name": "{{.Repository}}:{{.Tag}}", "id": "{{.ID}}"}').splitlines()
    ]
    for image in sizes:
        if image["name"].startswith(name_prefix):
            return int(_docker("image", "inspect", "-f", "{{.Size}}", image["id"])) / 1e6
    return float("nan")


def directory_mb(path: Path, pattern: str = "*") -> float:
    return sum(f.stat().st_size for f in path.rglob(pattern) if f.is_file()) / 1e6


def measure(runs: int = 2) -> tuple[float, list[Invocation]]:
    """(seconds of the very first invoke, which builds SAM's image, and each line's runs afterwards)."""
    layer.prepare()
    lines = documented_invoke_lines()
    drop_sam_images()
    first, _, _ = _run(lines[0])
    results = []
    for line in lines:
        function, event = parsed(line)
        timings = [_run(line) for _ in range(runs)]
        results.append(
            Invocation(function, event, [t[0] for t in timings], [t[1] for t in timings], all(t[2] for t in timings))
        )
    return first, results


def sizes() -> dict[str, float]:
    return {
        "base image (stand-in)": image_size_mb(BASE_IMAGE),
        "SAM CLI's image with the layer": image_size_mb(SAM_IMAGE_PREFIX),
        "Powertools layer in SAM's cache": directory_mb(layer.prepare()),
        "our code: functions/ and layers/shared/ (*.py)": directory_mb(ROOT / "functions", "*.py")
        + directory_mb(ROOT / "layers", "*.py"),
    }
