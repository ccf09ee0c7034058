"""The reconciler in a big account: Personalize's reads rate-limited, groups that cannot be checked left for later,
and the work of an invocation that would not fit handed to a new one."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.engine import LocalEngine
from local.faults import Fault, inject
from local.personalize_emulator import PersonalizeEmulator
from tests.helpers import wait_for_executions
from tests.scale import READS, populate

GROUPS = 200
MISSING = 12
READS_PER_SECOND = 20


def reconciler_metrics(output: str) -> dict[str, list[float]]:
    lines = [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]
    return next(m for m in reversed(lines) if "DatasetGroupsChecked" in m)


@pytest.mark.slow  # about a minute: 200 groups at 20 reads a second, twice
def test_a_few_hundred_groups_with_reads_rate_limited(
    stack: LocalEngine, emulator: PersonalizeEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(stack, emulator, GROUPS, missing=0)
    for operation in READS:
        inject(Fault("personalize", operation, per_second=READS_PER_SECOND), emulator=emulator)

    steady = stack.call("ReconcilerFunction", {})  # a steady account: nothing to start

    assert (steady["checked"], steady["started"], steady["unchecked"], steady["continued"]) == (GROUPS, [], {}, False)

    missing = [f"scale-{index:04d}" for index in range(0, GROUPS, GROUPS // MISSING)][:MISSING]
    for name in missing:  # then some parameters go missing
        stack.ssm.delete_parameter(Name=stack.parameter_name(name))
    capsys.readouterr()

    report = stack.call("ReconcilerFunction", {})

    assert report["checked"] == GROUPS and report["unchecked"] == {}
    assert sorted(report["started"]) == sorted(missing)
    metrics = reconciler_metrics(capsys.readouterr().out)
    assert [
        metrics[name]
        for name in ("DatasetGroupsChecked", "ExecutionsStarted", "DatasetGroupsSkipped", "DatasetGroupsUnchecked")
    ] == [[GROUPS], [MISSING], [GROUPS - MISSING], [0]]
    for execution in wait_for_executions(stack, timeout=120):
        assert execution.status == "SUCCEEDED", execution.cause
    for name in missing:
        [tracker] = emulator.trackers_of(name)
        assert stack.parameter(stack.parameter_name(name))["Value"] == tracker["trackingId"]


@pytest.mark.slow  # about 20 s: reads rate-limited in real time
def test_a_group_that_stays_throttled_is_unchecked_and_found_by_the_next_run(
    stack: LocalEngine, emulator: PersonalizeEmulator, capsys: pytest.CaptureFixture[str], no_client_backoff: Any
) -> None:
    from common.clients import PACED_MAX_ATTEMPTS

    for name in ("first", "second", "third"):
        stack.create_dataset_group(name)
    # Every attempt of the first group's ListEventTrackers is throttled (the listing is oldest first).
    inject(
        Fault("personalize", "ListEventTrackers", "LimitExceededException", times=PACED_MAX_ATTEMPTS), emulator=emulator
    )
    capsys.readouterr()

    first_run = stack.call("ReconcilerFunction", {})

    [unchecked] = first_run["unchecked"]
    assert "LimitExceededException" in first_run["unchecked"][unchecked]
    assert first_run["checked"] == 2
    assert sorted(first_run["started"]) == sorted({"first", "second", "third"} - {unchecked})
    assert reconciler_metrics(capsys.readouterr().out)["DatasetGroupsUnchecked"] == [1]
    wait_for_executions(stack)

    next_run = stack.call("ReconcilerFunction", {})

    assert next_run["unchecked"] == {}
    assert next_run["started"] == [unchecked]
    for execution in wait_for_executions(stack):
        assert execution.status == "SUCCEEDED", execution.cause


@pytest.mark.slow  # about 25 s: an invocation's deadline in real time
def test_what_does_not_fit_in_one_invocation_continues_in_a_new_one(
    stack: LocalEngine, emulator: PersonalizeEmulator
) -> None:
    names = sorted(populate(stack, emulator, 130, missing=130))  # two pages of ListDatasetGroups
    for name in names[2:-2]:  # all in place but two on each page (the listing is newest first)
        [tracker] = emulator.trackers_of(name)
        stack.ssm.put_parameter(Name=stack.parameter_name(name), Value=tracker["trackingId"], Type="String")
    lambda_invoked = stack.lambda_invoked

    # An invocation with too little time left for one call: it begins none, and hands everything over.
    report = stack.call("ReconcilerFunction", {}, timeout_seconds=1)

    assert report["continued"] is True
    assert report["checked"] == 0 and report["started"] == []
    executions = wait_for_executions(stack, timeout=120)
    assert sorted(e.output["datasetGroupName"] for e in executions) == names[:2] + names[-2:]
    assert all(e.status == "SUCCEEDED" for e in executions)
    assert stack.lambda_invoked > lambda_invoked  # the continuation went through Lambda's Invoke API
