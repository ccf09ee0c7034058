"""The Powertools layer in SAM CLI's layer cache, built from the pinned requirements, with no AWS account.

`sam local invoke` takes a layer named by ARN from its cache
(`~/.aws-sam/layers-pkg/<name>-<version>-<hash of the ARN>`), and downloads it with
AWS credentials only when it is not there. This fills that cache entry with the
same Powertools release the template pins, installed by pip from PyPI for the
functions' runtime and architecture, so that `sam local invoke` runs offline.

    python -m tools.layer_cache          # prints the cache directory it filled (or found)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from samcli.lib.providers.provider import LayerVersion

from local.template import TEMPLATE

ROOT = TEMPLATE.parent
SAMCONFIG = ROOT / "samconfig.toml"
REQUIREMENTS = ROOT / "requirements-dev.txt"
DEFAULT_CACHE = Path.home() / ".aws-sam" / "layers-pkg"
# What the public Powertools layer holds that the functions import (boto3 and jmespath come with the runtime).
LAYER_PACKAGES = ("aws_lambda_powertools", "pydantic", "pydantic_core", "annotated-types", "typing_extensions",
                  "typing-inspection")  # fmt: skip
MARKER = ".built-by-event-tracker-provisioner"
PIP_PLATFORMS = {"arm64": "aarch64", "x86_64": "x86_64"}


def local_layer_arn(samconfig: Path = SAMCONFIG) -> str:
    """The Powertools layer ARN `sam local invoke` uses: samconfig.toml's local_invoke PowertoolsLayerArn."""
    config = tomllib.loads(samconfig.read_text())
    overrides = config["default"]["local_invoke"]["parameters"]["parameter_overrides"]
    match = re.search(r"PowertoolsLayerArn=(\S+)", overrides)
    if not match:
        raise SystemExit(f"{samconfig}: [default.local_invoke.parameters] sets no PowertoolsLayerArn")
    return match.group(1)


def pins(requirements: Path = REQUIREMENTS, names: tuple[str, ...] = LAYER_PACKAGES) -> list[str]:
    """`name==version` of each layer package, as requirements-dev.txt pins it."""
    wanted = {re.sub(r"[-_.]+", "-", name).lower() for name in names}
    found = []
    for line in requirements.read_text().splitlines():
        name, sep, _ = line.partition("==")
        if sep and re.sub(r"[-_.]+", "-", name).lower() in wanted:
            found.append(line.strip())
    if len(found) != len(wanted):
        raise SystemExit(f"{requirements} does not pin all of {', '.join(names)}")
    return found


def architecture(arn: str) -> str:
    """arm64 or x86_64, from the public layer's name (AWSLambdaPowertoolsPythonV3-python313-arm64)."""
    return "x86_64" if arn.split(":")[-2].endswith("x86_64") else "arm64"


def prepare(arn: str | None = None, cache: Path = DEFAULT_CACHE, python_version: str = "3.13") -> Path:
    """The cache directory SAM CLI reads for `arn`, filled from the pins unless it is already there."""
    arn = arn or local_layer_arn()
    target = cache / LayerVersion(arn, None).name
    if (target / "python").is_dir():
        return target  # ours from an earlier run, or SAM's own download of the real layer: both are that release
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=cache))
    try:
        platform = PIP_PLATFORMS[architecture(arn)]
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
             "--only-binary=:all:", "--implementation", "cp", "--python-version", python_version,
             "--platform", f"manylinux2014_{platform}", "--platform", f"manylinux_2_28_{platform}",
             "--target", str(staging / "python"), *pins()],
            check=True,
            env={**os.environ, "PIP_NO_COMPILE": "1"},
        )  # fmt: skip
        shutil.rmtree(staging / "python" / "bin", ignore_errors=True)
        (staging / MARKER).write_text(f"{arn}\n{' '.join(pins())}\n")
        try:
            staging.rename(target)  # atomic: a parallel run either wins or finds the directory made
        except OSError:
            if not (target / "python").is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


if __name__ == "__main__":
    print(prepare())
