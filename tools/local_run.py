"""Run the application locally on one event: `python -m tools.local_run [EVENT_FILE] [options]`.

The real template.yaml, definition and handlers run on moto's Step Functions engine, with moto's SSM and
EventBridge and the Personalize emulator; the dataset group (and dataset) the event names is created first. With
--containers, every Lambda task runs in its container instead: `sam build`, then `sam local start-lambda`, called by
the engine through the Lambda Invoke API. Exit code: 0 when the execution succeeds, 1 when it fails, 2 when the
template's rule would not start the workflow for the event, or when the containers cannot run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from rich.console import Console
from rich.table import Table

from local.engine import ACCOUNT, REGION, Execution, LocalEngine
from local.faults import Fault, inject
from local.personalize_emulator import PersonalizeEmulator, Timing
from local.template import ROOT, Template, TemplateError

DEFAULT_EVENT = ROOT / "events" / "create-dataset-group.json"
SCHEMA = f"arn:aws:personalize:{REGION}:{ACCOUNT}:schema/local-action-interactions"
# Short waits so a local run takes seconds; every one can be overridden with --param.
LOCAL_PARAMETERS = {"PollIntervalSeconds": "1", "MaxPollIntervalSeconds": "4", "ProvisioningTimeoutSeconds": "120"}
# In containers each function's first invocation is a cold start (tens of seconds for arm64 under qemu), which
# counts against the deadline as on Lambda: a longer one, so that start-up alone never times a run out.
CONTAINER_PARAMETERS = {**LOCAL_PARAMETERS, "ProvisioningTimeoutSeconds": "900"}
CREATING = Timing(pending=1.5, in_progress=1.5)  # what the emulator's resources take to become ACTIVE here
INVOCATION_SECONDS = 0.2  # what an in-process invocation takes at least, as a warm Lambda one does
CLOCK = 1.0  # the engine's clock (local.engine.TIME_SCALE): real time, for a person watching the run


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.local_run", description=__doc__.splitlines()[0])
    parser.add_argument("event", nargs="?", type=Path, default=DEFAULT_EVENT, help="event file (JSON)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="template parameter override")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        type=fault,
        metavar="SERVICE:OPERATION:ERROR[:TIMES]",
        help="the next TIMES (1) calls answer ERROR (local.faults), e.g. "
        "personalize:CreateEventTracker:LimitExceededException:4",
    )
    parser.add_argument(
        "--containers",
        action="store_true",
        help="run every Lambda task in its container: sam build, then sam local start-lambda (needs Docker)",
    )
    parser.add_argument("--verbose", action="store_true", help="show the handlers' logs instead of writing a file")
    return parser.parse_args(argv)


def fault(text: str) -> Fault:
    service, operation, error, *times = text.split(":")
    return Fault(service, operation, error, times=int(times[0]) if times else 1)


def as_if_just_made(event: Any) -> Any:
    """The sample's CloudTrail call happens now: its eventTime (TimeToTrackingIdSeconds counts from it) and time."""
    detail = event.get("detail") if isinstance(event, dict) else None
    if isinstance(detail, dict) and "eventTime" in detail:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {**event, "time": now, "detail": {**detail, "eventTime": now}}
    return event


