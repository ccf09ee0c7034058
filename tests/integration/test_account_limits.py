"""The workflow at an account's limits: Lambda concurrency, on the local engine that models it."""

from __future__ import annotations

import contextlib
import io
import time

import pytest

from local.engine import LocalEngine
from local.faults import Fault, inject
from local.personalize_emulator import PersonalizeEmulator, Timing
from tests.helpers import FAST, create_event

# Six executions for each unit of the account's Lambda concurrency, as 60 dataset groups at once in a new account
# (concurrency 10) would be. The local engine runs every execution in one process, so the suite keeps it to 18
# at 3; `make bench` runs the 60 at 10 (bench/results.md, Burst).
BURST = 18
CONCURRENCY = 3
NAME = "retail-recommendations"


@pytest.mark.slow  # about 15 s: 60 executions through a concurrency of 10
def test_a_burst_beyond_the_lambda_concurrency_is_all_provisioned(emulator: PersonalizeEmulator) -> None:
    settings = {**FAST, "ProvisioningTimeoutSeconds": 300}
    with (
        LocalEngine(emulator, settings, lambda_concurrency=CONCURRENCY, lambda_seconds=0.05) as stack,
        contextlib.redirect_stdout(io.StringIO()),  # 60 executions' handler logs
    ):
        names = [f"burst-{index}" for index in range(BURST)]
        for name in names:
            stack.create_dataset_group(name)
        started = time.monotonic()
        arns = [stack.start(create_event(name)) for name in names]
        executions = [stack.wait(arn, timeout=600) for arn in arns]
        took = time.monotonic() - started

        assert stack.lambda_throttled > 0, "the burst never reached the concurrency: this test would prove nothing"
        failed = [(e.arn, e.error, e.cause) for e in executions if e.status != "SUCCEEDED"]
        assert not failed
        for name in names:
            [tracker] = emulator.trackers_of(name)
            assert stack.parameter(stack.parameter_name(name))["Value"] == tracker["trackingId"]
        throttles = [
            e for x in executions for e in x.history if e.get("lambdaFunctionFailedEventDetails", {}).get("error")
        ]
        assert {e["lambdaFunctionFailedEventDetails"]["error"] for e in throttles} == {
            "Lambda.TooManyRequestsException"
        }
    print(f"{BURST} groups, concurrency {CONCURRENCY}: {stack.lambda_throttled} throttled, {took:.0f} s")


# The Step Functions best practice for transient Lambda service errors ("Handle transient Lambda service
# exceptions"), plus throttling; each one, failing every task's first invocation, is retried and the run succeeds.
TRANSIENT = (
    "ClientExecutionTimeoutException",
    "ServiceException",
    "AWSLambdaException",
    "SdkClientException",
    "TooManyRequestsException",
)


@pytest.mark.parametrize("code", TRANSIENT)
def test_a_transient_lambda_error_of_every_task_is_retried(
    code: str, make_stack, emulator: PersonalizeEmulator, retry_delays: list[float]
) -> None:
    stack = make_stack()
    emulator.time_dataset_group(NAME, Timing())
    emulator.time_tracker(NAME, Timing())
    stack.create_dataset_group(NAME)
    tasks = ("ParseInputFunction", "CheckDatasetGroupFunction", "CreateOrAdoptTrackerFunction",
             "CheckEventTrackerFunction")  # fmt: skip
    for function in tasks:
        inject(Fault("lambda", function, code), stack)

    execution = stack.run(create_event(NAME))

    assert execution.status == "SUCCEEDED", execution.cause
    failed = [e["lambdaFunctionFailedEventDetails"]["error"] for e in execution.failed_tasks]
    assert failed == [f"Lambda.{code}"] * len(tasks)
    assert execution.retries == len(tasks) and len(retry_delays) == len(tasks)
    [tracker] = emulator.trackers_of(NAME)
    assert stack.parameter(stack.parameter_name(NAME))["Value"] == tracker["trackingId"]


def test_an_unknown_lambda_api_error_is_not_retried(make_stack, emulator: PersonalizeEmulator) -> None:
    stack = make_stack()
    stack.create_dataset_group(NAME)
    inject(Fault("lambda", "CheckDatasetGroupFunction", "ResourceNotFoundException"), stack)
    execution = stack.run(create_event(NAME))
    assert (execution.status, execution.error) == ("FAILED", "Lambda.ResourceNotFoundException"), execution.cause
    assert execution.retries == 0
