"""`python -m tools.local_run`: the main job on one machine, with its exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from local.engine import TIME_SCALE
from tests.helpers import EVENTS, event
from tools import local_run
from tools.local_run import main

FAST = ["--param", "PollIntervalSeconds=1", "--param", "MaxPollIntervalSeconds=1"]


@pytest.fixture(autouse=True)
def quick_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's clock, not real time, and invocations at their own pace: what is checked here is the run's
    account of itself, not its pace."""
    monkeypatch.setattr(local_run, "CLOCK", TIME_SCALE)
    monkeypatch.setattr(local_run, "INVOCATION_SECONDS", 0.0)


def test_the_sample_event_provisions(capfd: pytest.CaptureFixture[str]) -> None:
    assert main([*FAST]) == 0
    out = capfd.readouterr().out
    assert "the template's rule matches this event" in out
    assert "seeded     dataset group retail-recommendations" in out
    assert "→ CreateOrAdoptTracker" in out and "✓ CreateOrAdoptTracker  created" in out
    assert "⏳ WaitForEventTracker 1 s" in out and "✓ CheckEventTracker  ACTIVE ready" in out
    assert "/personalize/retail-recommendations/tracking-id" in out
    for figure in ("state transitions", "lambda invocations", "wall time"):
        assert figure in out
    assert re.search(r"provisioning lag\s+\d+\.\d+ s \(ACTIVE to stored\)", out), out
    # The sample's CloudTrail call is made now: the time counts from its eventTime, not from days ago.
    found = re.search(r"time to tracking ID\s+(\d+\.\d+) s \(from eventTime\)", out)
    assert found and float(found.group(1)) < 60, out
    assert "functions ran                     in-process (this Python)" in out
    status = out[out.index("status (python -m tools.status)") :]  # the account view comes last
    assert re.search(r"retail-recommendations\s+│\s+provisioned", status)
    assert "CloudTrail: yes" in status


def test_a_fault_fails_the_run_with_the_error(capfd: pytest.CaptureFixture[str]) -> None:
    """One way to make a fault (local.faults), from the command line: a tracker that disappears while polled."""
    assert main([*FAST, "--fault", "personalize:DescribeEventTracker:ResourceNotFoundException"]) == 1
    out = capfd.readouterr().out
    assert "fault      personalize DescribeEventTracker: ResourceNotFoundException x1" in out
    assert re.search(r"error\s+EventTrackerFailed", out) and "(not written)" in out
    assert "CheckEventTrackerFunction" in out and "raised EventTrackerFailed" in out


def test_throttling_is_shown_and_absorbed(capfd: pytest.CaptureFixture[str], no_client_backoff: None) -> None:
    # 4 LimitExceeded answers: more than botocore's 3 attempts, so the workflow waits and tries again.
    assert main([*FAST, "--fault", "personalize:CreateEventTracker:LimitExceededException:4"]) == 0
    out = capfd.readouterr().out
    assert "⏳ WaitToCreateTracker" in out
    assert "✗" not in out  # waiting is not failing
    assert "SUCCEEDED" in out


def test_an_event_the_rule_would_not_match_is_refused(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    failed = event("create-dataset-group.json")
    failed["detail"]["errorCode"] = "AccessDenied"
    path = tmp_path / "failed.json"
    path.write_text(json.dumps(failed))
    assert main([str(path), *FAST]) == 2
    assert "would NOT match" in capfd.readouterr().out


def test_a_bad_parameter_override_is_refused(capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["--param", "ParameterPrefix=/aws/x"]) == 2
    assert "does not match" in capfd.readouterr().out


@pytest.mark.parametrize("sample", ["create-action-interactions-dataset.json", "direct-dataset-input.json"])
def test_the_action_interactions_flow(sample: str, capfd: pytest.CaptureFixture[str]) -> None:
    """The event names a dataset: the run seeds its group and the dataset, by event or by hand."""
    assert main([str(EVENTS / sample), *FAST]) == 0
    out = capfd.readouterr().out
    direct = sample.startswith("direct")
    assert ("direct input" if direct else "the template's rule matches this event") in out
    assert "✓ CheckDataset  ACTIVE ready" in out
    assert "/personalize/retail-recommendations/action-tracking-id" in out
    assert "SUCCEEDED" in out


def test_containers_without_docker_exit_2_saying_what_is_missing(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker command on it
    assert main(["--containers"]) == 2
    out = capfd.readouterr().out
    assert "make local --containers: SAM CLI runs the functions in Docker containers, and there is no docker" in out
