"""What Powertools' Tracer adds to a cold start: a function's imports and clients with and without `Tracer()`.

Needs a Python with bench/requirements-lambda.txt and aws-xray-sdk (which the Powertools layer bundles and this
project does not install): `python -m bench.tracer_cost /path/to/that/python`. Median of 15 fresh interpreters each.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "x",
    "POWERTOOLS_SERVICE_NAME": "event-tracker-provisioner",
    "PATH": "/usr/bin:/bin",
}
HANDLER = "import boto3; from aws_lambda_powertools import Logger, Metrics{}; Logger(); Metrics(namespace='x'){}; "
CLIENTS = "boto3.client('personalize'); boto3.client('ssm')"
CODES = {
    "without Tracer": HANDLER.format("", "") + CLIENTS,
    "with Tracer": HANDLER.format(", Tracer", "; Tracer()") + CLIENTS,
}
TIMED = "import time; started = time.perf_counter(); exec({!r}); print(time.perf_counter() - started)"


def main(python: str, runs: int = 15) -> None:
    times: dict[str, list[float]] = {name: [] for name in CODES}
    for _ in range(runs):
        for name, code in CODES.items():
            out = subprocess.run(
                [python, "-c", TIMED.format(code)], env=ENV, capture_output=True, text=True, check=True
            )
            times[name].append(float(out.stdout.split()[-1]) * 1000)
    for name, values in times.items():
        print(f"{name}: median {statistics.median(values):.0f} ms")


if __name__ == "__main__":
    main(sys.argv[1])
