"""The template and the definition, read as they are deployed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from moto.events.models import EventPattern

from local.template import Template
from tests.helpers import ROOT, event

BIN = Path(sys.executable).parent
TEMPLATE = Template()
QUEUES = set(TEMPLATE.resources("AWS::SQS::Queue"))
MACHINE = TEMPLATE.state_machine()
DEFINITION = json.loads(MACHINE.definition)
PATTERN = MACHINE.rule_patterns["CreateDatasetGroup"]
ACTION_PATTERN = MACHINE.rule_patterns["CreateDataset"]


def matches(candidate: dict[str, Any], pattern: dict[str, Any] = PATTERN) -> bool:
    return EventPattern.load(json.dumps(pattern)).matches_event(candidate)


# ------------------------------------------------------------------ the rule
@pytest.mark.parametrize("sample", ["create-dataset-group.json", "create-domain-dataset-group.json"])
def test_the_rule_matches_the_sample_events(sample: str) -> None:
    assert matches(event(sample))


def test_the_rule_pattern_is_the_contract() -> None:
    assert PATTERN == {
        "source": ["aws.personalize"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": ["personalize.amazonaws.com"],
            "eventName": ["CreateDatasetGroup"],
            "errorCode": [{"exists": False}],
        },
    }


def test_the_rule_rejects_a_failed_call() -> None:
    failed = event("create-dataset-group.json")
    failed["detail"]["errorCode"] = "AccessDenied"
    failed["detail"]["responseElements"] = None
    assert not matches(failed)


def test_the_rule_rejects_create_dataset() -> None:
    other = event("create-dataset-group.json")
    other["detail"]["eventName"] = "CreateDataset"
    assert not matches(other)


@pytest.mark.parametrize("dataset_type", ["Action_Interactions", "ACTION_INTERACTIONS", "action_interactions"])
def test_the_action_rule_matches_action_interactions_datasets_in_any_case(dataset_type: str) -> None:
    sample = event("create-action-interactions-dataset.json")
    sample["detail"]["requestParameters"]["datasetType"] = dataset_type
    assert matches(sample, ACTION_PATTERN)
    assert not matches(sample)  # and only the action rule


@pytest.mark.parametrize("dataset_type", ["Items", "Actions", "Users"])
def test_the_dataset_rule_ignores_other_dataset_types(dataset_type: str) -> None:
    sample = event("create-action-interactions-dataset.json")
    sample["detail"]["requestParameters"]["datasetType"] = dataset_type
    assert not matches(sample, ACTION_PATTERN)


@pytest.mark.parametrize("dataset_type", ["Interactions", "INTERACTIONS"])
def test_the_dataset_rule_sees_a_new_item_interactions_dataset(dataset_type: str) -> None:
    """A sign that the group lives on: it brings back a tracker the application released for a deletion."""
    sample = event("create-action-interactions-dataset.json")
    sample["detail"]["requestParameters"]["datasetType"] = dataset_type
    assert matches(sample, ACTION_PATTERN)


def test_the_action_rule_ignores_failed_calls() -> None:
    failed = event("create-action-interactions-dataset.json")
    failed["detail"]["errorCode"] = "ResourceAlreadyExistsException"
    failed["detail"]["responseElements"] = None
    assert not matches(failed, ACTION_PATTERN)


def test_the_rule_rejects_a_foreign_source() -> None:
    foreign = event("create-dataset-group.json")
    foreign["source"] = "aws.sagemaker"
    foreign["detail"]["eventSource"] = "sagemaker.amazonaws.com"
    assert not matches(foreign)


def test_the_rule_has_a_retry_policy_and_a_dead_letter_queue() -> None:
    resource = TEMPLATE.doc["Resources"][MACHINE.logical_id]
    rules = resource["Properties"]["Events"]
    assert set(rules) == {"CreateDatasetGroup", "CreateDataset"}
    for rule in rules.values():
        assert rule["Properties"]["RetryPolicy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}
        assert rule["Properties"]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["ProvisioningDeadLetterQueue", "Arn"]}}
    policy = TEMPLATE.resolve(TEMPLATE.doc["Resources"]["ProvisioningDeadLetterQueuePolicy"]["Properties"])
    [statement] = policy["PolicyDocument"]["Statement"]
    source = TEMPLATE.doc["Resources"]["ProvisioningDeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]
    # Only the rules SAM makes for these events (<state machine><event>) may send to the queue.
    assert source["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"] == [
        {"Fn::GetAtt": [f"{MACHINE.logical_id}{name}", "Arn"]} for name in rules
    ]
    assert statement["Resource"] == TEMPLATE.resource_arn("ProvisioningDeadLetterQueue")


# ------------------------------------------------------------------ the definition
def test_every_placeholder_has_a_substitution_and_every_substitution_is_used() -> None:
    placeholders = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", MACHINE.raw_definition))
    assert placeholders == set(MACHINE.substitutions)
    assert "${" not in MACHINE.definition


def test_the_definition_is_jsonpath_not_jsonata() -> None:
    assert DEFINITION.get("QueryLanguage", "JSONPath") == "JSONPath"
    assert all(state.get("QueryLanguage", "JSONPath") == "JSONPath" for state in DEFINITION["States"].values())


def test_statelint_accepts_the_definition(tmp_path: Path) -> None:
    path = tmp_path / "definition.json"
    path.write_text(MACHINE.definition)
    result = subprocess.run([BIN / "statelint", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_choice_has_a_default_that_leads_to_the_failure_path() -> None:
    """An answer no rule names fails loudly (a named error and the failure event), never States.NoChoiceMatched."""
    states = DEFINITION["States"]
    choices = {name: state for name, state in states.items() if state["Type"] == "Choice"}
    assert len(choices) >= 6
    for name, choice in choices.items():
        assert "Default" in choice, name
        seen, current = set(), choice["Default"]
        while current != "NotifyFailure":  # through Pass and Choice states only: nothing is retried or waited for
            assert current not in seen and states[current]["Type"] in ("Pass", "Choice"), (name, current)
            seen.add(current)
            current = states[current].get("Next") or states[current]["Default"]


def test_waits_use_seconds_path() -> None:
    waits = {name: state for name, state in DEFINITION["States"].items() if state["Type"] == "Wait"}
    assert set(waits) == {
        "WaitForDatasetGroup",
        "WaitToCreateTracker",
        "WaitForEventTracker",
        "WaitForDataset",
    }
    assert all(set(state) == {"Type", "SecondsPath", "Next"} for state in waits.values())


LAMBDA_ERRORS = {
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}


# How Step Functions reports a function that timed out: Lambda.Unknown, or Sandbox.Timedout on newer runtimes.
FUNCTION_TIMEOUTS = {"Lambda.Unknown", "Sandbox.Timedout"}


def test_every_lambda_task_retries_lambda_service_errors() -> None:
    tasks = [s for s in DEFINITION["States"].values() if s["Type"] == "Task" and ":function:" in s["Resource"]]
    assert len(tasks) == 5
    for task in tasks:
        retried = {error for retrier in task["Retry"] for error in retrier["ErrorEquals"]}
        assert retried >= LAMBDA_ERRORS


def test_every_lambda_task_retries_a_timed_out_invocation_a_bounded_number_of_times() -> None:
    """A hung invocation never ends the execution by itself: each task is idempotent (a check reads, a store
    overwrites, CreateOrAdoptTracker adopts what an earlier attempt created)."""
    for name, state in DEFINITION["States"].items():
        if state["Type"] == "Task" and ":function:" in state["Resource"]:
            [retrier] = [r for r in state["Retry"] if set(r["ErrorEquals"]) & FUNCTION_TIMEOUTS]
            assert set(retrier["ErrorEquals"]) == FUNCTION_TIMEOUTS, name
            assert 1 <= retrier["MaxAttempts"] <= 3, name


def worst_case_delay(retrier: dict[str, Any]) -> float:
    """The longest a retrier can wait in all (FULL jitter waits at most this)."""
    delays = [retrier["IntervalSeconds"] * retrier.get("BackoffRate", 2.0) ** n for n in range(retrier["MaxAttempts"])]
    return sum(min(delay, retrier.get("MaxDelaySeconds", delay)) for delay in delays)


def test_every_retry_is_bounded_and_jittered() -> None:
    for state in DEFINITION["States"].values():
        for retrier in state.get("Retry", []):
            assert 1 <= retrier["MaxAttempts"] <= 12
            assert retrier["JitterStrategy"] == "FULL"
            assert worst_case_delay(retrier) <= 300  # Lambda throttling: 241 s at most


def test_lambda_throttling_is_waited_out_patiently() -> None:
    """New accounts have a Lambda concurrency of 10: a burst is throttled, and that is waiting, not failing."""
    for name, state in DEFINITION["States"].items():
        if state["Type"] == "Task" and ":function:" in state["Resource"]:
            [retrier] = [r for r in state["Retry"] if "Lambda.TooManyRequestsException" in r["ErrorEquals"]]
            assert retrier["ErrorEquals"] == ["Lambda.TooManyRequestsException"], name
            assert worst_case_delay(retrier) >= 120, name


def test_normal_waiting_is_not_an_error_being_retried() -> None:
    """Only faults are retried: no Retry names a status the workflow waits through."""
    retried = {e for s in DEFINITION["States"].values() for r in s.get("Retry", []) for e in r["ErrorEquals"]}
    assert retried == LAMBDA_ERRORS | FUNCTION_TIMEOUTS | {
        "TooManyUpdates",
        "ThrottlingException",
        "States.TaskFailed",
    }


def test_parameters_drive_the_definition() -> None:
    overridden = Template(
        overrides={"PollIntervalSeconds": 7, "MaxPollIntervalSeconds": 70, "ProvisioningTimeoutSeconds": 700}
    )
    polling = json.loads(overridden.state_machine().definition)["States"]["ParseInput"]["ResultSelector"]["polling"]
    assert polling == {"initialWaitSeconds": "7", "maxWaitSeconds": "70", "timeoutSeconds": "700"}


# ------------------------------------------------------------------ parameters and outputs
def test_the_parameters_exist_with_their_defaults() -> None:
    parameters = TEMPLATE.doc["Parameters"]
    assert {
        name: str(parameters[name]["Default"])
        for name in ("ParameterPrefix", "PollIntervalSeconds", "MaxPollIntervalSeconds", "ProvisioningTimeoutSeconds")
    } == {
        "ParameterPrefix": "/personalize",
        "PollIntervalSeconds": "4",
        "MaxPollIntervalSeconds": "60",
        "ProvisioningTimeoutSeconds": "1800",
    }


@pytest.mark.parametrize("prefix", ["/personalize", "/ml/prod/personalize", "/a.b_c-d"])
def test_parameter_prefix_accepts_ssm_paths(prefix: str) -> None:
    assert re.fullmatch(TEMPLATE.doc["Parameters"]["ParameterPrefix"]["AllowedPattern"], prefix)


@pytest.mark.parametrize(
    "prefix",
    ["personalize", "/personalize/", "/aws/x", "/AWS", "/ssm/x", "/Ssm", "/has space", "//double", "/" + "/a" * 14, ""],
)
def test_parameter_prefix_rejects_what_ssm_rejects(prefix: str) -> None:
    assert not re.fullmatch(TEMPLATE.doc["Parameters"]["ParameterPrefix"]["AllowedPattern"], prefix)


def test_the_layer_parameter_is_the_public_powertools_parameter_of_the_tested_version() -> None:
    from aws_lambda_powertools.shared.version import VERSION

    spec = TEMPLATE.doc["Parameters"]["PowertoolsLayerArn"]
    assert spec["Type"] == "AWS::SSM::Parameter::Value<String>"
    assert spec["Default"] == f"/aws/service/powertools/python/arm64/python3.13/{VERSION}"
    requirements = (ROOT / "requirements-dev.txt").read_text()
    assert f"aws-lambda-powertools=={VERSION}" in requirements.replace("aws_lambda_powertools", "aws-lambda-powertools")


def test_outputs_name_what_a_person_starts_or_invokes_and_every_dead_letter_queue() -> None:
    """The state machine (a start by hand), the scheduled functions (a backfill, a sweep now), the queues, the
    application policy and the dashboard; the other functions are invoked by the workflow and the rules only."""
    outputs = TEMPLATE.doc["Outputs"]
    values = {json.dumps(output["Value"]) for output in outputs.values()}
    named = {MACHINE.logical_id, "ReconcilerFunction", "SweeperFunction", "ApplicationPolicy", *QUEUES}
    assert {json.dumps({"Ref": name}) for name in named} <= values


def test_functions_are_python313_arm64_untraced_with_the_layer() -> None:
    """No active tracing: X-Ray would show each function as one opaque segment, and Powertools' Tracer, which
    would show the calls, adds about 200 ms to every cold start (bench/results.md, "The Tracer's cost")."""
    function_globals = TEMPLATE.doc["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.13"
    assert function_globals["Architectures"] == ["arm64"]
    assert "Tracing" not in function_globals
    assert all("Tracing" not in f.properties for f in TEMPLATE.functions().values())
    assert function_globals["Layers"] == [{"Ref": "PowertoolsLayerArn"}, {"Ref": "SharedCodeLayer"}]
    assert "CodeUri" not in function_globals  # each function's package holds its own handler only
    for function in TEMPLATE.functions().values():
        assert function.code_uri == ROOT / "functions" / function.code_uri.name
        assert (function.code_uri / "app.py").is_file() and function.handler == "app.lambda_handler"


def test_the_state_machine_is_standard_logged_and_traced() -> None:
    properties = TEMPLATE.doc["Resources"][MACHINE.logical_id]["Properties"]
    assert properties["Type"] == "STANDARD"
    assert properties["Logging"]["Level"] == "ALL"
    assert properties["Logging"]["IncludeExecutionData"] is False
    assert properties["Tracing"] == {"Enabled": True}
    log_group = properties["Logging"]["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert TEMPLATE.doc["Resources"][log_group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}


# ------------------------------------------------------------------ least privilege
def statements(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        if "Effect" in node and ("Action" in node or "NotAction" in node):
            found.append(node)
        for value in node.values():
            found += statements(value)
    elif isinstance(node, list):
        for item in node:
            found += statements(item)
    return found


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement.get("Action", [])
    return action if isinstance(action, list) else [action]


def test_no_statement_names_a_wildcard_action() -> None:
    all_statements = statements(TEMPLATE.doc["Resources"])
    assert all_statements
    for statement in all_statements:
        assert "NotAction" not in statement
        for action in actions(statement):
            assert "*" not in action, statement


# ------------------------------------------------------------------ the tools
def tool_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return env | {
        "SAM_CLI_TELEMETRY": "0",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_CONFIG_FILE": "/dev/null",
    }


def test_cfn_lint_reports_nothing() -> None:
    result = subprocess.run(
        [BIN / "cfn-lint", "template.yaml"], cwd=ROOT, capture_output=True, text=True, env=tool_env()
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_sam_validate_lint_reports_nothing() -> None:
    result = subprocess.run(
        [BIN / "sam", "validate", "--lint"], cwd=ROOT, capture_output=True, text=True, env=tool_env()
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_sam_build_and_package_make_a_template_cloudformation_takes_in_the_request(tmp_path: Path) -> None:
    build = tmp_path / "build"
    result = subprocess.run(
        [BIN / "sam", "build", "--build-dir", str(build), "--cache-dir", str(tmp_path / "cache")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=tool_env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for function in TEMPLATE.functions():
        # Its own handler only: the shared code comes from SharedCodeLayer, everything else from the runtime.
        files = sorted(str(p.relative_to(build / function)) for p in (build / function).rglob("*") if p.is_file())
        assert files == ["__init__.py", "app.py"], (function, files)
    layer = build / "SharedCodeLayer"
    files = sorted(str(p.relative_to(layer)) for p in layer.rglob("*") if p.is_file())
    assert files == sorted(f"python/common/{p.name}" for p in (ROOT / "layers/shared/common").glob("*.py")), files
    packaged = package(build, tmp_path)
    # CloudFormation takes a template of at most 51,200 bytes in the request (--template-body, `aws cloudformation
    # deploy` without a bucket); a larger one only through S3.
    assert len(packaged.encode()) < 51_200, len(packaged.encode())
    assert "CodeUri: s3://artifacts/" in packaged
    shutil.rmtree(build)


def package(build: Path, tmp_path: Path) -> str:
    """`sam package` of the build, its artifacts uploaded to a local S3 (moto's server): the packaged template."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server._server.server_address[:2]  # type: ignore[union-attr]
        env = tool_env() | {
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "AWS_ENDPOINT_URL_S3": f"http://{host}:{port}",
        }
        import boto3

        s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL_S3"], region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="x")  # fmt: skip
        s3.create_bucket(Bucket="artifacts")
        output = tmp_path / "packaged.yaml"
        command = ["package", "--template-file", str(build / "template.yaml"), "--s3-bucket", "artifacts"]
        result = subprocess.run(
            [BIN / "sam", *command, "--output-template-file", str(output)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=env,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return output.read_text()
    finally:
        server.stop()


# ------------------------------------------------------------------ operations
def alarms(template: Template) -> dict[str, dict[str, Any]]:
    return {name: template.resolve(r["Properties"]) for name, r in template.resources("AWS::CloudWatch::Alarm").items()}


def watched_metric(alarm: dict[str, Any]) -> tuple[str, str, str]:
    """(namespace, metric, its dimension's value) of an alarm on one metric, or on a metric math expression of one."""
    [metric] = (
        [m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m] if "Metrics" in alarm else [alarm]
    )
    return metric["Namespace"], metric["MetricName"], metric["Dimensions"][0]["Value"]


def test_alarms_watch_failures_timeouts_dead_letters_and_the_reconciler() -> None:
    watched = {watched_metric(a) for a in alarms(TEMPLATE).values()}
    machine = TEMPLATE.resource_arn(MACHINE.logical_id)
    assert watched >= {
        ("AWS/States", "ExecutionsFailed", machine),
        ("AWS/States", "ExecutionsTimedOut", machine),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "ProvisioningDeadLetterQueue"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "TeardownDeadLetterQueue"),
        ("AWS/Lambda", "Errors", "ReconcilerFunction"),
        ("AWS/Lambda", "Errors", "SweeperFunction"),
        ("EventTrackerProvisioner", "ProvisioningLagSeconds", "event-tracker-provisioner"),
    }


def test_the_lag_alarm_fires_beyond_max_poll_interval_seconds_plus_the_steps_own_time() -> None:
    for cap in ("60", "300"):
        [alarm] = [a for name, a in alarms(Template(overrides={"MaxPollIntervalSeconds": cap})).items()
                   if name == "ProvisioningLagAlarm"]  # fmt: skip
        [expression] = [m for m in alarm["Metrics"] if m.get("ReturnData")]
        assert expression["Expression"] == f"lag - {cap}"
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (30, "GreaterThanThreshold")
        [stat] = [m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m]
        assert stat["Stat"] == "Maximum"


def test_every_alarm_notifies_the_topic_and_an_email_subscribes_to_it() -> None:
    assert list(TEMPLATE.resources("AWS::SNS::Topic")) == ["AlarmTopic"]
    assert TEMPLATE.resources("AWS::SNS::Subscription") == {}  # no email: a topic with no subscriber
    assert all(alarm["AlarmActions"] == ["AlarmTopic"] for alarm in alarms(TEMPLATE).values())
    with_email = Template(overrides={"NotificationEmail": "ops@example.com"})
    [subscription] = with_email.resources("AWS::SNS::Subscription").values()
    assert with_email.resolve(subscription["Properties"]) == {
        "TopicArn": "AlarmTopic",
        "Protocol": "email",
        "Endpoint": "ops@example.com",
    }


def kms_statements(template: Template) -> list[dict[str, Any]]:
    resolved = [template.resolve(r["Properties"]) for r in template.resources("AWS::Serverless::Function").values()]
    return [s for s in statements(resolved) if any(a.startswith("kms:") for a in actions(s))]


def test_kms_is_granted_only_on_the_chosen_key() -> None:
    assert kms_statements(TEMPLATE) == []
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    granted = kms_statements(Template(overrides={"ParameterType": "SecureString", "KmsKeyId": key}))
    assert granted == [
        {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": key},  # CheckEventTracker
        {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": key},  # CheckDataset
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key},  # the reconciler
    ]


def test_the_teardown_rule_matches_deletions_only() -> None:
    [rule] = [r for r in TEMPLATE.rules() if r.target == "TeardownFunction"]
    pattern = EventPattern.load(json.dumps(rule.pattern))
    assert pattern.matches_event(event("delete-event-tracker.json"))
    assert pattern.matches_event(event("delete-dataset-group.json"))
    assert pattern.matches_event(event("delete-dataset.json"))
    assert not pattern.matches_event(event("create-dataset-group.json"))
    failed = event("delete-event-tracker.json")
    failed["detail"]["errorCode"] = "ResourceInUseException"
    assert not pattern.matches_event(failed)


def test_the_reconcile_schedule_can_be_turned_off() -> None:
    def schedule(template: Template) -> dict[str, Any]:
        function = template.functions()["ReconcilerFunction"]
        return function.properties["Events"]["Hourly"]["Properties"]

    assert schedule(TEMPLATE) == {"Schedule": "rate(1 hour)", "State": "ENABLED"}
    assert schedule(Template(overrides={"ReconcileSchedule": "rate(15 minutes)"}))["Schedule"] == "rate(15 minutes)"
    assert schedule(Template(overrides={"ReconcileSchedule": ""}))["State"] == "DISABLED"


def test_every_parameter_is_grouped_once_and_labelled_for_the_console() -> None:
    interface = TEMPLATE.doc["Metadata"]["AWS::CloudFormation::Interface"]
    grouped = [name for group in interface["ParameterGroups"] for name in group["Parameters"]]
    assert sorted(grouped) == sorted(TEMPLATE.doc["Parameters"])
    assert set(interface["ParameterLabels"]) == set(TEMPLATE.doc["Parameters"])
    assert all(label["default"] for label in interface["ParameterLabels"].values())


def test_every_output_says_what_it_is() -> None:
    assert all(output.get("Description") for output in TEMPLATE.doc["Outputs"].values())


def test_what_every_function_repeats_is_in_globals() -> None:
    written = TEMPLATE.source["Resources"]
    for name in TEMPLATE.resources("AWS::Serverless::Function"):
        resource = written[name]
        assert "Handler" not in resource["Properties"], name
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        assert not set(variables) & set(TEMPLATE.doc["Globals"]["Function"]["Environment"]["Variables"]), name


def test_the_readme_stays_short() -> None:
    """250 lines at most: detail goes to docs/."""
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250


def test_the_readme_diagram_and_the_definition_tell_the_same_story() -> None:
    """Every state of the definition is in the README's diagram, and every step the diagram draws inside the state
    machine is a state of the definition (the failure path's helpers, which only reshape the error, excepted)."""
    readme = (ROOT / "README.md").read_text()
    subgraph = readme[readme.index("subgraph SM[") : readme.index("    end\n", readme.index("subgraph SM["))]
    drawn = set(re.findall(r"[\[{]([A-Z][A-Za-z]+)[\]}<]", subgraph)) | {"ParseInput"}
    reshaping = {"NoDatasetGroup", "ReadFailure", "ParseLambdaError", "UseErrorMessage"}
    assert drawn - {"CreateDataset"} == set(DEFINITION["States"]) - reshaping
