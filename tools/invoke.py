"""`make invoke`: one function, in a real container with `sam local invoke`, against local AWS services.

    make invoke FUNCTION=CheckEventTrackerFunction EVENT=events/check-event-tracker.json

1. puts the Powertools layer in SAM CLI's layer cache (`tools.layer_cache`), so no AWS account is needed;
2. starts the Personalize emulator and moto's server (SSM, Step Functions and every other service) on
   the Docker bridge's gateway, where the container reaches them;
3. seeds what the sample event names, so that the function does its real job;
4. builds the function and its SharedCodeLayer with `sam build`, as a deployment packages them, then
   runs `sam local invoke` on the built template with dummy credentials and every AWS endpoint pointed at those servers
   (`--container-env-vars`, which SAM CLI applies only with `--debug-port`), so it can never reach
   real AWS; declared variables that SAM resolves differently from CloudFormation (STATE_MACHINE_ARN)
   go in `--env-vars`;
5. prints the function's result on stdout, and what it changed on stderr; then stops what it started.

Exit codes: 0 the function returned, 1 it raised (its errorType is on stdout), 2 this command could
not run it (no Docker, unknown function, unreadable event).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from local.personalize_emulator import PersonalizeEmulator, Timing
from local.template import TEMPLATE, Template
from tools import layer_cache as layer
from tools.sam_local import (
    NO_RESPONSE,
    NO_RESPONSE_HINT,
    CannotInvoke,
    base_image,
    build,
    docker_gateway,
    free_port,
    has_image,
    sam_environment,
    sam_executable,
)

sys.path.insert(0, str(TEMPLATE.parent / "layers" / "shared"))  # the functions' own names for their tags

from common.parameters import (
    TAG_DATASET_ARN,
    TAG_DATASET_GROUP_ARN,
    TAG_EVENT_TRACKER_ARN,
    action_parameter_name,
    parameter_name,
)
from common.personalize import MADE_BY, TAG_MADE_BY

ACCOUNT = "123456789012"  # what `sam local invoke` resolves AWS::AccountId to
REGION = "us-east-1"
# The sample dataset groups: the reconciler finds one without its tracker and one in order.
MISSING, IN_ORDER = "retail-recommendations", "video-on-demand"
SCHEMA = f"arn:aws:personalize:{REGION}:{ACCOUNT}:schema/local-action-interactions"


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class Services:
    """The local AWS: Personalize emulator, moto's server for everything else, and clients of both."""

    emulator: PersonalizeEmulator
    moto_url: str
    template: Template
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self.clients:
            url = self.emulator.url if service == "personalize" else self.moto_url
            self.clients[service] = boto3.client(
                service,
                endpoint_url=url,
                region_name=REGION,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        return self.clients[service]

    @property
    def container_environment(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.moto_url, "AWS_ENDPOINT_URL_PERSONALIZE": self.emulator.url}


@contextmanager
def local_services(host: str, template: Template) -> Iterator[Services]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moto's note about its server extras, which requirements-dev.txt pins
        from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request otherwise
    emulator = PersonalizeEmulator(ACCOUNT, REGION)
    emulator.start(port=0, host=host)
    moto_port = free_port(host)
    moto = ThreadedMotoServer(ip_address=host, port=moto_port, verbose=False)
    moto.start()
    try:
        yield Services(emulator, f"http://{host}:{moto_port}", template)
    finally:
        moto.stop()
        emulator.stop()


# ---------------------------------------------------------------- seeding what the sample names
def dataset_group(services: Services, name: str) -> str:
    return services.emulator.handle("CreateDatasetGroup", {"name": name})["datasetGroupArn"]


def tagged_parameter(services: Services, group_arn: str, value: str, tracker: str = "", dataset: str = "") -> str:
    """A parameter as the workflow writes it: the tracker's (tagged with its ARN) or the dataset's."""
    prefix, group_name = services.template.parameters["ParameterPrefix"], group_arn.rsplit("/", 1)[1]
    name = (action_parameter_name if dataset else parameter_name)(prefix, group_name)
    tags = {TAG_DATASET_GROUP_ARN: group_arn, TAG_EVENT_TRACKER_ARN: tracker, TAG_DATASET_ARN: dataset}
    services.client("ssm").put_parameter(
        Name=name, Value=value, Type="String", Tags=[{"Key": k, "Value": v} for k, v in tags.items() if v]
    )
    return name


def action_dataset(services: Services, group_name: str) -> str:
    """The dataset group (ACTIVE) with its Action interactions dataset (ACTIVE, with its trackingId)."""
    group = dataset_group(services, group_name)
    return services.emulator.handle(
        "CreateDataset",
        {
            "name": f"{group_name}-actions",
            "schemaArn": SCHEMA,
            "datasetGroupArn": group,
            "datasetType": "ACTION_INTERACTIONS",
        },
    )["datasetArn"]


def seed(services: Services, function: str, event: dict[str, Any]) -> dict[str, str]:
    """Create what the event names; returns the `--env-vars` values for the function."""
    emulator = services.emulator
    if function in ("CheckDatasetGroupFunction", "CreateOrAdoptTrackerFunction"):
        dataset_group(services, event["datasetGroupArn"].rsplit("/", 1)[1])
        say(f"seeded     dataset group {event['datasetGroupArn']} (ACTIVE)")
    elif function == "CheckEventTrackerFunction":
        group = dataset_group(services, MISSING)
        tracker = emulator.seed_tracker(group, event["eventTrackerArn"])
        say(f"seeded     event tracker {event['eventTrackerArn']} (ACTIVE, trackingId {tracker['trackingId']})")
    elif function == "ReconcilerFunction":
        dataset_group(services, MISSING)
        in_order = dataset_group(services, IN_ORDER)
        tracker = emulator.seed_tracker(in_order, None)
        tagged_parameter(services, in_order, tracker["trackingId"], tracker=tracker["eventTrackerArn"])
        say(f"seeded     dataset group {MISSING} without a tracker, {IN_ORDER} with its tracker and parameter")
        machine = services.template.state_machine()
        role = f"arn:aws:iam::{ACCOUNT}:role/local"
        arn = services.client("stepfunctions").create_state_machine(
            name=machine.logical_id, definition=machine.definition, roleArn=role
        )["stateMachineArn"]
        say(f"seeded     state machine {arn}")
        return {"STATE_MACHINE_ARN": arn}
    elif function == "CheckDatasetFunction":
        dataset = action_dataset(services, MISSING)
        tracking_id = emulator.handle("DescribeDataset", {"datasetArn": dataset})["dataset"]["trackingId"]
        say(f"seeded     Action interactions dataset {dataset} (ACTIVE, trackingId {tracking_id})")
    elif function == "SweeperFunction":
        gone = f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset-group/{MISSING}"
        dataset = f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset/{MISSING}/ACTION_INTERACTIONS"
        tracker = f"arn:aws:personalize:{REGION}:{ACCOUNT}:event-tracker/0a1b2c3d"
        stale = [
            tagged_parameter(services, gone, "a-tracking-id", tracker=tracker),
            tagged_parameter(services, gone, "an-action-tracking-id", dataset=dataset),
        ]
        in_order = dataset_group(services, IN_ORDER)
        live = emulator.seed_tracker(in_order, None)
        kept = tagged_parameter(services, in_order, live["trackingId"], tracker=live["eventTrackerArn"])
        theirs = stale[0].rsplit("/", 1)[0] + "/notes"
        services.client("ssm").put_parameter(Name=theirs, Value="written by someone else", Type="String")
        say(f"seeded     parameters {', '.join(stale)} of a deleted dataset group, {kept} of {IN_ORDER} (in order),")
        say(f"           and untagged {theirs}")
    elif function == "ReleaseTrackerFunction":  # the hook's request before a stack deletes the Interactions dataset
        group = dataset_group(services, MISSING)
        model = event["requestData"]["targetModel"]
        properties = model.get("previousResourceProperties") or model["resourceProperties"]
        stack_tag = {"tagKey": "aws:cloudformation:stack-id", "tagValue": event["stackId"]}  # the stack made it
        emulator.handle(
            "CreateDataset",
            {
                "name": properties["Name"],
                "schemaArn": SCHEMA,
                "datasetGroupArn": group,
                "datasetType": "Interactions",
                "tags": [stack_tag],
            },
        )
        made = emulator.handle(
            "CreateEventTracker",
            {
                "name": f"{MISSING}-tracker",
                "datasetGroupArn": group,
                "tags": [{"tagKey": TAG_MADE_BY, "tagValue": MADE_BY}],
            },
        )
        emulator.trackers[made["eventTrackerArn"]].timing = Timing()
        name = tagged_parameter(services, group, made["trackingId"], tracker=made["eventTrackerArn"])
        say(f"seeded     dataset group {MISSING}, its Interactions dataset (the stack's), the application's tracker")
        say(f"           {made['eventTrackerArn']} (ACTIVE) and its parameter {name}")
    elif function == "TeardownFunction":
        request = event["detail"]["requestParameters"]
        group = f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset-group/{MISSING}"
        tracker = request.get("eventTrackerArn") or f"arn:aws:personalize:{REGION}:{ACCOUNT}:event-tracker/0a1b2c3d"
        dataset = f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset/{MISSING}/ACTION_INTERACTIONS"
        ours = [
            tagged_parameter(services, group, "a-tracking-id", tracker=tracker),
            tagged_parameter(services, group, "an-action-tracking-id", dataset=dataset),
        ]
        theirs = ours[0].rsplit("/", 1)[0] + "/notes"
        services.client("ssm").put_parameter(Name=theirs, Value="written by someone else", Type="String")
        say(f"seeded     parameters {', '.join(ours)} (tagged with their ARNs), and untagged {theirs}")
    return {}


def report_effects(services: Services, function: str, env: dict[str, str]) -> None:
    """What the function changed, read back from the local services."""
    if function == "ReleaseTrackerFunction":
        for tracker in services.emulator.trackers_of(MISSING):
            say(f"after      event tracker {tracker['eventTrackerArn']} ({tracker['status']})")
        if not services.emulator.trackers_of(MISSING):
            say(f"after      no event tracker in {MISSING}")
    if function in (
        "CheckEventTrackerFunction",
        "CheckDatasetFunction",
        "TeardownFunction",
        "SweeperFunction",
        "ReleaseTrackerFunction",
    ):
        ssm = services.client("ssm")
        names = [p["Name"] for p in ssm.describe_parameters().get("Parameters", [])]
        for name in sorted(names):
            value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
            say(f"after      parameter {name} = {value}")
        if not names:
            say("after      no parameters")
    elif function == "CreateOrAdoptTrackerFunction":
        for tracker in services.emulator.trackers.values():
            say(f"after      event tracker {tracker.arn} ({tracker.name}) of {tracker.extra['datasetGroupArn']}")
    elif function == "ReconcilerFunction":
        executions = services.client("stepfunctions").list_executions(stateMachineArn=env["STATE_MACHINE_ARN"])
        for execution in executions["executions"]:
            say(f"after      execution {execution['name']} ({execution['status']})")


# ---------------------------------------------------------------- sam local invoke
def sam_command(
    function: str,
    template: Path,
    event: Path,
    env_vars: Path,
    container_env_vars: Path,
    debug_port: int,
    skip_pull: bool,
) -> list[str]:
    return [
        sam_executable(), "local", "invoke", function,
        "--template-file", str(template),
        "--config-file", str(TEMPLATE.parent / "samconfig.toml"),  # its local_invoke parameters (the layer's ARN)
        "--event", str(event),
        "--env-vars", str(env_vars),
        "--container-env-vars", str(container_env_vars),
        "--debug-port", str(debug_port),  # SAM CLI applies --container-env-vars only in debug mode
        *(["--skip-pull-image"] if skip_pull else []),
    ]  # fmt: skip


def run_sam(command: list[str]) -> tuple[int, str, str]:
    """SAM's exit code, its stdout (the function's result) and its stderr, which is echoed as it comes."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=sam_environment(), cwd=TEMPLATE.parent
    )
    assert process.stderr is not None and process.stdout is not None
    log = []
    for line in process.stderr:
        sys.stderr.write(line)
        log.append(line)
    result = process.stdout.read().strip()
    return process.wait(), result, "".join(log)


def invoke(function: str, event_file: Path) -> int:
    template = Template()
    functions = template.functions()
    if function not in functions:
        raise CannotInvoke(f"{function} is not a function of {TEMPLATE.name}: one of {', '.join(sorted(functions))}")
    try:
        event = json.loads(event_file.read_text())
    except (OSError, ValueError) as error:
        raise CannotInvoke(f"cannot read the event {event_file}: {error}") from None

    gateway = docker_gateway()
    say(f"layer      {layer.prepare()}")
    # A base image already here is used as it is (no registry needed); otherwise SAM CLI pulls it.
    # SAM_SKIP_PULL_IMAGE, SAM CLI's own variable, still decides when it is set.
    skip_pull = "SAM_SKIP_PULL_IMAGE" not in os.environ and has_image(base_image(template))
    with local_services(gateway, template) as services, tempfile.TemporaryDirectory(prefix="invoke-") as scratch:
        say(f"services   Personalize {services.emulator.url}, everything else (moto) {services.moto_url}")
        env = seed(services, function, event)
        env_vars = Path(scratch, "env-vars.json")
        env_vars.write_text(json.dumps({function: env}))
        container_env_vars = Path(scratch, "container-env-vars.json")
        container_env_vars.write_text(json.dumps(services.container_environment))
        built = build(Path(scratch, "build"))
        say(f"built      {built}")
        command = sam_command(
            function, built, event_file, env_vars, container_env_vars, free_port("127.0.0.1"), skip_pull
        )
        say("running    " + " ".join(command[1:5]) + " ...")
        returncode, result, log = run_sam(command)
        print(result, flush=True)
        if returncode != 0 or not result:
            if NO_RESPONSE in log:
                say(NO_RESPONSE_HINT)
            say(f"sam local invoke exited with {returncode} and no result")
            return 2
        report_effects(services, function, env)
    return 1 if raised(result) else 0


def raised(result: str) -> bool:
    """Whether the function's answer is the Lambda runtime's error document."""
    try:
        answer = json.loads(result.splitlines()[-1])
    except (ValueError, IndexError):
        return True
    return isinstance(answer, dict) and "errorType" in answer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("function", help="logical id in template.yaml, such as CheckEventTrackerFunction")
    parser.add_argument("event", type=Path, help="event file, such as events/check-event-tracker.json")
    args = parser.parse_args(argv)
    try:
        sys.exit(invoke(args.function, args.event))
    except CannotInvoke as error:
        say(f"make invoke: {error}")
        sys.exit(2)


if __name__ == "__main__":
    main()
