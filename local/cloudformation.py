"""A stack deletion as CloudFormation runs it, with the template's Lambda hooks: for the local engine.

What a stack that declares a Personalize dataset group and its datasets does when it is deleted:

- resources are deleted in reverse dependency order (datasets, then the group);
- before each one, every enabled `AWS::CloudFormation::LambdaHook` whose target filters name the type, the action
  DELETE and the invocation point PRE_PROVISION is invoked with the request the CloudFormation Hooks user guide
  shows; an IN_PROGRESS answer is honoured (its callbackContext comes back after callbackDelaySeconds, on the
  engine's clock), at most three invocations in all; FailureMode WARN lets the deletion go on when the hook fails;
- the resource's own handler calls Personalize (DeleteDataset, DeleteDatasetGroup) and waits until the resource is
  gone; CloudTrail records the call, refused or not, with `invokedBy` cloudformation.amazonaws.com, and EventBridge
  delivers it to the application's rules;
- a refused call ends the resource, and the stack, in DELETE_FAILED; deleting the stack again retries.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from local.cloudtrail import CLOUDFORMATION, record
from local.engine import ACCOUNT, REGION, LocalEngine

HOOK_INVOCATIONS = 3
GONE_SECONDS = 120.0  # a resource handler's wait until Personalize no longer has the resource (engine's clock)


@dataclass
class StackResource:
    logical_id: str
    type: str  # AWS::Personalize::DatasetGroup or AWS::Personalize::Dataset
    properties: dict[str, Any]  # as the template declares them
    arn: str  # its physical id


@dataclass
class StackDeletion:
    status: str  # DELETE_COMPLETE or DELETE_FAILED
    hook_answers: list[dict[str, Any]] = field(default_factory=list)  # every answer, in order
    refused: list[str] = field(default_factory=list)  # "<logical id>: <error>"
    deleted: list[str] = field(default_factory=list)  # logical ids


class LocalCloudFormation:
    """Deletes stacks' Personalize resources against the engine's emulator, with the engine's template's hooks."""

    def __init__(self, engine: LocalEngine) -> None:
        self.engine = engine
        self.personalize = engine.personalize

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

    def run_hook(self, hook: dict[str, Any], stack_id: str, resource: StackResource) -> list[dict[str, Any]]:
        """The hook's invocations for one resource: its answers. A function that fails answers FAILED."""
        function = hook["LambdaFunction"].rsplit(":", 1)[-1]
        token = str(uuid.uuid4())
        answers: list[dict[str, Any]] = []
        callback: dict[str, Any] | None = None
        for invocation in range(1, HOOK_INVOCATIONS + 1):
            request = {
                "clientRequestToken": token,
                "awsAccountId": ACCOUNT,
                "stackId": stack_id,
                "changeSetId": None,
                "hookTypeName": hook["Alias"],
                "hookModel": {"LambdaFunction": hook["LambdaFunction"]},
                "actionInvocationPoint": "DELETE_PRE_PROVISION",
                "requestData": {
                    "targetName": resource.type,
                    "targetType": resource.type,
                    "targetLogicalId": resource.logical_id,
                    "targetModel": {"resourceProperties": resource.properties, "previousResourceProperties": None},
                },
                "requestContext": {"invocation": invocation, "callbackContext": callback},
            }
            try:
                answer = self.engine.call(function, request)
            except Exception as error:  # the hook failed: FailureMode decides
                answer = {"hookStatus": "FAILED", "errorCode": "InternalFailure", "message": str(error)}
            answers.append(answer)
            if answer.get("hookStatus") != "IN_PROGRESS" or invocation == HOOK_INVOCATIONS:
                return answers
            callback = answer.get("callbackContext")
            time.sleep(float(answer.get("callbackDelaySeconds", 0)) * self.engine.time_scale)
        return answers

    def delete_stack(self, stack_name: str, resources: list[StackResource]) -> StackDeletion:
        """Delete the resources in this order (reverse dependency order): the stack's outcome."""
        stack_id = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{stack_name}/{uuid.uuid4()}"
        outcome = StackDeletion("DELETE_COMPLETE")
        for resource in resources:
            for hook in self.hooks(resource.type):
                answers = self.run_hook(hook, stack_id, resource)
                outcome.hook_answers.extend(answers)
                if answers[-1].get("hookStatus") != "SUCCESS" and hook["FailureMode"] == "FAIL":
                    outcome.status = "DELETE_FAILED"
                    return outcome
            if not self.delete(resource, outcome):
                outcome.status = "DELETE_FAILED"
                return outcome
        return outcome

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
