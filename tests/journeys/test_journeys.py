"""The user journeys on the local engine, exactly as `make verify` runs them in an account (tests/journeys), and
the dry run a person can make without credentials."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from botocore.exceptions import ClientError

from tests.helpers import ROOT
from tests.journeys import journeys
from tests.journeys.local import local_world

pytestmark = pytest.mark.slow  # about a minute: `make test-slow`, which CI runs


def test_every_journey_passes_on_the_local_engine_and_leaves_nothing() -> None:
    with local_world() as world:
        outcomes = journeys.run(world)
        left = [g["name"] for g in world.personalize.list_dataset_groups()["datasetGroups"]]
        schemas = world.personalize.list_schemas()["schemas"]
        parameters = world.engine.ssm.describe_parameters()["Parameters"]  # not the suite's: its policy lists none
    assert [(o.journey, o.ok, o.error) for o in outcomes] == [(j.__name__, True, "") for j in journeys.JOURNEYS]
    assert journeys.differences(outcomes) == []
    report = journeys.report(outcomes, "the local engine")
    assert "5 passed, 0 failed" in report and "CreateDatasetGroup to the parameter" in report
    assert (left, schemas, parameters) == ([], [], [])


def test_the_policy_a_person_gives_the_suite_keeps_it_to_what_it_names() -> None:
    """Every call above ran under tests/journeys/verify-policy.json (the local IAM check); a write to a group the
    suite did not name is denied."""
    with local_world() as world:
        other = "arn:aws:personalize:us-east-1:123456789012:dataset-group/production"
        with pytest.raises(ClientError) as denied:
            world.engine.authorize("Journeys", world.personalize, "DeleteDatasetGroup", {"datasetGroupArn": other})
        world.engine.authorize("Journeys", world.personalize, "DeleteDatasetGroup",
                               {"datasetGroupArn": other.replace("production", "etp-verify-1a2b3c-new")})  # fmt: skip
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"


def test_the_dry_run_needs_no_credentials_and_lists_the_calls() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run(
        [sys.executable, "-m", "tests.journeys", "--stack", "event-tracker-provisioner", "--dry-run"],
        cwd=ROOT,
        env={
            **env,
            "PYTHONPATH": str(ROOT),
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_CONFIG_FILE": "/dev/null",
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    for call in ("personalize:CreateDatasetGroup name=etp-verify-", "personalize-events:PutEvents",
                 "cloudformation:CreateStack", "states:StartExecution", "personalize:DeleteSchema"):  # fmt: skip
        assert call in result.stdout, call
    assert "rehearsal: 5 of 5 journeys passed on the local engine" in result.stdout


def test_the_clean_up_command_removes_what_an_interrupted_run_left() -> None:
    """A run stopped half-way (its own clean-up never ran): `--clean` deletes every etp-verify-* group, with its
    tracker, dataset and parameter, and schema; nothing else."""
    with local_world() as world:
        world.engine.personalize.create_dataset_group(name="someone-elses")  # a person's, outside the suite's policy
        journeys.a_new_dataset_group(world, {}, {})  # leaves a group, its dataset and tracker, a schema, a parameter
        assert world.parameters_of(world.name("new"))

        deleted = world.clean(everything_of_the_suite=True)

        assert any(arn.endswith(f"dataset-group/{world.name('new')}") for arn in deleted), deleted
        left = [g["name"] for g in world.personalize.list_dataset_groups()["datasetGroups"]]
        assert left == ["someone-elses"] and world.personalize.list_schemas()["schemas"] == []
        assert world.parameters_of(world.name("new")) == []
