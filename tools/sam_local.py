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

What `make invoke` (tools/invoke.py) shares with it is here too: the Docker bridge's gateway, `sam build`, SAM CLI's
environment with dummy credentials, and the hint for a Docker daemon SAM cannot talk to.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from local.template import TEMPLATE, Template, read
from tools import layer_cache as layer

REGION = "us-east-1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_PERSONALIZE")
STARTUP_SECONDS = 120.0
# Under qemu (arm64 on x86_64) a cold start takes tens of seconds; the invocation itself is bounded by the
# function's Timeout, which SAM CLI enforces.
INVOKE_READ_SECONDS = 600


class CannotInvoke(Exception):
    """This command cannot run the function (exit code 2)."""


def docker_gateway() -> str:
    """The Docker bridge's gateway address: where a container reaches servers on this machine."""
    docker = shutil.which("docker")
    if docker is None:
        raise CannotInvoke("SAM CLI runs the functions in Docker containers, and there is no docker command on PATH")
    probe = subprocess.run(
        [docker, "network", "inspect", "bridge", "-f", "{{json .IPAM.Config}}"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        raise CannotInvoke(
            f"SAM CLI runs the functions in Docker containers, and no Docker engine answers: {probe.stderr.strip()}"
        )
    for config in json.loads(probe.stdout) or []:
        if config.get("Gateway"):
            return str(config["Gateway"])
        if config.get("Subnet"):  # some engines leave Gateway out: the bridge takes the subnet's first address
            return str(next(ipaddress.ip_network(config["Subnet"]).hosts()))
    raise CannotInvoke(f"cannot tell the Docker bridge's gateway address from {probe.stdout.strip()}")


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def base_image(template: Template) -> str:
    """The Lambda base image SAM CLI runs the functions in (public.ecr.aws/lambda/python:3.13-arm64)."""
    from samcli.local.docker.lambda_image import LambdaImage, Runtime

    settings = template.doc["Globals"]["Function"]
    tag = Runtime.get_image_name_tag(settings["Runtime"], settings["Architectures"][0])
    return f"{LambdaImage._INVOKE_REPO_PREFIX}/{tag}"


def has_image(name: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", name], capture_output=True).returncode == 0


def sam_executable() -> str:
    sam = shutil.which("sam", path=str(Path(sys.executable).parent)) or shutil.which("sam")
    if sam is None:
        raise CannotInvoke("no sam command: run `make invoke`, which installs SAM CLI in .venv")
    return sam


def build(build_dir: Path) -> Path:
    """`sam build`, as a deployment packages the functions and their layer; the built template's path.

    The whole template (a few seconds): `sam build <function>` would resolve the function's layer ARNs,
    and the Powertools layer's parameter default is an SSM path, resolvable only in an account.
    """
    command = [sam_executable(), "build", "--template-file", str(TEMPLATE), "--build-dir", str(build_dir)]
    built = subprocess.run(command, capture_output=True, text=True, env=sam_environment(), cwd=TEMPLATE.parent)
    if built.returncode != 0:
        raise CannotInvoke(f"sam build failed:\n{built.stdout}{built.stderr}")
    return build_dir / "template.yaml"


def sam_environment() -> dict[str, str]:
    """This process's environment with its AWS credentials replaced by dummy ones: nothing reaches real AWS."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {
        **keep,
        **FAKE_CREDENTIALS,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "SAM_CLI_TELEMETRY": "0",
    }


NO_RESPONSE = "No response from invoke container"
NO_RESPONSE_HINT = (
    "SAM CLI gave up before the container's runtime listened. Under emulation (arm64 on x86_64) the runtime starts"
    " slowly, and Docker's userland proxy accepts SAM's connection before it is ready: run dockerd without it"
    ' (dockerd --userland-proxy=false, or {"userland-proxy": false} in /etc/docker/daemon.json; the lambda-image'
    " build.sh starts dockerd so when none runs), then try again."
)


def declare_endpoints(built_template: Path) -> Path:
    """The built template with the endpoint variables declared (empty) for every function."""
    document = read(built_template)
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
