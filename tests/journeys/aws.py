"""The journeys' world in an AWS account: the deployed stack (its outputs and parameters), the usual credentials
and region, and real CloudFormation stacks for the stack journey. It makes only what it names with the run's
prefix (world.SUITE), and deletes it all."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from tests.journeys.world import SUITE, StackResource, Timeouts, World

# Personalize takes a minute or so for a group and for a tracker; CloudTrail's events usually arrive within
# minutes (best effort); a stack waits CloudFormationGraceSeconds (120 s) for its own tracker before one is made.
TIMEOUTS = Timeouts(provision=1200, event=900, release=900, stack=1800, poll=10)


class AwsWorld(World):
    session: Any
    stack_name: str
    facts: dict[str, str]  # the stack's outputs, and the logical IDs the suite reads

    def person(self) -> str:
        return str(self.session.client("sts").get_caller_identity()["Arn"])

    def create_stack(self, name: str, resources: list[StackResource]) -> str:
        template = {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Resources": {r.logical_id: {"Type": r.type, "Properties": r.properties} for r in resources},
        }
        cloudformation = self.session.client("cloudformation")
        cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))
        self.made["stacks"].append(name)
        waiter = cloudformation.get_waiter("stack_create_complete")
        waiter.wait(StackName=name, WaiterConfig={"Delay": 15, "MaxAttempts": int(self.timeouts.stack / 15)})
        return name

    def delete_stack(self, stack: str) -> str:
        cloudformation = self.session.client("cloudformation")
        [described] = cloudformation.describe_stacks(StackName=stack)["Stacks"]
        cloudformation.delete_stack(StackName=stack)

        def ended() -> str | None:
            status = cloudformation.describe_stacks(StackName=described["StackId"])["Stacks"][0]["StackStatus"]
            return status if status in ("DELETE_COMPLETE", "DELETE_FAILED") else None

        return self.wait(ended, f"stack {stack} deleted", self.timeouts.stack)

    def run_reconciler(self) -> dict[str, Any]:
        arn = self.state_machine_arn.split(":")
        scheduled = {"version": "0", "id": self.run, "detail-type": "Scheduled Event", "source": "aws.events",
                     "account": arn[4], "time": f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}", "region": arn[3],
                     "resources": [], "detail": {}}  # fmt: skip
        answer = self.session.client("lambda").invoke(
            FunctionName=self.facts["ReconcilerFunctionName"], Payload=json.dumps(scheduled).encode()
        )
        return dict(json.loads(answer["Payload"].read()))

    def log_records(self, message: str) -> list[dict[str, Any]]:
        logs = self.session.client("logs")
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=self.facts["FunctionsLogGroup"],
            startTime=int(self.started * 1000),
            filterPattern=f'{{ $.message = "{message}" }}',
        )
        return [json.loads(e["message"]) for page in pages for e in page.get("events", [])]

    def status(self) -> Any:
        from tools.status import status

        return status(
            self.personalize,
            self.ssm,
            self.stepfunctions,
            self.session.client("cloudtrail"),
            self.state_machine_arn,
            self.prefix,
            self.facts.get("ExcludeNamePattern", ""),
        )

    def clean_stacks(self, mine: Any) -> list[str]:
        cloudformation = self.session.client("cloudformation")
        names = [
            s["StackName"]
            for page in cloudformation.get_paginator("list_stacks").paginate(
                StackStatusFilter=["CREATE_COMPLETE", "CREATE_FAILED", "ROLLBACK_COMPLETE", "DELETE_FAILED"]
            )
            for s in page["StackSummaries"]
            if (mine(s["StackName"]) if mine else s["StackName"] in self.made["stacks"])
        ]
        for name in names:
            if self.delete_stack(name) == "DELETE_FAILED":  # the hook off, say: its tracker first, then again
                arn = cloudformation.describe_stack_resource(StackName=name, LogicalResourceId="Group")
                self._delete_group(arn["StackResourceDetail"]["PhysicalResourceId"], name)
                self.delete_stack(name)
        return names


def aws_world(stack_name: str, region: str | None = None) -> AwsWorld:
    import boto3

    session = boto3.session.Session(region_name=region)
    cloudformation = session.client("cloudformation")
    [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    log_group = cloudformation.describe_stack_resource(StackName=stack_name, LogicalResourceId="FunctionsLogGroup")
    world = AwsWorld(
        personalize=session.client("personalize"),
        events=session.client("personalize-events"),
        ssm=session.client("ssm"),
        stepfunctions=session.client("stepfunctions"),
        state_machine_arn=outputs["StateMachineArn"],
        prefix=parameters.get("ParameterPrefix", "/personalize"),
        timeouts=TIMEOUTS,
        started=time.time(),
    )
    world.session, world.stack_name = session, stack_name
    world.facts = {
        **outputs,
        "ExcludeNamePattern": parameters.get("ExcludeNamePattern", ""),
        "FunctionsLogGroup": log_group["StackResourceDetail"]["PhysicalResourceId"],
    }
    assert world.run.startswith(SUITE)
    return world
