"""The account at a glance: every dataset group, what the application knows of it, and what it will do.

    python -m tools.status --stack-name event-tracker-provisioner [--region us-east-1]
    python -m tools.status --state-machine-arn <ARN> [--prefix /personalize] [--exclude REGEX]

Read only (ListDatasetGroups, ListEventTrackers, DescribeEventTracker, ListDatasets, DescribeDataset,
ListTagsForResource; SSM GetParameter and ListTagsForResource; ListExecutions and DescribeExecution; CloudTrail
DescribeTrails, GetTrailStatus and GetEventSelectors; CloudFormation DescribeStacks): read-only credentials do.
The verdicts are the reconciler's own (functions/reconciler/app.py, in a dry run): what it shows is what the next
scheduled run does. It also says whether CloudTrail sends this region's Personalize calls at all.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

ROOT = Path(__file__).resolve().parent.parent
# What it needs, and all it needs: a role or user with this policy can run it (tests/integration/test_status.py runs
# it under the local IAM check with exactly this policy).
READ_ONLY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "personalize:ListDatasetGroups",
                "personalize:ListEventTrackers",
                "personalize:DescribeEventTracker",
                "personalize:ListDatasets",
                "personalize:DescribeDataset",
                "personalize:ListTagsForResource",
                "ssm:GetParameter",
                "ssm:ListTagsForResource",
                "states:ListExecutions",
                "states:DescribeExecution",
                "cloudtrail:DescribeTrails",
                "cloudtrail:GetTrailStatus",
                "cloudtrail:GetEventSelectors",
                "cloudformation:DescribeStacks",
            ],
            "Resource": "*",
        }
    ],
}


@dataclass
class Status:
    groups: dict[str, dict[str, str]]  # name -> state, detail, action
    cloudtrail: tuple[bool, str]  # whether a trail sends this region's Personalize write calls, and which
    unchecked: dict[str, str]


def reconciler() -> ModuleType:
    """The reconciler's module, as the function runs it (the shared layer on the path)."""
    loaded = sys.modules.get("reconciler_app")
    if loaded is not None:
        return loaded
    shared = str(ROOT / "layers" / "shared")
    if shared not in sys.path:
        sys.path.insert(0, shared)
    spec = importlib.util.spec_from_file_location("reconciler_app", ROOT / "functions" / "reconciler" / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _logs_management_writes(selectors: dict[str, Any]) -> bool:
    if not selectors.get("EventSelectors") and not selectors.get("AdvancedEventSelectors"):
        return True  # a trail made without selectors logs all management events (CloudTrail's default)
    for selector in selectors.get("EventSelectors") or []:
        if selector.get("IncludeManagementEvents", True) and selector.get("ReadWriteType", "All") in (
            "All",
            "WriteOnly",
        ):
            return True
    for advanced in selectors.get("AdvancedEventSelectors") or []:
        fields = {field["Field"]: field for field in advanced.get("FieldSelectors", [])}
        category = fields.get("eventCategory", {})
        read_only = fields.get("readOnly")
        if "Management" in category.get("Equals", []) and (read_only is None or "false" in read_only.get("Equals", [])):
            return True
    return False


def cloudtrail_sends(cloudtrail: Any, region: str) -> tuple[bool, str]:
    """Whether a trail with logging on records this region's management write events: without one, EventBridge
    never sees CreateDatasetGroup, and new groups wait for the next scheduled run. A trail that cannot be read (an
    organization trail seen from a member account, another region's trail) is said, and the others are read."""
    unreadable = []
    for trail in cloudtrail.describe_trails(includeShadowTrails=True).get("trailList", []):
        if not (trail.get("IsMultiRegionTrail") or trail.get("HomeRegion") == region):
            continue
        try:
            if not cloudtrail.get_trail_status(Name=trail["TrailARN"]).get("IsLogging"):
                continue
            selectors = cloudtrail.get_event_selectors(TrailName=trail["TrailARN"])
        except (ClientError, BotoCoreError) as error:
            unreadable.append(f"could not read trail {trail.get('Name', trail['TrailARN'])}: {error}")
            continue
        if _logs_management_writes(selectors):
            also = f" ({'; '.join(unreadable)})" if unreadable else ""
            return True, f"trail {trail['Name']} logs management write events here{also}"
    why = (
        f"no trail with logging on records {region}'s management write events: EventBridge never sees Personalize "
        "calls, so new groups wait for the next scheduled run, and deletions refused because of the application's "
        "tracker are not released (the deletion hook still works for stacks)"
    )
    if unreadable:
        why = f"{why}; unless a trail this account cannot read does: {'; '.join(unreadable)}"
    return False, why


def status(
    personalize: Any,
    ssm: Any,
    stepfunctions: Any,
    cloudtrail: Any,
    state_machine_arn: str,
    prefix: str,
    exclude: str = "",
) -> Status:
    module = reconciler()
    run = module.Reconciliation(
        personalize,
        ssm,
        stepfunctions,
        state_machine_arn,
        prefix,
        module.compile_exclude_pattern(exclude),
        time.time(),
        module.Pace(1000),
        dry_run=True,
    )
    report = run.run()
    region = state_machine_arn.split(":")[3]
    return Status(report.groups, cloudtrail_sends(cloudtrail, region), report.unchecked)


def render(result: Status, console: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title="Dataset groups", show_lines=False)
    for column in ("dataset group", "state", "what the application knows", "what it will do"):
        table.add_column(column, overflow="fold")
    colours = {"provisioned": "green", "failed": "red", "tracker deleted": "yellow", "tracker released": "yellow"}
    for name in sorted(result.groups):
        line = result.groups[name]
        colour = colours.get(line["state"], "cyan")
        table.add_row(name, f"[{colour}]{line['state']}[/{colour}]", line["detail"], line["action"])
    console.print(table)
    sends, why = result.cloudtrail
    console.print(f"CloudTrail: {'[green]yes[/green]' if sends else '[red]no[/red]'}, {why}")


def from_stack(cloudformation: Any, stack_name: str) -> tuple[str, str, str]:
    """(state machine ARN, parameter prefix, exclude pattern) of a deployed stack."""
    [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    return (
        outputs["StateMachineArn"],
        parameters.get("ParameterPrefix", "/personalize"),
        parameters.get("ExcludeNamePattern", ""),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.status", description=__doc__.splitlines()[0])
    parser.add_argument("--stack-name", help="the deployed stack: its state machine, prefix and exclusions")
    parser.add_argument("--state-machine-arn", help="instead of --stack-name")
    parser.add_argument("--prefix", default="/personalize", help="with --state-machine-arn: ParameterPrefix")
    parser.add_argument("--exclude", default="", help="with --state-machine-arn: ExcludeNamePattern")
    parser.add_argument("--region", help="default: the AWS CLI's")
    args = parser.parse_args(argv)
    if args.region:
        os.environ["AWS_DEFAULT_REGION"] = args.region
    import boto3

    session = boto3.session.Session()
    if args.stack_name:
        machine, prefix, exclude = from_stack(session.client("cloudformation"), args.stack_name)
    elif args.state_machine_arn and re.fullmatch(
        r"arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:.+", args.state_machine_arn
    ):
        machine, prefix, exclude = args.state_machine_arn, args.prefix, args.exclude
    else:
        parser.error("--stack-name, or --state-machine-arn with a state machine's ARN")
    os.environ.setdefault("AWS_DEFAULT_REGION", machine.split(":")[3])
    result = status(
        session.client("personalize", region_name=machine.split(":")[3]),
        session.client("ssm", region_name=machine.split(":")[3]),
        session.client("stepfunctions", region_name=machine.split(":")[3]),
        session.client("cloudtrail", region_name=machine.split(":")[3]),
        machine,
        prefix,
        exclude,
    )
    render(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
