"""`python -m local.run`: the main job on one machine, with its exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from local.run import main
from tests.helpers import EVENTS, event

FAST = [
    "--param",
    "PollIntervalSeconds=1",
    "--param",
    "MaxPollIntervalSeconds=1",
    "--dataset-group-seconds",
    "0.5",
    "--tracker-seconds",
    "0.5",
]


def test_the_sample_event_provisions(capfd: pytest.CaptureFixture[str]) -> None:
    assert main([*FAST]) == 0
    out = capfd.readouterr().out
    assert "the template's rule matches this event" in out
    assert "→ CreateOrAdoptTracker" in out
    assert "⏳ WaitForEventTracker 1 s" in out or "tracker ACTIVE" in out
    assert "/personalize/retail-recommendations/tracking-id" in out
    for figure in ("state transitions", "lambda invocations", "wall time"):
        assert figure in out
    status = out[out.index("status (python -m tools.status)") :]  # the account view comes last
    assert re.search(r"retail-recommendations\s+│\s+provisioned", status)
    assert "CloudTrail: yes" in status


def test_then_delete_shows_the_deletion_respected(capfd: pytest.CaptureFixture[str]) -> None:
    assert main([*FAST, "--then-delete", "--no-trail"]) == 0
    status = capfd.readouterr().out.split("status (python -m tools.status)")[1]
    assert "tracker deleted" in status and "MlEngineer" in status and "CloudTrail: no" in status


def test_a_failure_path_exits_non_zero_with_the_error(capfd: pytest.CaptureFixture[str]) -> None:
    assert main([*FAST, "--tracker-fails"]) == 1
    out = capfd.readouterr().out
    assert "EventTrackerFailed" in out
    assert "(not written)" in out


def test_an_event_the_rule_would_not_match_is_refused(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    failed = event("create-dataset-group.json")
    failed["detail"]["errorCode"] = "AccessDenied"
    path = tmp_path / "failed.json"
    path.write_text(json.dumps(failed))
    assert main([str(path), *FAST]) == 2
    assert "would NOT match" in capfd.readouterr().out


def test_a_direct_input_runs_without_the_rule(capfd: pytest.CaptureFixture[str]) -> None:
    assert main([str(EVENTS / "direct-input.json"), *FAST, "--existing-tracker"]) == 0
    out = capfd.readouterr().out
    assert "direct input" in out
    assert "adopted" in out


def test_a_bad_parameter_override_is_refused(capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["--param", "ParameterPrefix=/aws/x"]) == 2
    assert "does not match" in capfd.readouterr().out


def test_the_reconciler_and_the_teardown_in_the_local_run(capfd: pytest.CaptureFixture[str]) -> None:
    assert main([*FAST, "--reconcile", "--then-delete"]) == 0
    out = capfd.readouterr().out
    assert "reconciler checked 1, started ['retail-recommendations']" in out
    assert 'TeardownFunction: {"deleted": ["/personalize/retail-recommendations/tracking-id"]}' in out
    assert "tracking-id: deleted" in out


def test_throttling_is_shown_and_absorbed(capfd: pytest.CaptureFixture[str]) -> None:
    # 4 LimitExceeded answers: more than botocore's 3 attempts, so the workflow waits and tries again.
    assert main([*FAST, "--throttle", "4"]) == 0
    out = capfd.readouterr().out
    assert "⏳ WaitToCreateTracker" in out
    assert "✗" not in out  # waiting is not failing
    assert "SUCCEEDED" in out


def test_the_accounts_lambda_concurrency_is_an_option(capfd: pytest.CaptureFixture[str]) -> None:
    assert main([*FAST, "--lambda-concurrency", "1"]) == 0
    out = capfd.readouterr().out
    assert "lambda throttled" in out and "(concurrency 1)" in out
    assert "SUCCEEDED" in out


def test_the_action_interactions_flow(capfd: pytest.CaptureFixture[str]) -> None:
    assert main([*FAST, "--action-interactions"]) == 0
    out = capfd.readouterr().out
    assert "events/create-action-interactions-dataset.json" in out
    assert "the template's rule matches this event" in out
    assert "Action interactions dataset ACTIVE" in out
    assert "/personalize/retail-recommendations/action-tracking-id" in out
    assert "SUCCEEDED" in out


def test_the_summary_has_both_lag_figures(capfd: pytest.CaptureFixture[str]) -> None:
    assert main([*FAST]) == 0
    out = capfd.readouterr().out
    assert re.search(r"provisioning lag\s+\d+\.\d+ s \(ACTIVE to stored\)", out), out
    # The sample's CloudTrail call is made now: the time counts from its eventTime, not from days ago.
    found = re.search(r"time to tracking ID\s+(\d+\.\d+) s \(from eventTime\)", out)
    assert found and float(found.group(1)) < 60, out
    assert "functions ran                     in-process (this Python)" in out


def test_containers_without_docker_exit_2_saying_what_is_missing(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker command on it
    assert main(["--containers"]) == 2
    out = capfd.readouterr().out
    assert "make local --containers: SAM CLI runs the functions in Docker containers, and there is no docker" in out