def seed(console: Console, stack: LocalEngine, event: Any) -> str | None:
    """Create what the event names, by the workflow's own parser: its dataset group (as the CreateDatasetGroup call
    did), or an ACTIVE group with the Action interactions dataset being created. The group's name, or None."""
    from common.errors import InvalidEvent  # on sys.path once the stack has started
    from common.inputs import parse_input

    try:
        parsed = parse_input(event, REGION, ACCOUNT, "aws", "/")
    except InvalidEvent:
        return None
    name = parsed["datasetGroupName"] or (parsed["datasetArn"] or "").split("/")[-2]
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    request = {
        key: value for key, value in (detail.get("requestParameters") or {}).items() if key in ("domain", "tags")
    }
    stack.emulator.dataset_group_timing = stack.emulator.tracker_timing = CREATING
    actions = parsed["kind"] == "actionInteractions"
    if actions:
        stack.emulator.time_dataset_group(name, Timing())
        stack.emulator.time_dataset(name, "ACTION_INTERACTIONS", CREATING)
    group = stack.create_dataset_group(name, **request)
    console.print(f"[bold]seeded[/bold]     dataset group {name}")
    if actions:
        dataset = stack.personalize.create_dataset(
            name=f"{name}-actions", schemaArn=SCHEMA, datasetGroupArn=group, datasetType="Action_Interactions"
        )["datasetArn"]
        console.print(f"[bold]seeded[/bold]     {dataset}")
    return name


class Progress:
    """Prints the execution's history as it grows."""

    def __init__(self, console: Console, stack: LocalEngine) -> None:
        self.console, self.stack, self.seen, self.started = console, stack, 0, time.monotonic()
        self.states = json.loads(stack.machine.definition)["States"]

    def show(self, arn: str) -> None:
        history = self.stack.history(arn)
        for event in history[self.seen :]:
            self._event(event)
        self.seen = len(history)

    def _line(self, text: str) -> None:
        self.console.print(f"[dim]{time.monotonic() - self.started:6.1f}s[/dim]  {text}")

    def _event(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "WaitStateEntered":
            details = event["stateEnteredEventDetails"]
            seconds = json.loads(details.get("input") or "{}")
            for key in self.states[details["name"]]["SecondsPath"].removeprefix("$.").split("."):
                seconds = seconds[key]
            self._line(f"[yellow]⏳ {details['name']}[/yellow] {seconds} s")
        elif kind.endswith("StateEntered"):
            self._line(f"[cyan]→ {event['stateEnteredEventDetails']['name']}[/cyan]")
        elif kind.endswith("StateExited") and kind != "WaitStateExited":
            details = event["stateExitedEventDetails"]
            self._line(f"[green]✓ {details['name']}[/green]{self._summary(details['name'], details.get('output'))}")
        elif kind in ("LambdaFunctionFailed", "TaskFailed"):
            details = event.get("lambdaFunctionFailedEventDetails") or event.get("taskFailedEventDetails") or {}
            cause = details.get("cause", "")
            with contextlib.suppress(ValueError, TypeError, KeyError):
                cause = json.loads(cause)["errorMessage"]
            self._line(f"[red]✗ {details.get('error')}[/red]: {cause}")

    @staticmethod
    def _summary(state: str, output: str | None) -> str:
        """What a task answered: the resource's status and the outcome its Choice reads."""
        data = json.loads(output or "null")
        slot = {"CheckDatasetGroup": "status", "CheckDataset": "status"}.get(state, "eventTracker")
        if not isinstance(data, dict) or state not in ("CheckDatasetGroup", "CheckDataset", "CreateOrAdoptTracker",
                                                       "CheckEventTracker") or "error" in data:  # fmt: skip
            return ""
        answer = data[slot]
        return "  " + " ".join(str(answer[key]) for key in ("status", "outcome", "reason") if answer.get(key))


def report(console: Console, stack: LocalEngine, execution: Execution, parameter_name: str | None, wall: float) -> None:
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    if execution.status == "SUCCEEDED":
        table.add_row("result", f"[green]{execution.status}[/green]")
        for key, value in (execution.output or {}).items():
            table.add_row(f"output.{key}", json.dumps(value))
        lag = (execution.output or {}).get("lag")
        if isinstance(lag, dict):
            table.add_row("provisioning lag", f"{lag['provisioningLagSeconds']} s (ACTIVE to stored)")
            table.add_row(
                "time to tracking ID", f"{lag['timeToTrackingIdSeconds']} s (from {lag['timeToTrackingIdFrom']})"
            )
    else:
        table.add_row("result", f"[red]{execution.status}[/red]")
        table.add_row("error", str(execution.error))
        table.add_row("cause", str(execution.cause))
    if parameter_name:
        parameter = stack.parameter(parameter_name)
        table.add_row("parameter", parameter_name)
        table.add_row("value", parameter["Value"] if parameter else "[dim](not written)[/dim]")
    table.add_row("state transitions", str(execution.state_transitions))
    table.add_row("lambda invocations", str(execution.lambda_invocations))
    table.add_row("functions ran", stack.where)
    for function in dict.fromkeys(invocation.function for invocation in stack.ran):
        times = [invocation.seconds for invocation in stack.ran if invocation.function == function]
        errors = sorted({i.error for i in stack.ran if i.function == function and i.error})
        line = f"{len(times)} invocations, the first {times[0]:.2f} s"
        if len(times) > 1:
            line += f", then {sum(times[1:]) / (len(times) - 1):.2f} s on average"
        table.add_row(f"  {function}", line + (f"; raised {', '.join(errors)}" if errors else ""))
    table.add_row("wall time", f"{wall:.1f} s")
    console.print(table)


def show_status(console: Console, stack: LocalEngine) -> None:
    """The account view (tools/status.py), as `python -m tools.status` shows a deployed stack's, read only."""
    from tools.status import render, status

    cloudtrail = boto3.client("cloudtrail", region_name=REGION)
    # The account this run stands for has a trail, as the README's prerequisites ask.
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="local-trail")
    cloudtrail.create_trail(Name="management-events", S3BucketName="local-trail", IsMultiRegionTrail=True)
    cloudtrail.start_logging(Name="management-events")
    console.rule("status (python -m tools.status)")
    parameters = stack.template.parameters
    render(
        status(
            stack.personalize,
            stack.ssm,
            stack.sfn,
            cloudtrail,
            stack.state_machine_arn,
            parameters["ParameterPrefix"],
            parameters["ExcludeNamePattern"],
        ),
        console,
    )


