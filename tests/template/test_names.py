"""Every name the deployment derives from the stack name fits its service's limit, for any valid stack name.

StackSet instances are named `StackSet-<stack set name>-<uuid>`, and a stack name may be 128 characters.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.template.expanded import expanded

LONGEST_STACK_NAME = "StackSet-" + "n" * (128 - len("StackSet-") - 37) + "-" + "0" * 36
# (resource type, name property): the longest name the service accepts.
LIMITS = {
    ("AWS::Events::Rule", "Name"): 64,
    ("AWS::Lambda::Function", "FunctionName"): 64,
    ("AWS::IAM::Role", "RoleName"): 64,
    ("AWS::SQS::Queue", "QueueName"): 80,
    ("AWS::StepFunctions::StateMachine", "StateMachineName"): 80,
    ("AWS::SNS::Topic", "TopicName"): 256,
    ("AWS::CloudWatch::Alarm", "AlarmName"): 255,
    ("AWS::Logs::LogGroup", "LogGroupName"): 512,
}


def named_resources(stack_name: str) -> list[tuple[str, str, str, Any]]:
    """(logical id, type, property, resolved name) of every resource the template names itself."""
    template = expanded({"NotificationEmail": "ops@example.com"}, stack_name=stack_name)
    found = []
    for logical_id, resource in template.doc["Resources"].items():
        for (kind, name_property), _ in LIMITS.items():
            name = resource.get("Properties", {}).get(name_property)
            if resource["Type"] == kind and name is not None:
                found.append((logical_id, kind, name_property, template.resolve(name)))
    return found


def test_the_longest_stack_name_is_valid() -> None:
    assert len(LONGEST_STACK_NAME) == 128


@pytest.mark.parametrize("stack_name", [LONGEST_STACK_NAME, "a"])
def test_every_derived_name_fits_its_limit(stack_name: str) -> None:
    named = named_resources(stack_name)
    assert named, "the template names no resource: this test would check nothing"
    too_long = [
        f"{logical_id} {name_property} has {len(name)} characters (limit {LIMITS[(kind, name_property)]})"
        for logical_id, kind, name_property, name in named
        if len(name) > LIMITS[(kind, name_property)]
    ]
    assert not too_long


def test_the_rules_are_named_by_cloudformation() -> None:
    """Named rules (`<stack>-provision`) exceeded 64 characters for StackSet instances."""
    template = expanded()
    rules = template.resources("AWS::Events::Rule")
    assert {
        "ProvisionEventTrackerStateMachineCreateDatasetGroup",
        "TeardownFunctionDeleteTrackerOrDatasetGroup",
    } <= set(rules)
    assert all("Name" not in rule["Properties"] for rule in rules.values())


def test_no_function_reserves_concurrency() -> None:
    """A reservation fails to deploy in new accounts (unreserved concurrency below its minimum)."""
    functions = expanded().resources("AWS::Lambda::Function")
    assert functions
    assert all("ReservedConcurrentExecutions" not in f["Properties"] for f in functions.values())
