"""Every `make invoke` line of docs/local.md, run as written: `sam local invoke` in a real container.

Skipped, with the reason, where no Docker engine answers; `.ci/run` sets REQUIRE_CONTAINERS=1, which
turns that skip into a failure. Each run checks the function's result and what it changed.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from local.template import Template
from tests.make_invoke import EXPECTED

ROOT = Path(__file__).resolve().parents[2]


def documented_invoke_lines() -> list[str]:
    """The `make invoke` lines of docs/local.md's section on `sam local invoke`."""
    text = (ROOT / "docs" / "local.md").read_text()
    section = text.split("## Trying functions with `sam local invoke`", 1)[1].split("\n## ", 1)[0]
    return [line.strip() for line in section.splitlines() if line.startswith("make invoke ")]


def docker_engine() -> str | None:
    """Why containers cannot run here, or None when a Docker engine answers."""
    try:
        probe = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"no Docker engine: {error}"
    return None if probe.returncode == 0 else f"no Docker engine: {probe.stderr.strip()[:200]}"


def parsed(line: str) -> tuple[str, str]:
    arguments = dict(word.split("=", 1) for word in shlex.split(line)[2:])
    return arguments["FUNCTION"], arguments["EVENT"]


def test_the_docs_list_a_few_functions_and_every_function_has_its_sample() -> None:
    """Containers are slow here (arm64 under qemu): the docs' lines run in them; every function on its sample runs
    in-process (tests/integration/test_make_invoke.py), and in a container in the workflow (test_end_to_end.py)."""
    listed = [parsed(line) for line in documented_invoke_lines()]
    assert set(listed) <= set(EXPECTED) and len(listed) == len(set(listed)) == 3
    assert sorted(function for function, _ in EXPECTED) == sorted(Template().functions())  # each once
    # The other samples are the in-process tests': each is read by one of them.
    in_process = "".join(path.read_text() for path in (ROOT / "tests").rglob("*.py") if "container" not in path.parts)
    assert [path.name for path in (ROOT / "events").glob("*.json") if f'"{path.name}"' not in in_process] == []


@pytest.mark.parametrize("line", documented_invoke_lines())
def test_readme_line(line: str) -> None:
    reason = docker_engine()
    if reason:
        if os.environ.get("REQUIRE_CONTAINERS") == "1":
            pytest.fail(f"REQUIRE_CONTAINERS=1 but {reason}")
        pytest.skip(reason)
    shell = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}  # as typed in a shell, not from make
    run = subprocess.run(shlex.split(line), cwd=ROOT, env=shell, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"{line}\nstdout: {run.stdout[-2000:]}\nstderr: {run.stderr[-4000:]}"
    result = json.loads(run.stdout.strip().splitlines()[-1])
    EXPECTED[parsed(line)](result, run.stderr)
