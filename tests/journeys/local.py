"""The journeys' world on the local engine: the application from template.yaml on moto's Step Functions engine,
Personalize as the emulator (on its own clock, a fifth of AWS's seconds), and the suite's Personalize calls made
as a person's: each write call's CloudTrail record reaches the stack's rules, as EventBridge delivers it in an
account. Stacks are the CloudFormation fake of tests/fakes, which runs the template's deletion hook.

`trace`: every AWS call the suite makes is printed as it goes (the dry run of `make verify`)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from local.engine import LocalEngine
from local.personalize_emulator import PersonalizeEmulator, Timing
from tests.fakes import cloudtrail
from tests.fakes.cloudformation import LocalCloudFormation
from tests.fakes.cloudformation import Stack as LocalStack
from tests.fakes.cloudformation import StackResource as LocalResource
from tests.helpers import ACCOUNT, FAST, REGION, event
from tests.journeys.world import StackResource, Timeouts, World

# On the engine's clock (a fifth of these seconds): Personalize's usual times, shortened.
TIMING = Timing(pending=5, in_progress=5, deleting=10)
OVERRIDES = {**FAST, "CloudFormationGraceSeconds": 5}
TIMEOUTS = Timeouts(provision=60, event=30, release=60, stack=60, poll=0.05)
POLICY = Path(__file__).with_name("verify-policy.json")
WRITES = ("Create", "Delete", "Tag", "Untag", "Update")  # CloudTrail sends management write events to EventBridge


class LogRecords(logging.Handler):
    """The application's log lines, as the functions' Powertools loggers write them."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append({**vars(record), "message": record.getMessage()})


class LocalWorld(World):
    engine: LocalEngine
    cloudformation: LocalCloudFormation
    logs: LogRecords
    trace: Callable[[str], None] | None = None

    def person(self) -> str:
        return str(cloudtrail.PERSON["arn"])

    def create_stack(self, name: str, resources: list[StackResource]) -> LocalStack:
        self._plan(f"cloudformation:CreateStack StackName={name} TemplateBody=<{', '.join(r.type for r in resources)}>")
        self._plan(f"cloudformation:DescribeStacks StackName={name} (until CREATE_COMPLETE)")
        stack, events = self.cloudformation.create_stack(
            name, [LocalResource(r.logical_id, r.type, dict(r.properties)) for r in resources]
        )
        for record in events:
            self.engine.deliver(record)
        return stack

    def delete_stack(self, stack: LocalStack) -> str:
        self._plan(f"cloudformation:DeleteStack StackName={stack.name}")
        self._plan(f"cloudformation:DescribeStacks StackName={stack.name} (until DELETE_COMPLETE or DELETE_FAILED)")
        return self.cloudformation.delete_stack(stack).status

    def run_reconciler(self) -> dict[str, Any]:
        self._plan("lambda:Invoke FunctionName=<the stack's ReconcilerFunctionName> (a scheduled event)")
        scheduled = {**event("scheduled-event.json"), "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        return dict(self.engine.call("ReconcilerFunction", scheduled))

    def log_records(self, message: str) -> list[dict[str, Any]]:
        self._plan(f'logs:FilterLogEvents (the stack\'s FunctionsLogGroup, {{ $.message = "{message}" }})')
        return [r for r in self.logs.records if r["message"] == message]

    def status(self) -> Any:
        from tools.status import status

        self._plan("tools.status: personalize:ListDatasetGroups ... cloudtrail:DescribeTrails (read only)")
        trail = boto3.client("cloudtrail", region_name=REGION)
        return status(self.personalize, self.ssm, self.stepfunctions, trail, self.state_machine_arn, self.prefix)

    def _plan(self, line: str) -> None:
        if self.trace is not None:
            self.trace(line)


def _forward_to_cloudtrail(engine: LocalEngine) -> Callable[..., None]:
    """A write call of the suite's, answered or refused, becomes its CloudTrail record on the default bus."""

    def after_call(http_response: Any, parsed: dict[str, Any], model: Any, context: Any, **_: Any) -> None:
        if not model.name.startswith(WRITES):
            return
        params = context.get("journey_params", {})
        if http_response.status_code >= 300:  # refused: the record carries errorCode and errorMessage
            record = cloudtrail.record(model.name, params, error=ClientError(parsed, model.name))
        else:
            answer = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
            record = cloudtrail.record(model.name, params, response=answer or None)
        engine.deliver(record)

    return after_call


def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context["journey_params"] = json.loads(json.dumps(params, default=str))


def _authorized(engine: LocalEngine, client: Any) -> Callable[..., None]:
    """Each call of the suite's, under the policy a person gives the suite in an account (the local IAM check)."""

    def before(params: dict[str, Any], model: Any, **_: Any) -> None:
        engine.authorize("Journeys", client, model.name, params)

    return before


def _traced(trace: Callable[[str], None]) -> Callable[..., None]:
    def before(params: dict[str, Any], model: Any, **_: Any) -> None:
        shown = " ".join(f"{k}={str(v)[:110]}" for k, v in params.items() if k not in ("schema", "eventList"))
        trace(f"{model.service_model.endpoint_prefix}:{model.name} {shown}".rstrip())

    return before


@contextlib.contextmanager
def local_world(trace: Callable[[str], None] | None = None) -> Iterator[LocalWorld]:
    """The application on the local engine, and the world the journeys see."""
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "event-tracker-provisioner")
    with PersonalizeEmulator(ACCOUNT, REGION) as emulator:
        emulator.dataset_group_timing = emulator.tracker_timing = emulator.dataset_timing = TIMING
        engine = LocalEngine(emulator, OVERRIDES)
        with engine:
            # Beside the Powertools handler, once it is there (a function imported first): Powertools takes a
            # handler it finds on a new logger for its own.
            engine.handler("ReleaseTrackerFunction")
            logs = LogRecords()
            logger = logging.getLogger("event-tracker-provisioner")
            if trace is not None:  # the calls only: the application's own lines are still collected
                for handler in logger.handlers:
                    handler.setLevel(logging.WARNING)
            logger.addHandler(logs)
            region = {"region_name": REGION}
            personalize = boto3.client("personalize", endpoint_url=emulator.url, **region)
            events = boto3.client("personalize-events", endpoint_url=emulator.url, **region)
            personalize.meta.events.register("before-parameter-build.personalize", _keep_params)
            personalize.meta.events.register("after-call.personalize", _forward_to_cloudtrail(engine))
            clients = {
                "personalize": personalize,
                "events": events,
                "ssm": boto3.client("ssm", **region),
                "stepfunctions": boto3.client("stepfunctions", **region),
            }
            engine.policies["Journeys"] = [json.loads(POLICY.read_text())]  # the policy docs/verify.md gives
            for client in clients.values():
                client.meta.events.register("before-parameter-build", _authorized(engine, client))
                if trace is not None:
                    client.meta.events.register("before-parameter-build", _traced(trace))
            prefix = engine.template.parameters["ParameterPrefix"]
            world = LocalWorld(**clients, state_machine_arn=engine.state_machine_arn, prefix=prefix, timeouts=TIMEOUTS)
            world.engine, world.cloudformation, world.logs, world.trace = (
                engine,
                LocalCloudFormation(engine),
                logs,
                trace,
            )
            try:
                yield world
            finally:
                logger.removeHandler(logs)
