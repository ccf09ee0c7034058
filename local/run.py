"""Run the application locally on one event: `python -m local.run [EVENT_FILE] [options]`.

The real template.yaml, definition and handlers run on moto's Step Functions
engine, with moto's SSM and EventBridge and the Personalize emulator. With
--containers, every Lambda task runs in its container instead: `sam build`, then
`sam local start-lambda`, called by the engine through the Lambda Invoke API.
Exit code: 0 when the execution succeeds, 1 when it fails, 2 when the
template's rule would not start the workflow for the event, or when the
containers cannot run (no Docker engine, SAM CLI gave up).
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
ACTION_EVENT = ROOT / "events" / "create-action-interactions-dataset.json"
SCHEMA = "arn:aws:personalize:us-east-1:123456789012:schema/local-action-interactions"
# Short waits so a local run takes seconds; every one can be overridden with --param.
LOCAL_PARAMETERS = {"PollIntervalSeconds": "1", "MaxPollIntervalSeconds": "4", "ProvisioningTimeoutSeconds": "120"}
# In containers each function's first invocation is a cold start (tens of seconds for arm64 under qemu), which
# counts against the deadline as on Lambda: a longer one, so that start-up alone never times a run out.
CONTAINER_PARAMETERS = {**LOCAL_PARAMETERS, "ProvisioningTimeoutSeconds": "900"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.run", description=__doc__.splitlines()[0])
    parser.add_argument("event", nargs="?", type=Path, default=DEFAULT_EVENT, help="event file (JSON)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="template parameter override")
    parser.add_argument(
        "--dataset-group-seconds", type=float, default=3.0, help="time until the dataset group is ACTIVE"
    )
    parser.add_argument("--tracker-seconds", type=float, default=4.0, help="time until the tracker is ACTIVE")
    parser.add_argument("--dataset-group-fails", metavar="REASON", help="the dataset group ends in CREATE FAILED")
    parser.add_argument("--tracker-fails", action="store_true", help="the tracker ends in CREATE FAILED")
    parser.add_argument(
        "--delete-tracker-after", type=float, metavar="SECONDS", help="delete the tracker while it is polled"
    )
    parser.add_argument(
        "--throttle",
        type=int,
        default=0,
        metavar="N",
        help="the next N CreateEventTracker and DescribeEventTracker calls answer LimitExceeded",
    )
    parser.add_argument(
        "--existing-tracker", action="store_true", help="the dataset group already has an ACTIVE tracker"
    )
    parser.add_argument(
        "--lambda-concurrency",
        type=int,
        metavar="N",
        help="the account's Lambda concurrency: invocations beyond N are refused (TooManyRequestsException)",
    )
    parser.add_argument("--no-seed", action="store_true", help="do not create the dataset group in the emulator")
    parser.add_argument(
        "--action-interactions",
        action="store_true",
        help="the Action interactions flow: seed the dataset group (ACTIVE) and its Action interactions dataset "
        "(ACTIVE after --tracker-seconds); default event events/create-action-interactions-dataset.json",
    )
    parser.add_argument("--run-anyway", action="store_true", help="start the workflow even if the rule would not match")
    parser.add_argument(
        "--reconcile",
        action="store_true",
        help="do not start from the event: run the reconciler, as its schedule would, and follow what it starts",
    )
    parser.add_argument(
        "--then-delete",
        action="store_true",
        help="after provisioning, deliver a DeleteEventTracker event and show the teardown",
    )
    parser.add_argument(
        "--no-trail",
        action="store_true",
        help="the account has no CloudTrail trail: the status view at the end says what that costs",
    )
    parser.add_argument(
        "--containers",
        action="store_true",
        help="run every Lambda task in its container: sam build, then sam local start-lambda (needs Docker)",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="show the handlers' logs instead of writing them to a file"
    )
    return parser.parse_args(argv)


def as_if_just_made(event: Any) -> Any:
    """The sample's CloudTrail call happens now: its eventTime (TimeToTrackingIdSeconds counts from it) and time."""
    detail = event.get("detail") if isinstance(event, dict) else None
    if isinstance(detail, dict) and "eventTime" in detail:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {**event, "time": now, "detail": {**detail, "eventTime": now}}
    return event


def dataset_group_of(event: Any) -> tuple[str | None, dict[str, Any]]:
    """The dataset group the event names (by the workflow's own parser), and its CreateDatasetGroup arguments."""
    from common.errors import InvalidEvent  # on sys.path once the stack has started
    from common.inputs import parse_input

    try:
        name = parse_input(event, REGION, ACCOUNT, "aws", "/")["datasetGroupName"]
    except InvalidEvent:
        return None, {}
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    request = detail.get("requestParameters") or {}
    return name, {key: request[key] for key in ("domain", "tags") if request.get(key)}


