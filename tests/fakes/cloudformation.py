"""Stacks of Personalize resources as CloudFormation runs them, with the template's Lambda hooks: for the local
engine.

What a stack that declares a Personalize dataset group and its datasets does:

- it creates them with CloudFormation's system tags (`aws:cloudformation:stack-id`, `...:stack-name`,
  `...:logical-id`), as AWS::Personalize::DatasetGroup and ::Dataset do (cloudFormationSystemTags in their
  schemas); CloudTrail records the calls with `invokedBy` cloudformation.amazonaws.com;
- delete-stack deletes them in reverse dependency order (datasets, then the group); before each one, every enabled
  `AWS::CloudFormation::LambdaHook` whose target filters name the type, the action DELETE and the invocation point
  PRE_PROVISION is invoked with the request the CloudFormation Hooks user guide shows: the properties in
  `previousResourceProperties`, `resourceProperties` empty ("If the resource is being deleted, this value will be
  empty"); `shape="resourceProperties"` sends them the other way, as cloudformation-cli's contract tests do. An
  IN_PROGRESS answer is honoured (its callbackContext, as a JSON string, comes back after callbackDelaySeconds on
  the engine's clock), at most three invocations in all; an invocation that answers after CloudFormation's 30 s
  counts as failed; FailureMode WARN lets the deletion go on when the hook fails;
- an update that removes resources from the template deletes them in its clean-up, where no hook runs ("The
  delete Hook handler is only invoked when a resource is deleted using an operation trigger from Cloud Control API
  delete-resource or CloudFormation delete-stack"); a refused deletion leaves the resource in the account, outside
  the stack, and the update completes;
- the resource's own handler calls Personalize (DeleteDataset, DeleteDatasetGroup) and waits until the resource is
  gone; CloudTrail records the call, refused or not, and EventBridge delivers it to the application's rules;
- a refused call in delete-stack ends the resource, and the stack, in DELETE_FAILED; deleting the stack again
  retries.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from local.engine import ACCOUNT, REGION, LocalEngine
from tests.fakes.cloudtrail import CLOUDFORMATION, call, record

HOOK_INVOCATIONS = 3
HOOK_WAIT_SECONDS = 30.0  # CloudFormation waits this long for each invocation of a Lambda hook
GONE_SECONDS = 120.0  # a resource handler's wait until Personalize no longer has the resource (engine's clock)
SHAPES = ("previousResourceProperties", "resourceProperties")  # where a DELETE request carries the properties


@dataclass
class StackResource:
    logical_id: str
    type: str  # AWS::Personalize::DatasetGroup or AWS::Personalize::Dataset
    properties: dict[str, Any]  # as the template declares them ({"Fn::GetAtt": [id, attribute]} resolved)
    arn: str = ""  # its physical id, once created


@dataclass
class Stack:
    name: str
    resources: list[StackResource]  # in creation order
    stack_id: str = ""

    def __post_init__(self) -> None:
        self.stack_id = self.stack_id or f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{self.name}/{uuid.uuid4()}"

    def without(self, *logical_ids: str) -> Stack:
        return Stack(self.name, [r for r in self.resources if r.logical_id not in logical_ids], self.stack_id)


@dataclass
class StackDeletion:
    status: str  # DELETE_COMPLETE or DELETE_FAILED (UPDATE_COMPLETE for an update's clean-up)
    hook_answers: list[dict[str, Any]] = field(default_factory=list)  # every answer, in order
    refused: list[str] = field(default_factory=list)  # "<logical id>: <error>"
    deleted: list[str] = field(default_factory=list)  # logical ids
    requests: list[dict[str, Any]] = field(default_factory=list)  # every hook request, in order


class LocalCloudFormation:
    """Creates and deletes stacks' Personalize resources against the engine's emulator, with the engine's
    template's hooks."""

    def __init__(self, engine: LocalEngine) -> None:
        self.engine = engine
        self.personalize = engine.personalize

    def create_stack(self, name: str, resources: list[StackResource]) -> tuple[Stack, list[dict[str, Any]]]:
        """Create the resources in order, tagged as CloudFormation tags them: the stack, and the CloudTrail events
        of its calls (delivered by the caller, as EventBridge would)."""
        stack = Stack(name, resources)
        events = []
        for resource in resources:
            properties = self._resolved(stack, resource.properties)
            tags = self._system_tags(stack, resource)
            if resource.type == "AWS::Personalize::DatasetGroup":
                operation, request = "CreateDatasetGroup", {"name": properties["Name"], "tags": tags}
            else:
                operation = "CreateDataset"
                request = {
                    "name": properties["Name"],
                    "schemaArn": properties["SchemaArn"],
                    "datasetGroupArn": properties["DatasetGroupArn"],
                    "datasetType": properties["DatasetType"],
                    "tags": tags,
                }
            answer, event = call(self.personalize, operation, CLOUDFORMATION, **request)
            if isinstance(answer, ClientError):
                raise answer
            resource.arn = answer.get("datasetGroupArn") or answer["datasetArn"]
            events.append(event)
            self._stabilized(resource)  # as the resource's create handler, before what depends on it
        return stack, events

    def _stabilized(self, resource: StackResource) -> None:
        """Wait until Personalize says the resource is ACTIVE (CloudFormation's create handlers do)."""
        deadline = time.monotonic() + GONE_SECONDS * self.engine.time_scale
        while time.monotonic() < deadline:
            if resource.type == "AWS::Personalize::DatasetGroup":
                status = self.personalize.describe_dataset_group(datasetGroupArn=resource.arn)["datasetGroup"]["status"]
            else:
                status = self.personalize.describe_dataset(datasetArn=resource.arn)["dataset"]["status"]
            if status == "ACTIVE":
                return
            time.sleep(0.05)
        raise TimeoutError(f"{resource.logical_id} not ACTIVE after {GONE_SECONDS} s")

    def claim(self, stack: Stack) -> None:
        """Resources made before as if this stack had made them: its system tags on each (for a model that decides
        late which groups a stack made)."""
        for resource in stack.resources:
            request = {"resourceArn": resource.arn, "tags": self._system_tags(stack, resource)}
            self.engine.emulator.handle("TagResource", request, faults=False)  # long before: no fault of today

    @staticmethod
    def _system_tags(stack: Stack, resource: StackResource) -> list[dict[str, str]]:
        return [
            {"tagKey": "aws:cloudformation:stack-id", "tagValue": stack.stack_id},
            {"tagKey": "aws:cloudformation:stack-name", "tagValue": stack.name},
            {"tagKey": "aws:cloudformation:logical-id", "tagValue": resource.logical_id},
        ]

    @staticmethod
    def _resolved(stack: Stack, properties: dict[str, Any]) -> dict[str, Any]:
        arns = {resource.logical_id: resource.arn for resource in stack.resources}
        return {
            key: arns[value["Fn::GetAtt"][0]] if isinstance(value, dict) and "Fn::GetAtt" in value else value
            for key, value in properties.items()
        }

    def hooks(self, resource_type: str) -> list[dict[str, Any]]:
        """The enabled Lambda hooks that run before a DELETE of this type."""
        found = []
        for hook in self.engine.template.resources("AWS::CloudFormation::LambdaHook").values():
            properties = self.engine.template.resolve(hook["Properties"])
            filters = properties.get("TargetFilters", {})
            if (
                properties.get("HookStatus") == "ENABLED"
                and "RESOURCE" in properties["TargetOperations"]
                and "DELETE" in filters.get("Actions", ["DELETE"])
                and "PRE_PROVISION" in filters.get("InvocationPoints", ["PRE_PROVISION"])
                and resource_type in filters.get("TargetNames", [resource_type])
            ):
                found.append(properties)
        return found

    def request(
        self, hook: dict[str, Any], stack: Stack | None, resource: StackResource, shape: str = SHAPES[0]
    ) -> dict[str, Any]:
        """The hook's request for a DELETE of the resource, by a stack, or by Cloud Control (stack None)."""
        properties = self._resolved(stack, resource.properties) if stack else resource.properties
        return {
            "clientRequestToken": str(uuid.uuid4()),
            "awsAccountId": ACCOUNT,
            "stackId": stack.stack_id if stack else "",
            "changeSetId": None,
            "hookTypeName": hook["Alias"],
            "hookModel": {"LambdaFunction": hook["LambdaFunction"]},
            "actionInvocationPoint": "DELETE_PRE_PROVISION",
            "requestData": {
                "targetName": resource.type,
                "targetType": resource.type if stack else "RESOURCE",
                "targetLogicalId": resource.logical_id,
                "targetModel": {
                    "resourceProperties": properties if shape == "resourceProperties" else {},
                    "previousResourceProperties": properties if shape == SHAPES[0] else None,
                },
            },
            "requestContext": {"invocation": 1, "callbackContext": None},
        }

    def run_hook(
        self, hook: dict[str, Any], stack: Stack | None, resource: StackResource, shape: str = SHAPES[0]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The hook's invocations for one resource: (its requests, its answers). A function that fails, or answers
        after HOOK_WAIT_SECONDS, answers FAILED."""
        function = hook["LambdaFunction"].rsplit(":", 1)[-1]
        request = self.request(hook, stack, resource, shape)
        requests: list[dict[str, Any]] = []
        answers: list[dict[str, Any]] = []
        for invocation in range(1, HOOK_INVOCATIONS + 1):
            request = json.loads(json.dumps(request))
            request["requestContext"]["invocation"] = invocation
            requests.append(request)
            started = time.monotonic()
            try:
                answer = self.engine.call(function, request)
            except Exception as error:  # the hook failed: FailureMode decides
                answer = {"hookStatus": "FAILED", "errorCode": "InternalFailure", "message": str(error)}
            if time.monotonic() - started > HOOK_WAIT_SECONDS:
                answer = {"hookStatus": "FAILED", "errorCode": "InternalFailure", "message": "no answer in 30 s"}
            answers.append(answer)
            if answer.get("hookStatus") != "IN_PROGRESS" or invocation == HOOK_INVOCATIONS:
                return requests, answers
            callback = answer.get("callbackContext")  # typed String in the guide's request syntax
            request["requestContext"]["callbackContext"] = None if callback is None else json.dumps(callback)
            time.sleep(float(answer.get("callbackDelaySeconds", 0)) * self.engine.time_scale)
        return requests, answers

    def delete_stack(self, stack: Stack, shape: str = SHAPES[0]) -> StackDeletion:
        """delete-stack: the resources in reverse creation order, each after the hooks for its type."""
        outcome = StackDeletion("DELETE_COMPLETE")
        for resource in reversed(stack.resources):
            for hook in self.hooks(resource.type):
                requests, answers = self.run_hook(hook, stack, resource, shape)
                outcome.requests.extend(requests)
                outcome.hook_answers.extend(answers)
                if answers[-1].get("hookStatus") != "SUCCESS" and hook["FailureMode"] == "FAIL":
                    outcome.status = "DELETE_FAILED"
                    return outcome
            if not self.delete(resource, outcome):
                outcome.status = "DELETE_FAILED"
                return outcome
        return outcome

    def update_removing(self, stack: Stack, *logical_ids: str) -> tuple[Stack, StackDeletion]:
        """An update whose template no longer declares these resources: its clean-up deletes them with no hook; a
        refused deletion leaves the resource in the account, outside the stack, and the update completes."""
        outcome = StackDeletion("UPDATE_COMPLETE")
        for resource in reversed(stack.resources):
            if resource.logical_id in logical_ids:
                self.delete(resource, outcome)
        return stack.without(*logical_ids), outcome

    def delete(self, resource: StackResource, outcome: StackDeletion) -> bool:
        """The resource handler: the Delete call (its CloudTrail event delivered), then wait until it is gone."""
        if resource.type == "AWS::Personalize::Dataset":
            name, request = "DeleteDataset", {"datasetArn": resource.arn}
            describe = lambda: self.personalize.describe_dataset(datasetArn=resource.arn)  # noqa: E731
        else:
            name, request = "DeleteDatasetGroup", {"datasetGroupArn": resource.arn}
            describe = lambda: self.personalize.describe_dataset_group(datasetGroupArn=resource.arn)  # noqa: E731
        try:
            getattr(self.personalize, "delete_dataset" if name == "DeleteDataset" else "delete_dataset_group")(
                **request
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                outcome.deleted.append(resource.logical_id)
                return True
            self.engine.deliver(record(name, request, error=error, identity=CLOUDFORMATION))
            outcome.refused.append(f"{resource.logical_id}: {error.response['Error']['Code']}")
            return False
        self.engine.deliver(record(name, request, identity=CLOUDFORMATION))
        deadline = time.monotonic() + GONE_SECONDS * self.engine.time_scale
        while time.monotonic() < deadline:
            try:
                describe()
            except ClientError:
                outcome.deleted.append(resource.logical_id)
                return True
            time.sleep(0.05)
        outcome.refused.append(f"{resource.logical_id}: still there after {GONE_SECONDS} s")
        return False
