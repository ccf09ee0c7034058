"""Cold start: each handler module's import-and-init time, its breakdown, package size and peak memory."""

from __future__ import annotations

import json
import os
import re
import shutil
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


# One call of each handler, with its AWS calls answered by botocore's Stubber.
_DG = "arn:aws:personalize:us-east-1:123456789012:dataset-group/retail-recommendations"
_DS = "arn:aws:personalize:us-east-1:123456789012:dataset/retail-recommendations/ACTION_INTERACTIONS"
_ET = "arn:aws:personalize:us-east-1:123456789012:event-tracker/0a1b2c3d"
_SM = "arn:aws:states:us-east-1:123456789012:stateMachine:ProvisionEventTrackerStateMachine"
CALLS = {
    "ParseInputFunction": ("create-dataset-group.json", {}),
    "CheckDatasetGroupFunction": (
        "check-dataset-group.json",
        {"personalize": [("describe_dataset_group", {"datasetGroup": {"datasetGroupArn": _DG, "status": "ACTIVE"}})]},
    ),
    "CreateOrAdoptTrackerFunction": (
        "create-or-adopt-tracker.json",
        {
            "personalize": [
                ("list_tags_for_resource", {"tags": [{"tagKey": "team", "tagValue": "recs"}]}),
                ("list_event_trackers", {"eventTrackers": []}),
                ("create_event_tracker", {"eventTrackerArn": _ET, "trackingId": "t"}),
            ]
        },
    ),
    "CheckEventTrackerFunction": (
        "check-event-tracker.json",
        {
            "personalize": [
                (
                    "describe_event_tracker",
                    {"eventTracker": {"status": "ACTIVE", "trackingId": "b0c1d2e3-f4a5-4b6c-8d7e-9f0a1b2c3d4e"}},
                )
            ],
            "ssm": [("put_parameter", {"Version": 1})],
        },
    ),
    "ReconcilerFunction": (
        "scheduled-event.json",
        {
            "stepfunctions": [
                ("list_executions", {"executions": []}),
                (
                    "start_execution",
                    {
                        "executionArn": _SM.replace("stateMachine", "execution") + ":x",
                        "startDate": "2026-11-26T00:00:00Z",
                    },
                ),
            ],
            "personalize": [
                (
                    "list_dataset_groups",
                    {"datasetGroups": [{"name": "retail-recommendations", "datasetGroupArn": _DG, "status": "ACTIVE"}]},
                ),
                ("list_event_trackers", {"eventTrackers": []}),  # what is missing first, then the opt-out tags
                ("list_datasets", {"datasets": []}),
                ("list_tags_for_resource", {"tags": []}),
            ],
        },
    ),
    "CheckDatasetFunction": (
        "check-dataset.json",
        {
            "personalize": [
                (
                    "describe_dataset",
                    {
                        "dataset": {
                            "datasetArn": _DS,
                            "datasetGroupArn": _DG,
                            "status": "ACTIVE",
                            "trackingId": "b0c1d2e3-f4a5-4b6c-8d7e-9f0a1b2c3d4e",
                        }
                    },
                ),
                ("list_tags_for_resource", {"tags": []}),
            ],
            "ssm": [("put_parameter", {"Version": 1})],
        },
    ),
    "TeardownFunction": (
        "delete-event-tracker.json",
        {
            "ssm": [
                ("describe_parameters", {"Parameters": [{"Name": "/personalize/retail-recommendations/tracking-id"}]}),
                ("delete_parameter", {}),
            ]
        },
    ),
}

# Peak RSS is read from VmHWM: unlike ru_maxrss, which Linux carries across execve from the parent.
_MEMORY_SCRIPT = """
import json, sys, tracemalloc
def peak_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
from botocore.stub import Stubber
module_name, event_path, stubs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
import importlib
module = importlib.import_module(module_name)
after_init = peak_kb()
stubbers = []
for client, calls in stubs.items():
    stubber = Stubber(getattr(module, client))
    for operation, response in calls:
        stubber.add_response(operation, response)
    stubber.activate()
    stubbers.append(stubber)
class Context:
    function_name = "bench"; memory_limit_in_mb = 256; aws_request_id = "r"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
tracemalloc.start()
module.lambda_handler(json.load(open(event_path)), Context())
_, call_peak = tracemalloc.get_traced_memory()
for stubber in stubbers:
    stubber.assert_no_pending_responses()
print(json.dumps({"rss_after_init_kb": after_init, "rss_peak_kb": peak_kb(),
                  "call_peak_bytes": call_peak}))
"""


def peak_memory() -> dict[str, dict[str, float]]:
    """Peak RSS (MB) of a fresh process that imports the handler and calls it once."""
    results = {}
    for name, (event, stubs) in CALLS.items():
        module = FUNCTIONS[name].handler.rpartition(".")[0]
        completed = subprocess.run(
            [LAMBDA_PYTHON, "-c", _MEMORY_SCRIPT, module, str(ROOT / "events" / event), json.dumps(stubs)],
            env=_env(name),
            capture_output=True,
            text=True,
            check=True,
        )
        data = json.loads(completed.stdout.strip().splitlines()[-1])
        results[name] = {
            "rss_after_init_mb": data["rss_after_init_kb"] / 1024,
            "rss_peak_mb": data["rss_peak_kb"] / 1024,
            "call_peak_kb": data["call_peak_bytes"] / 1024,
        }
    return results


if __name__ == "__main__":
    baseline, results = cold_starts(runs=5)
    print(f"baseline {baseline:.1f} ms")
    for r in results:
        print(r)
    print(package_sizes())
    print(json.dumps(peak_memory(), indent=1))
    shutil.rmtree(tempfile.gettempdir() + "/none", ignore_errors=True)
