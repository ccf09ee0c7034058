"""Constants and small helpers the tests share."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
ACCOUNT = "123456789012"
REGION = "us-east-1"
# Short waits: the tests run the real definition, whose Wait states really sleep (on the engine's clock, a fifth of
# these). The deadline, 150 s on that clock, is 30 s of real time: room for botocore's real retries under load.
FAST = {
    "PollIntervalSeconds": 1,
    "MaxPollIntervalSeconds": 2,
    "ProvisioningTimeoutSeconds": 150,
    "ReconcileStartsPerSecond": 100,
}


def dataset_group_arn(name: str) -> str:
    return f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset-group/{name}"


def event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def create_event(dataset_group_name: str, with_arn: bool = True) -> dict[str, Any]:
    """The sample CloudTrail CreateDatasetGroup event, for another dataset group."""
    sample = event("create-dataset-group.json")
    sample["detail"]["requestParameters"]["name"] = dataset_group_name
    if with_arn:
        sample["detail"]["responseElements"]["datasetGroupArn"] = dataset_group_arn(dataset_group_name)
    else:
        sample["detail"]["responseElements"] = None
    return sample


def wait_for_executions(stack: Any, timeout: float = 60) -> list[Any]:
    """Wait until no execution runs, then return them all."""
    deadline = time.monotonic() + timeout
    while True:
        executions = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
        if all(e["status"] != "RUNNING" for e in executions) or time.monotonic() > deadline:
            return [stack.wait(e["executionArn"]) for e in executions]
        time.sleep(0.1)


def _rule_variables(rule: dict[str, Any]) -> Iterator[tuple[str, bool]]:
    """The paths a Choice rule reads, each with whether the rule only asks if it is there (IsPresent)."""
    for nested in (*rule.get("And", []), *rule.get("Or", []), *([rule["Not"]] if "Not" in rule else [])):
        yield from _rule_variables(nested)
    if "Variable" in rule:
        yield rule["Variable"], "IsPresent" in rule


def _present(data: Any, path: str) -> bool:
    for part in path.removeprefix("$").strip(".").split("."):
        if not part:
            continue
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def choice_reads_missing(definition: dict[str, Any], history: list[dict[str, Any]]) -> list[str]:
    """Every field a Choice rule compared that was not in the Choice's input, as `<state>: <path>`.

    Whether an engine evaluates a rule on a missing field (States.Runtime on AWS) or skips it (inside an And
    after a false IsPresent) is its evaluation order; a definition whose every rule reads a field that is
    there depends on no order. Only IsPresent may ask about a field that is missing."""
    missing = []
    for event in history:
        if event["type"] != "ChoiceStateEntered":
            continue
        details = event["stateEnteredEventDetails"]
        data = json.loads(details.get("input") or "null")
        for rule in definition["States"][details["name"]]["Choices"]:
            for path, is_present in _rule_variables(rule):
                if not is_present and not _present(data, path):
                    missing.append(f"{details['name']}: {path}")
    return missing
