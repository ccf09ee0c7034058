"""Cold start: each handler module's import-and-init time, its breakdown, and its package size."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from local.template import ROOT, Template

FUNCTIONS = Template().functions()
# The interpreter the imports are timed in: a venv holding only what Lambda has (bench/requirements-lambda.txt).
LAMBDA_PYTHON = os.environ.get("LAMBDA_PYTHON", str(ROOT / ".venv-lambda" / "bin" / "python"))
BASELINE = "import boto3; boto3.client('personalize')"
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))},
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "PYTHONDONTWRITEBYTECODE": "1",
}


@dataclass
class ColdStart:
    function: str
    module: str
    median_ms: float
    ratio: float
    top_imports: list[tuple[str, float]]


def _env(function: str | None) -> dict[str, str]:
    """The function's environment, its code and layers on the path as in Lambda (/var/task, /opt/python)."""
    if function is None:
        return ENV
    code = FUNCTIONS[function]
    return ENV | code.environment | {"PYTHONPATH": os.pathsep.join(map(str, [code.code_uri, *code.layer_paths]))}


def time_code(code: str, env: dict[str, str], runs: int) -> list[float]:
    """Milliseconds `code` takes in a fresh interpreter, once per run."""
    script = f"import time\nstart = time.perf_counter()\n{code}\nprint((time.perf_counter() - start) * 1000)"
    times = []
    for _ in range(runs):
        result = subprocess.run([LAMBDA_PYTHON, "-c", script], env=env, capture_output=True, text=True, check=True)
        times.append(float(result.stdout.strip().splitlines()[-1]))
    return times


def import_breakdown(module: str, env: dict[str, str], top: int = 5) -> list[tuple[str, float]]:
    """Where the import time goes: `python -X importtime` self-times summed by top-level package (ms)."""
    result = subprocess.run(
        [LAMBDA_PYTHON, "-X", "importtime", "-c", f"import {module}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    costs: dict[str, float] = {}
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \| *(\S+)", line)
        if match:
            package = match.group(2).split(".")[0]
            costs[package] = costs.get(package, 0.0) + int(match.group(1)) / 1000
    return sorted(costs.items(), key=lambda item: -item[1])[:top]


def cold_starts(runs: int = 21) -> tuple[float, list[ColdStart]]:
    """Medians of `runs` rounds; each round times the baseline and every handler once, so that a machine that
    slows down or speeds up during the measurement weighs on all of them alike."""
    codes: dict[str | None, str] = {None: BASELINE}
    codes |= {name: f"import {function.handler.rpartition('.')[0]}" for name, function in FUNCTIONS.items()}
    times: dict[str | None, list[float]] = {name: [] for name in codes}
    for _ in range(runs):
        for name, code in codes.items():
            times[name] += time_code(code, _env(name), 1)
    baseline = statistics.median(times[None])
    results = []
    for name, function in FUNCTIONS.items():
        module = function.handler.rpartition(".")[0]
        median = statistics.median(times[name])
        results.append(ColdStart(name, module, median, median / baseline, import_breakdown(module, _env(name))))
    return baseline, results


def package_sizes() -> dict[str, int]:
    """Bytes of each function's and each layer's package as `sam build` makes it (our code only)."""
    layers = Template().resources("AWS::Serverless::LayerVersion")
    with tempfile.TemporaryDirectory() as tmp:
        env = ENV | {"SAM_CLI_TELEMETRY": "0", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
        subprocess.run(
            [
                Path(sys.executable).parent / "sam",
                "build",
                "--build-dir",
                f"{tmp}/build",
                "--cache-dir",
                f"{tmp}/cache",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            check=True,
        )
        return {
            name: sum(p.stat().st_size for p in (Path(tmp) / "build" / name).rglob("*") if p.is_file())
            for name in [*FUNCTIONS, *layers]
        }
