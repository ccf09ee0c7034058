"""The whole workflow as deployed: every function in its Lambda container, driven by the state machine.

`sam build` of the real template, `sam local start-lambda` on the built template (each function's package,
SharedCodeLayer and the Powertools layer in the Lambda runtime's container), and the local engine invoking each
task through the Lambda Invoke API: a packaging mistake, an import that works only in the repository, a payload
that does not survive the Lambda API or an error name the runtime spells differently fails here.

Two tests run `make local ARGS=...` as a user types it; the scenarios of the third share one `sam local
start-lambda` (warm containers: each function's start-up is paid once), run in order as its subtests, and check
their effects in the local services directly. Skipped where no Docker engine answers; REQUIRE_CONTAINERS=1
(`.ci/run`) turns the skip into a failure.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.container.test_sam_local_invoke import docker_engine, documented_invoke_lines, parsed
from tests.helpers import ACCOUNT, REGION, choice_reads_missing, create_event, event

if TYPE_CHECKING:  # imported once Docker answers: without it, this tier only skips, and quickly
    from local.engine import Execution, LocalEngine
    from local.personalize_emulator import PersonalizeEmulator

ROOT = Path(__file__).resolve().parents[2]
MAKE_LOCAL_FUNCTIONS = ("ParseInputFunction", "CheckDatasetFunction")  # the Action interactions lane's


def require_docker() -> None:
    reason = docker_engine()
    if reason:
        if os.environ.get("REQUIRE_CONTAINERS") == "1":
            pytest.fail(f"REQUIRE_CONTAINERS=1 but {reason}")
        pytest.skip(reason)


def make_local(args: str) -> subprocess.CompletedProcess[str]:
    shell = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    return subprocess.run(
        ["make", "local", f"ARGS={args}"], cwd=ROOT, env=shell, capture_output=True, text=True, timeout=900
    )


def row(output: str, name: str) -> str:
    """A row of the run's summary table."""
    found = re.search(rf"^\s+{re.escape(name)}\s+(\S.*?)\s*$", output, re.MULTILINE)
    assert found, f"no {name!r} row in:\n{output[-3000:]}"
    return found.group(1)


# ------------------------------------------------------------------ the command, as typed
def test_make_local_containers_provisions_and_stores_the_parameter() -> None:
    """docs/local.md's second line, as typed: the Action interactions lane, two functions (each container's cold start
    under qemu costs tens of seconds; the event tracker's lane runs in containers in the scenarios below)."""
    require_docker()
    run = make_local("--containers events/create-action-interactions-dataset.json")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert row(run.stdout, "result") == "SUCCEEDED"
    assert row(run.stdout, "functions ran").startswith("containers: sam local start-lambda http://127.0.0.1:")
    for function in MAKE_LOCAL_FUNCTIONS:
        assert re.match(r"\d+ invocations, the first \d+\.\d\d s", row(run.stdout, function)), function
    # The parameter, read back from SSM, holds the trackingId CheckDataset read from DescribeDataset.
    assert row(run.stdout, "parameter") == "/personalize/retail-recommendations/action-tracking-id"
    assert json.loads(row(run.stdout, "output.trackingId")) == row(run.stdout, "value")
    assert "sam local start-lambda stopped, its containers removed" in run.stdout


# ------------------------------------------------------------------ one start-lambda for the scenarios
@contextlib.contextmanager
def deployed() -> Iterator[tuple[LocalEngine, PersonalizeEmulator]]:
    """The application with every function in its container, and the local services the containers reach."""
    require_docker()
    from local.engine import LocalEngine
    from local.personalize_emulator import PersonalizeEmulator
    from tools.local_run import CONTAINER_PARAMETERS
    from tools.sam_local import docker_gateway, free_port, start_lambda

    gateway = docker_gateway()
    with contextlib.ExitStack() as cleanup:
        emulator = PersonalizeEmulator(ACCOUNT, REGION)
        emulator.start(host=gateway)
        cleanup.callback(emulator.stop)
        moto_port = free_port(gateway)
        services = {"AWS_ENDPOINT_URL": f"http://{gateway}:{moto_port}", "AWS_ENDPOINT_URL_PERSONALIZE": emulator.url}
        machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:ProvisionEventTrackerStateMachine"
        containers = cleanup.enter_context(
            start_lambda(services, {"ReconcilerFunction": {"STATE_MACHINE_ARN": machine}}, CONTAINER_PARAMETERS)
        )
        cleanup.enter_context(contextlib.redirect_stdout(io.StringIO()))  # the in-process handlers' import logs
        stack = cleanup.enter_context(
            LocalEngine(
                emulator, CONTAINER_PARAMETERS, containers=containers, serve_at=(gateway, moto_port), time_scale=1.0
            )
        )
        assert stack.state_machine_arn == machine
        missing: list[str] = []
        definition = json.loads(stack.machine.definition)
        stack.on_wait.append(lambda execution: missing.extend(choice_reads_missing(definition, execution.history)))
        yield stack, emulator
        assert missing == []


def invoked_in_containers(stack: LocalEngine, execution: Execution) -> set[str]:
    """The functions the execution's tasks invoked: through the Lambda Invoke API, in their containers."""
    assert stack.containers is not None and stack.where.startswith("containers: sam local start-lambda")
    scheduled = [e["lambdaFunctionScheduledEventDetails"]["resource"] for e in execution.history
                 if e["type"] == "LambdaFunctionScheduled"]  # fmt: skip
    return {arn.rsplit(":", 1)[-1] for arn in scheduled}