def run(
    console: Console, stack: LocalEngine, event: Any, args: argparse.Namespace, overrides: dict[str, str], log_file: Any
) -> int:
    console.print(f"[bold]event[/bold]      {args.event}")
    console.print(f"[bold]parameters[/bold] {' '.join(f'{k}={v}' for k, v in overrides.items())}")
    if isinstance(event, dict) and set(event) in ({"datasetGroupArn"}, {"datasetArn"}):
        console.print("[bold]rule[/bold]       direct input: started by hand, as for a backfill (no rule involved)")
    elif stack.rule_matches(event):
        console.print("[bold]rule[/bold]       [green]the template's rule matches this event[/green]")
    else:
        console.print(
            "[bold]rule[/bold]       [red]the template's rule would NOT match this event: "
            "in AWS the workflow would not start[/red]"
        )
        return 2
    name = seed(console, stack, event)
    for each in args.fault:
        inject(each, stack)
        console.print(f"[bold]fault[/bold]      {each.service} {each.operation}: {each.error} x{each.times}")
    console.rule()

    started = time.monotonic()
    arn = stack.start(event)
    progress = Progress(console, stack)
    with console.status("running", spinner="dots"):
        while stack.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
            progress.show(arn)
            time.sleep(0.1)
    progress.show(arn)
    execution = stack.wait(arn)
    wall = time.monotonic() - started
    console.rule()
    parameter_name = (execution.output or {}).get("parameterName") if execution.status == "SUCCEEDED" else None
    if not parameter_name and name:
        parameter_name = stack.parameter_name(name)
    report(console, stack, execution, parameter_name, wall)
    show_status(console, stack)
    if log_file is not sys.stdout:
        console.print(f"[dim]handler logs: {log_file.name}[/dim]")
    return 0 if execution.status == "SUCCEEDED" else 1


