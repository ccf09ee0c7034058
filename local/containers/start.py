"""Every Lambda task in its container: `sam build`, then `sam local start-lambda` on the built template.

The way SAM users test a state machine locally: a local Step Functions engine in front of
`sam local start-lambda`, which serves the built functions (each function's package, SharedCodeLayer
and the Powertools layer, in the Lambda runtime's container) through the Lambda Invoke API.

- `sam build` of the real template, as a deployment packages it;
- the built template gets two more declared variables, AWS_ENDPOINT_URL and
  AWS_ENDPOINT_URL_PERSONALIZE: `--env-vars` sets only declared variables, and SAM CLI applies
  `--container-env-vars` to one function only when containers are warm;
- `sam local start-lambda --warm-containers LAZY`: a function's container starts on its first
  invocation and serves every later one, so a run pays each function's start-up once;
- dummy credentials, and every endpoint pointed at the local services: nothing reaches an account;
- on the way out (also on Ctrl-C or a failure) SAM CLI is stopped, which stops its containers; any
  container of this run that is left (SAM killed) is removed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from cfnlint.decode import cfn_yaml

from local.containers import layer
from local.containers.invoke import (
    CannotInvoke,
    base_image,
    build,
    free_port,
    has_image,
    sam_environment,
    sam_executable,
)
from local.template import TEMPLATE, Template

ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_PERSONALIZE")
STARTUP_SECONDS = 120.0
# Under qemu (arm64 on x86_64) a cold start takes tens of seconds; the invocation itself is bounded by the
# function's Timeout, which SAM CLI enforces.
INVOKE_READ_SECONDS = 600


def declare_endpoints(built_template: Path) -> Path:
    """The built template with the endpoint variables declared (empty) for every function."""
    document = cfn_yaml.load(str(built_template))
    variables = document.setdefault("Globals", {}).setdefault("Function", {}).setdefault("Environment", {})
    variables.setdefault("Variables", {}).update(dict.fromkeys(ENDPOINT_VARIABLES, ""))
    local = built_template.with_name("template.local.json")
    local.write_text(json.dumps(document, indent=1))
    return local


def parameter_overrides(overrides: dict[str, Any]) -> str:
    """`--parameter-overrides`: the run's template parameters, and the layer ARN SAM CLI needs (samconfig.toml)."""
    values = {"PowertoolsLayerArn": layer.local_layer_arn(), **{k: str(v) for k, v in overrides.items()}}
    return " ".join(f"{key}={value}" for key, value in values.items())


def wait_until_listening(process: subprocess.Popen[bytes], port: int, log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CannotInvoke(f"sam local start-lambda exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise CannotInvoke(f"sam local start-lambda did not listen within {seconds:.0f} s:\n{log.read_text()[-3000:]}")


def containers_of(scratch: Path) -> list[str]:
    """Lambda containers SAM CLI started for this run: those that mount its build directory."""
    listed = subprocess.run(
        ["docker", "ps", "-aq", "--filter", "label=sam.cli.container.type=lambda"], capture_output=True, text=True
    )
    ids = listed.stdout.split()
    if not ids:
        return []
    inspected = subprocess.run(["docker", "inspect", *ids], capture_output=True, text=True)
    if inspected.returncode != 0:
        return []
    return [
        container["Id"]
        for container in json.loads(inspected.stdout)
        if any(str(mount.get("Source", "")).startswith(str(scratch)) for mount in container.get("Mounts", []))
    ]


def stop(process: subprocess.Popen[bytes], scratch: Path) -> None:
    """SIGTERM, on which SAM CLI stops its warm containers; SIGKILL if it hangs; then remove what is left."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    left = containers_of(scratch)
    if left:
        subprocess.run(["docker", "rm", "-f", *left], capture_output=True)


@dataclass
class StartLambda:
    """A running `sam local start-lambda`: its endpoint and its log."""

    url: str
    log: Path
    architecture: str
    started_in: float  # seconds from `sam build` to listening

    def client(self) -> Any:
        return boto3.client(
            "lambda",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(read_timeout=INVOKE_READ_SECONDS, connect_timeout=10, retries={"max_attempts": 1}),
        )

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextmanager
def start_lambda(
    services_environment: dict[str, str],
    function_environment: dict[str, dict[str, str]],
    overrides: dict[str, Any],
    template: Template | None = None,
    log: Path | None = None,
) -> Iterator[StartLambda]:
    """Build the template and serve its functions; `services_environment` holds the endpoint variables.

    SAM CLI's output, with the functions' logs, goes to `log` (default: a file in the scratch directory)."""
    template = template or Template()
    settings = template.doc["Globals"]["Function"]
    sam = sam_executable()
    # As `make invoke`: a base image already here is used as it is; SAM_SKIP_PULL_IMAGE still decides when set.
    skip_pull = "SAM_SKIP_PULL_IMAGE" not in os.environ and has_image(base_image(template))
    with tempfile.TemporaryDirectory(prefix="start-lambda-") as scratch_name:
        scratch = Path(scratch_name).resolve()
        started = time.monotonic()
        layer.prepare()
        built = declare_endpoints(build(scratch / "build"))
        env_vars = scratch / "env-vars.json"
        env_vars.write_text(json.dumps({"Parameters": services_environment, **function_environment}))
        port = free_port("127.0.0.1")
        log = log or scratch / "start-lambda.log"
        command = [
            sam, "local", "start-lambda",
            "--template-file", str(built),
            "--host", "127.0.0.1", "--port", str(port),
            "--env-vars", str(env_vars),
            "--parameter-overrides", parameter_overrides(overrides),
            "--warm-containers", "LAZY",
            *(["--skip-pull-image"] if skip_pull else []),
        ]  # fmt: skip
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                command,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=sam_environment(),
                cwd=TEMPLATE.parent,
                start_new_session=True,  # its own process group: Ctrl-C here reaches it only through stop()
            )
        try:
            wait_until_listening(process, port, log, STARTUP_SECONDS)
            yield StartLambda(f"http://127.0.0.1:{port}", log, settings["Architectures"][0], time.monotonic() - started)
        finally:
            stop(process, scratch)