class Progress:
    """Prints the execution's history as it grows."""

    def __init__(self, console: Console, stack: LocalEngine) -> None:
        self.console = console
        self.stack = stack
        self.seen = 0
        self.started = time.monotonic()
        self.states = json.loads(stack.machine.definition)["States"]

    def _line(self, text: str) -> None:
        self.console.print(f"[dim]{time.monotonic() - self.started:6.1f}s[/dim]  {text}")

    def show(self, arn: str) -> None:
        history = self.stack.history(arn)
        for event in history[self.seen :]:
            self._event(event)
        self.seen = len(history)

    def _event(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            details = event["stateEnteredEventDetails"]
            if kind == "WaitStateEntered":
                seconds = self._wait_seconds(details["name"], json.loads(details.get("input") or "{}"))
                self._line(f"[yellow]⏳ {details['name']}[/yellow] {seconds} s")
            else:
                self._line(f"[cyan]→ {details['name']}[/cyan]")
        elif kind.endswith("StateExited") and kind != "WaitStateExited":
            details = event["stateExitedEventDetails"]
            if self._caught(details["name"], details.get("output")):
                self._line(f"[red]↪ {details['name']}[/red] caught: to the failure path")
                return
            self._line(f"[green]✓ {details['name']}[/green]{self._summary(details['name'], details.get('output'))}")
        elif kind in ("LambdaFunctionFailed", "TaskFailed"):
            details = event.get("lambdaFunctionFailedEventDetails") or event.get("taskFailedEventDetails") or {}
            cause = details.get("cause", "")
            with contextlib.suppress(ValueError, TypeError):
                cause = json.loads(cause)["errorMessage"]
            self._line(f"[red]✗ {details.get('error')}[/red]: {cause}")

    def _caught(self, state: str, output: str | None) -> bool:
        """Whether the task failed and its Catch put the error in `$.error`."""
        catchers = self.states[state].get("Catch", [])
        data = json.loads(output or "null")
        caught_into_error = any(catcher.get("ResultPath") == "$.error" for catcher in catchers)
        return caught_into_error and isinstance(data, dict) and isinstance(data.get("error"), dict)

    def _wait_seconds(self, state: str, data: dict[str, Any]) -> Any:
        path = self.states[state].get("SecondsPath", "$")
        value: Any = data
        for part in path.removeprefix("$.").split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    @staticmethod
    def _summary(state: str, output: str | None) -> str:
        data = json.loads(output or "null")
        if not isinstance(data, dict):
            return ""
        if state == "CheckDatasetGroup":
            return f"  dataset group {data['status'].get('status')}"
        if state == "CheckEventTracker":
            stored = " (its trackingId stored)" if data["eventTracker"].get("outcome") == "ready" else ""
            return f"  tracker {data['eventTracker'].get('status')}{stored}"
        if state == "CheckDataset":
            return f"  Action interactions dataset {data['status'].get('status')}"
        if state == "CreateOrAdoptTracker":
            tracker = data["eventTracker"]
            outcome = tracker.get("outcome")
            if outcome == "skipped":
                return f"  skipped: {tracker.get('reason')}"
            if outcome == "waiting":
                return "  waiting (throttled, or for the stack's own tracker)"
            return f"  {outcome} {tracker.get('eventTrackerName')}"
        return ""


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
    for function, line in invocation_summary(stack).items():
        table.add_row(f"  {function}", line)
    if stack.lambda_concurrency:
        table.add_row("lambda throttled", f"{stack.lambda_throttled} (concurrency {stack.lambda_concurrency})")
    table.add_row("wall time", f"{wall:.1f} s")
    console.print(table)


def invocation_summary(stack: LocalEngine) -> dict[str, str]:
    """Per function: its invocations, the first one's time (a cold start in a container) and the later ones'."""
    summary: dict[str, str] = {}
    for function in dict.fromkeys(invocation.function for invocation in stack.ran):
        times = [invocation.seconds for invocation in stack.ran if invocation.function == function]
        errors = sorted({i.error for i in stack.ran if i.function == function and i.error})
        line = f"{len(times)} invocations, the first {times[0]:.2f} s"
        if len(times) > 1:
            line += f", then {sum(times[1:]) / (len(times) - 1):.2f} s on average"
        if errors:
            line += f"; raised {', '.join(errors)}"
        summary[function] = line
    return summary


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
    with _stop_on_sigterm():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    args = parse_args(argv)
    console = Console(file=sys.__stdout__, highlight=False, width=max(120, Console(file=sys.__stdout__).width))
    if args.action_interactions and args.event == DEFAULT_EVENT:
        args.event = ACTION_EVENT
    event = as_if_just_made(json.loads(args.event.read_text()))
    overrides = dict(CONTAINER_PARAMETERS if args.containers else LOCAL_PARAMETERS)
    for item in args.param:
        key, _, value = item.partition("=")
        overrides[key] = value

    with contextlib.ExitStack() as cleanup:
        log_file = sys.stdout
        if not args.verbose:
            log_file = cleanup.enter_context(
                tempfile.NamedTemporaryFile("w", prefix="local-run-", suffix=".log", delete=False)
            )
        try:
            return _run_with_logs(console, event, args, overrides, log_file)
        except KeyboardInterrupt:  # what the run started is stopped by now (its context managers)
            console.print("[red]interrupted[/red]")
            return 130


def _run_with_logs(
    console: Console, event: Any, args: argparse.Namespace, overrides: dict[str, str], log_file: Any
) -> int:
    try:
        template = Template(overrides=overrides, region=REGION, account=ACCOUNT)
    except TemplateError as error:
        console.print(f"[red]{error}[/red]")
        return 2
    if args.containers:
        return _run_in_containers(console, template, event, args, overrides, log_file)
    with PersonalizeEmulator() as emulator, contextlib.redirect_stdout(log_file):
        stack = LocalEngine(
            emulator, overrides, lambda_concurrency=args.lambda_concurrency, lambda_seconds=0.2, time_scale=1.0
        )
        with stack:
            return run(console, stack, emulator, event, args, overrides, log_file)


def _run_in_containers(
    console: Console, template: Template, event: Any, args: argparse.Namespace, overrides: dict[str, str], log_file: Any
) -> int:
    """The same run, every function in its container; the services listen where the containers reach them."""
    from local.containers.invoke import NO_RESPONSE, NO_RESPONSE_HINT, CannotInvoke, docker_gateway, free_port
    from local.containers.start import start_lambda

    with contextlib.ExitStack() as cleanup:
        try:
            gateway = docker_gateway()
        except CannotInvoke as error:
            console.print(f"[red]make local --containers: {error}[/red]")
            return 2
        emulator = PersonalizeEmulator(ACCOUNT, REGION)
        emulator.start(host=gateway)
        cleanup.callback(emulator.stop)
        moto_url = f"http://{gateway}:{(moto_port := free_port(gateway))}"
        services = {"AWS_ENDPOINT_URL": moto_url, "AWS_ENDPOINT_URL_PERSONALIZE": emulator.url}
        # Under SAM CLI, !Ref of the state machine is its logical id: the reconciler gets the ARN, as deployed.
        functions = {
            "ReconcilerFunction": {"STATE_MACHINE_ARN": template.resource_arn(template.state_machine().logical_id)}
        }
        console.print(f"[bold]services[/bold]   Personalize {emulator.url}, everything else (moto) {moto_url}")
        sam_log = Path(log_file.name).with_suffix(".sam.log") if log_file is not sys.stdout else None
        try:
            with console.status("sam build, sam local start-lambda", spinner="dots"):
                containers = cleanup.enter_context(start_lambda(services, functions, overrides, template, sam_log))
        except CannotInvoke as error:
            console.print(f"[red]make local --containers: {error}[/red]")
            return 2
        cleanup.callback(console.print, "[dim]sam local start-lambda stopped, its containers removed[/dim]")
        console.print(
            f"[bold]functions[/bold]  sam local start-lambda {containers.url}, up in {containers.started_in:.1f} s"
        )
        with contextlib.redirect_stdout(log_file):
            stack = cleanup.enter_context(
                LocalEngine(
                    emulator,
                    overrides,
                    lambda_concurrency=args.lambda_concurrency,
                    containers=containers,
                    serve_at=(gateway, moto_port),
                    time_scale=1.0,
                )
            )
            code = run(console, stack, emulator, event, args, overrides, log_file)
        if NO_RESPONSE in containers.log_text():
            console.print(f"[red]{NO_RESPONSE_HINT}[/red]")
            return 2
        console.print(f"[dim]function logs (sam local start-lambda): {containers.log}[/dim]")
        return code


def _half_and_half(seconds: float) -> Timing:
    """CREATE PENDING for half the time, CREATE IN_PROGRESS for the other half."""
    return Timing(pending=seconds / 2, in_progress=seconds / 2)


def run(
    console: Console,
    stack: LocalEngine,
    emulator: PersonalizeEmulator,
    event: Any,
    args: argparse.Namespace,
    overrides: dict[str, str],
    log_file: Any,
) -> int:
    console.print(f"[bold]event[/bold]      {args.event}")
    console.print(f"[bold]parameters[/bold] {' '.join(f'{k}={v}' for k, v in overrides.items())}")
    direct = isinstance(event, dict) and set(event) in ({"datasetGroupArn"}, {"datasetArn"})
    if direct:
        console.print(
            "[bold]rule[/bold]       direct input: started by hand, as for a backfill (the rule is not involved)"
        )
    elif stack.rule_matches(event):
        console.print("[bold]rule[/bold]       [green]the template's rule matches this event[/green]")
    else:
        console.print(
            "[bold]rule[/bold]       [red]the template's rule would NOT match this event: "
            "in AWS the workflow would not start[/red]"
        )
        if not args.run_anyway:
            return 2

    name, seed = dataset_group_of(event)
    emulator.dataset_group_timing = _half_and_half(args.dataset_group_seconds)
    if args.dataset_group_fails:
        emulator.dataset_group_timing.fails_with = args.dataset_group_fails
    emulator.tracker_timing = _half_and_half(args.tracker_seconds)
    emulator.tracker_timing.fails_with = "Injected by --tracker-fails" if args.tracker_fails else None
    emulator.tracker_timing.deleted_after = args.delete_tracker_after
    if args.throttle:
        for operation in ("CreateEventTracker", "DescribeEventTracker"):
            inject(
                Fault("personalize", operation, "LimitExceededException", times=args.throttle, message="Rate exceeded"),
                emulator=emulator,
            )
    if name and not args.no_seed:
        if args.existing_tracker or args.action_interactions:
            emulator.time_dataset_group(name, Timing())
            emulator.time_tracker(name, Timing())
        group_arn = stack.create_dataset_group(name, **seed)
        console.print(f"[bold]seeded[/bold]     dataset group {name}")
        if args.existing_tracker:
            stack.personalize.create_event_tracker(name=f"{name}-by-hand", datasetGroupArn=group_arn)
            console.print(f"[bold]seeded[/bold]     its ACTIVE tracker {name}-by-hand")
        if args.action_interactions:
            emulator.time_dataset(name, "ACTION_INTERACTIONS", _half_and_half(args.tracker_seconds))
            dataset = stack.personalize.create_dataset(
                name=f"{name}-actions", schemaArn=SCHEMA, datasetGroupArn=group_arn, datasetType="Action_Interactions"
            )["datasetArn"]
            console.print(f"[bold]seeded[/bold]     its Action interactions dataset {dataset}")
    console.rule()

    started = time.monotonic()
    if args.reconcile:
        reconciled = stack.call(
            "ReconcilerFunction", json.loads((ROOT / "events" / "scheduled-event.json").read_text())
        )
        console.print(
            f"[bold]reconciler[/bold] checked {reconciled['checked']}, started {reconciled['started']}, "
            f"skipped {reconciled['skipped']}"
        )
        executions = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
        if not executions:
            return 0
        arn = executions[0]["executionArn"]
    else:
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
    if args.then_delete and execution.status == "SUCCEEDED":
        teardown(console, stack, execution)
    show_status(console, stack, trail=not args.no_trail)
    if log_file is not sys.stdout:
        console.print(f"[dim]handler logs: {log_file.name}[/dim]")
    return 0 if execution.status == "SUCCEEDED" else 1


def show_status(console: Console, stack: LocalEngine, trail: bool) -> None:
    """The account view (tools/status.py), as `python -m tools.status` shows a deployed stack's, read only."""
    from tools.status import render, status

    cloudtrail = boto3.client("cloudtrail", region_name=REGION)
    if trail:  # the account this run stands for has a trail, as the README's prerequisites ask
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


def teardown(console: Console, stack: LocalEngine, execution: Execution) -> None:
    """Delete the tracker, deliver the CloudTrail event the deletion makes, and show the parameter go."""
    tracker_arn = execution.output["eventTrackerArn"]
    stack.personalize.delete_event_tracker(eventTrackerArn=tracker_arn)
    deletion = json.loads((ROOT / "events" / "delete-event-tracker.json").read_text())
    deletion["detail"]["requestParameters"] = {"eventTrackerArn": tracker_arn}
    console.rule()
    for target, result in stack.deliver(deletion).items():
        console.print(f"[bold]DeleteEventTracker[/bold] → {target}: {json.dumps(result)}")
    left = stack.parameter(execution.output["parameterName"])
    console.print(
        f"[bold]parameter[/bold]  {execution.output['parameterName']}: {'still there' if left else 'deleted'}"
    )


if __name__ == "__main__":
    sys.exit(main())