@contextlib.contextmanager
def _stop_on_sigterm() -> Any:
    """SIGTERM (a `kill`, a CI timeout) unwinds like Ctrl-C, so that what the run started is stopped."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(file=sys.__stdout__, highlight=False, width=max(120, Console(file=sys.__stdout__).width))
    event = as_if_just_made(json.loads(args.event.read_text()))
    overrides = dict(CONTAINER_PARAMETERS if args.containers else LOCAL_PARAMETERS)
    overrides.update(item.partition("=")[::2] for item in args.param)
    with _stop_on_sigterm(), contextlib.ExitStack() as cleanup:
        log_file = sys.stdout
        if not args.verbose:
            log_file = cleanup.enter_context(
                tempfile.NamedTemporaryFile("w", prefix="local-run-", suffix=".log", delete=False)
            )
        try:
            template = Template(overrides=overrides, region=REGION, account=ACCOUNT)
            if args.containers:
                return _run_in_containers(console, template, event, args, overrides, log_file)
            with (
                PersonalizeEmulator() as emulator,
                contextlib.redirect_stdout(log_file),
                LocalEngine(emulator, overrides, lambda_seconds=INVOCATION_SECONDS, time_scale=CLOCK) as stack,
            ):
                return run(console, stack, event, args, overrides, log_file)
        except TemplateError as error:
            console.print(f"[red]{error}[/red]")
            return 2
        except KeyboardInterrupt:  # what the run started is stopped by now (its context managers)
            console.print("[red]interrupted[/red]")
            return 130


def _run_in_containers(
    console: Console, template: Template, event: Any, args: argparse.Namespace, overrides: dict[str, str], log_file: Any
) -> int:
    """The same run, every function in its container; the services listen where the containers reach them."""
    from tools.sam_local import (
        NO_RESPONSE,
        NO_RESPONSE_HINT,
        CannotInvoke,
        docker_gateway,
        free_port,
        start_lambda,
    )

    with contextlib.ExitStack() as cleanup:
        try:
            gateway = docker_gateway()
            emulator = PersonalizeEmulator(ACCOUNT, REGION)
            emulator.start(host=gateway)
            cleanup.callback(emulator.stop)
            moto_url = f"http://{gateway}:{(moto_port := free_port(gateway))}"
            services = {"AWS_ENDPOINT_URL": moto_url, "AWS_ENDPOINT_URL_PERSONALIZE": emulator.url}
            # Under SAM CLI, !Ref of the state machine is its logical id: the reconciler gets the ARN, as deployed.
            arn = template.resource_arn(template.state_machine().logical_id)
            console.print(f"[bold]services[/bold]   Personalize {emulator.url}, everything else (moto) {moto_url}")
            sam_log = Path(log_file.name).with_suffix(".sam.log") if log_file is not sys.stdout else None
            with console.status("sam build, sam local start-lambda", spinner="dots"):
                containers = cleanup.enter_context(
                    start_lambda(
                        services, {"ReconcilerFunction": {"STATE_MACHINE_ARN": arn}}, overrides, template, sam_log
                    )
                )
        except CannotInvoke as error:
            console.print(f"[red]make local --containers: {error}[/red]")
            return 2
        cleanup.callback(console.print, "[dim]sam local start-lambda stopped, its containers removed[/dim]")
        console.print(
            f"[bold]functions[/bold]  sam local start-lambda {containers.url}, up in {containers.started_in:.1f} s"
        )
        with contextlib.redirect_stdout(log_file):
            stack = cleanup.enter_context(
                LocalEngine(emulator, overrides, containers=containers, serve_at=(gateway, moto_port), time_scale=1.0)
            )
            code = run(console, stack, event, args, overrides, log_file)
        if NO_RESPONSE in containers.log_text():
            console.print(f"[red]{NO_RESPONSE_HINT}[/red]")
            return 2
        console.print(f"[dim]function logs (sam local start-lambda): {containers.log}[/dim]")
        return code


if __name__ == "__main__":
    sys.exit(main())