def success_stores_the_trackers_tracking_id(deployed: tuple[LocalEngine, PersonalizeEmulator]) -> None:
    stack, emulator = deployed
    name = "e2e-success"
    stack.create_dataset_group(name)
    execution = stack.run(create_event(name), timeout=600)
    assert execution.status == "SUCCEEDED", execution.cause
    [tracker] = emulator.trackers_of(name)
    parameter = stack.parameter(stack.parameter_name(name))
    assert parameter is not None and parameter["Value"] == tracker["trackingId"]
    assert parameter["Tags"]["event-tracker-provisioner:event-tracker-arn"] == tracker["eventTrackerArn"]
    assert execution.failed_tasks == []
    assert invoked_in_containers(stack, execution) == {
        "ParseInputFunction", "CheckDatasetGroupFunction", "CreateOrAdoptTrackerFunction",
        "CheckEventTrackerFunction",
    }  # fmt: skip


def a_failed_tracker_ends_in_the_error_name_the_container_gave(
    deployed: tuple[LocalEngine, PersonalizeEmulator],
) -> None:
    from local.personalize_emulator import Timing

    stack, emulator = deployed
    name = "e2e-tracker-fails"
    emulator.time_tracker(name, Timing(pending=1, fails_with="Injected"))
    stack.create_dataset_group(name)
    execution = stack.run(create_event(name), timeout=600)
    assert (execution.status, execution.error) == ("FAILED", "EventTrackerFailed"), execution.cause
    assert re.fullmatch(r"Event tracker \S+ is CREATE FAILED", execution.cause or ""), execution.cause
    [failed] = execution.failed_tasks
    details = failed["lambdaFunctionFailedEventDetails"]
    assert details["error"] == "EventTrackerFailed"
    assert json.loads(details["cause"])["errorType"] == "EventTrackerFailed"  # the runtime's error document
    assert stack.parameter(stack.parameter_name(name)) is None


def the_reconciler_starts_a_group_whose_event_was_lost(deployed: tuple[LocalEngine, PersonalizeEmulator]) -> None:
    from local.personalize_emulator import Timing

    stack, emulator = deployed
    name = "e2e-event-lost"
    emulator.time_dataset_group(name, Timing())
    stack.create_dataset_group(name)
    answer = stack.call("ReconcilerFunction", event("scheduled-event.json"))
    assert name in answer["started"] and answer["unchecked"] == {}, answer
    assert answer["skipped"].get("e2e-success") == "tracker and parameter are in place", answer
    started = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    [mine] = [e for e in started if e["name"].startswith("reconcile-") and e["name"].endswith(f"-{name}")]
    execution = stack.wait(mine["executionArn"], timeout=600)
    assert execution.status == "SUCCEEDED", execution.cause
    [tracker] = emulator.trackers_of(name)
    assert stack.parameter(stack.parameter_name(name))["Value"] == tracker["trackingId"]
    for other in started:  # what else it started (the failed group above, again) also ends
        stack.wait(other["executionArn"], timeout=600)


def the_teardown_removes_the_parameter_of_a_deleted_tracker(
    deployed: tuple[LocalEngine, PersonalizeEmulator],
) -> None:
    stack, emulator = deployed
    name = "e2e-success"
    parameter = stack.parameter_name(name)
    [tracker] = emulator.trackers_of(name)
    someone_elses = f"/personalize/{name}/notes"
    stack.ssm.put_parameter(Name=someone_elses, Value="written by someone else", Type="String")
    stack.personalize.delete_event_tracker(eventTrackerArn=tracker["eventTrackerArn"])
    deletion = event("delete-event-tracker.json")
    deletion["detail"]["requestParameters"] = {"eventTrackerArn": tracker["eventTrackerArn"]}

    answer = stack.deliver(deletion)

    assert answer == {"TeardownFunction": {"deleted": [parameter]}}
    assert stack.parameter(parameter) is None
    assert stack.parameter(someone_elses)["Value"] == "written by someone else"
    assert stack.ran[-1].function == "TeardownFunction" and stack.ran[-1].error is None


SCENARIOS = (  # in this order: the teardown removes what the first provisioned
    success_stores_the_trackers_tracking_id,
    a_failed_tracker_ends_in_the_error_name_the_container_gave,
    the_reconciler_starts_a_group_whose_event_was_lost,
    the_teardown_removes_the_parameter_of_a_deleted_tracker,
)


def test_the_workflow_in_containers(subtests: pytest.Subtests) -> None:
    from tools.sam_local import NO_RESPONSE, NO_RESPONSE_HINT

    require_docker()
    with deployed() as world:
        for scenario in SCENARIOS:
            with subtests.test(msg=scenario.__name__):
                scenario(world)
        stack, _ = world
        assert stack.containers is not None
        # With `make local`'s run and the docs' `make invoke` lines, every function runs in its container in this tier.
        documented = {parsed(line)[0] for line in documented_invoke_lines()}
        ran = {invocation.function for invocation in stack.ran}
        assert ran | documented | set(MAKE_LOCAL_FUNCTIONS) == set(stack.functions)
        assert NO_RESPONSE not in stack.containers.log_text(), NO_RESPONSE_HINT  # a daemon with the userland proxy


def test_the_docs_document_the_container_run() -> None:
    readme = (ROOT / "docs" / "local.md").read_text()
    for line in (
        "make local ARGS=--containers",
        'make local ARGS="--containers events/create-action-interactions-dataset.json"',
    ):
        assert line in readme, line
