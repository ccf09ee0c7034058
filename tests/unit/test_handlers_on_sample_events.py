"""Each handler on its events/ file, with the environment template.yaml gives it.

This is the path `sam local invoke <Function> -e events/<file>` takes, which
needs Docker and so cannot run here.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from moto import mock_aws

from common.errors import InvalidEvent
from local.engine import LambdaContext, load_handler
from local.personalize_emulator import PersonalizeEmulator, Timing
from local.template import Template
from tests.helpers import dataset_group_arn, event

FUNCTIONS = Template(overrides={"ParameterPrefix": "/ml/recs"}).functions()
SCHEMA = "arn:aws:personalize:us-east-1:123456789012:schema/action-interactions"


@pytest.fixture
def handler(emulator: PersonalizeEmulator) -> Iterator[Callable[[str], Callable[[Any], Any]]]:
    with mock_aws(), mock.patch.dict(os.environ, {"AWS_ENDPOINT_URL_PERSONALIZE": emulator.url}):

        def load(name: str) -> Callable[[Any], Any]:
            function = FUNCTIONS[name]
            handle = load_handler(function)
            context = LambdaContext(name, f"arn:aws:lambda:us-east-1:123456789012:function:{name}")
            return lambda payload: handle(json.loads(json.dumps(payload)), context)

        yield load


def test_the_template_gives_each_function_its_environment() -> None:
    assert FUNCTIONS["ParseInputFunction"].environment["PARAMETER_PREFIX"] == "/ml/recs"
    assert FUNCTIONS["CheckEventTrackerFunction"].environment["PARAMETER_TYPE"] == "String"
    assert FUNCTIONS["CreateOrAdoptTrackerFunction"].environment["EXCLUDE_NAME_PATTERN"] == ""
    for function in FUNCTIONS.values():
        assert function.environment["POWERTOOLS_SERVICE_NAME"] == "event-tracker-provisioner"


@pytest.mark.parametrize(
    "sample, name",
    [
        ("create-dataset-group.json", "retail-recommendations"),
        ("create-domain-dataset-group.json", "video-on-demand"),
        ("direct-input.json", "retail-recommendations"),
    ],
)
def test_parse_input(handler, sample: str, name: str) -> None:
    parse = handler("ParseInputFunction")
    expected = {
        "datasetGroupArn": dataset_group_arn(name),
        "datasetGroupName": name,
        "parameterName": f"/ml/recs/{name}/tracking-id",
        "createdByCloudFormation": False,
        "kind": "eventTracker",
        "datasetArn": None,
        "eventTime": event(sample).get("detail", {}).get("eventTime"),
        "startedBy": "person" if sample == "direct-input.json" else "event",
    }
    assert parse(event(sample)) == expected  # as `sam local invoke` sends it
    assert (
        parse({"input": event(sample), "executionId": "arn:aws:states:::execution:m:e"}) == expected
    )  # as the workflow does


def test_parse_input_rejects_with_invalid_event(handler) -> None:
    with pytest.raises(InvalidEvent):
        handler("ParseInputFunction")({"input": {"source": "aws.s3"}, "executionId": "e"})


def test_check_dataset_group(handler, personalize) -> None:
    personalize.create_dataset_group(name="retail-recommendations")
    result = handler("CheckDatasetGroupFunction")(event("check-dataset-group.json"))
    assert (result["status"], result["outcome"], result["waitSeconds"]) == ("ACTIVE", "ready", 0)


def test_create_or_adopt_tracker_then_check_it(handler, personalize) -> None:
    personalize.create_dataset_group(name="retail-recommendations")
    created = handler("CreateOrAdoptTrackerFunction")(event("create-or-adopt-tracker.json"))
    assert (created["outcome"], created["adopted"], created["waitSeconds"]) == ("created", False, 5)
    payload = dict(event("check-event-tracker.json"), eventTrackerArn=created["eventTrackerArn"])
    checked = handler("CheckEventTrackerFunction")(payload)
    assert (checked["status"], checked["outcome"], checked["eventTrackerArn"]) == (
        "ACTIVE",
        "ready",
        created["eventTrackerArn"],
    )


def test_check_event_tracker_stores_the_tracking_id(handler, personalize, emulator: PersonalizeEmulator) -> None:
    import boto3

    sample = event("check-event-tracker.json")
    group = personalize.create_dataset_group(name="retail-recommendations")["datasetGroupArn"]
    tracker = emulator.seed_tracker(group, sample["eventTrackerArn"])
    result = handler("CheckEventTrackerFunction")(sample)
    assert result["parameterName"] == "/personalize/retail-recommendations/tracking-id"
    stored = boto3.client("ssm", region_name="us-east-1").get_parameter(Name=result["parameterName"])
    assert stored["Parameter"]["Value"] == tracker["trackingId"] == result["trackingId"]


def test_check_dataset_stores_the_action_tracking_id(handler, personalize) -> None:
    import boto3

    group = personalize.create_dataset_group(name="retail-recommendations")["datasetGroupArn"]
    dataset = personalize.create_dataset(
        name="actions", schemaArn=SCHEMA, datasetGroupArn=group, datasetType="Action_Interactions"
    )["datasetArn"]
    result = handler("CheckDatasetFunction")(event("check-dataset.json"))
    assert (result["datasetArn"], result["outcome"]) == (dataset, "ready")
    stored = boto3.client("ssm", region_name="us-east-1").get_parameter(Name=result["parameterName"])
    assert stored["Parameter"]["Value"] == personalize.describe_dataset(datasetArn=dataset)["dataset"]["trackingId"]


@pytest.mark.parametrize(
    "function", ["CheckEventTrackerFunction", "CheckDatasetFunction", "CreateOrAdoptTrackerFunction"]
)
def test_an_answer_that_adds_no_metric_puts_no_warning_in_the_logs(
    handler, personalize, emulator: PersonalizeEmulator, function: str
) -> None:
    """A check of a resource not yet ACTIVE, or a skipped group, adds no metric: Powertools would warn of it in the
    function's log (once per container) unless the function says it is expected."""
    emulator.tracker_timing = emulator.dataset_timing = Timing(pending=60)
    group = personalize.create_dataset_group(
        name="retail-recommendations", tags=[{"tagKey": "event-tracker-provisioner:skip", "tagValue": "true"}]
    )["datasetGroupArn"]
    tracker = personalize.create_event_tracker(name="t", datasetGroupArn=group)["eventTrackerArn"]
    personalize.create_dataset(name="a", schemaArn=SCHEMA, datasetGroupArn=group, datasetType="Action_Interactions")
    payload = {
        "CheckEventTrackerFunction": dict(event("check-event-tracker.json"), eventTrackerArn=tracker),
        "CheckDatasetFunction": event("check-dataset.json"),
        "CreateOrAdoptTrackerFunction": event("create-or-adopt-tracker.json"),
    }[function]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")  # the function's module, imported now, puts its own filter before this one
        answer = handler(function)(payload)
    assert answer["outcome"] in ("waiting", "skipped"), answer
    assert [str(w.message) for w in seen if "metrics" in str(w.message)] == []


@pytest.mark.parametrize(
    "value, logical_id",
    [("ProvisionEventTrackerStateMachine", True), ("", False), ("arn:aws:states:us-east-1:1:stateMachine:x", False)],
)
def test_a_misconfigured_reconciler_says_which_setting_is_wrong(
    value: str, logical_id: bool, emulator: PersonalizeEmulator
) -> None:
    """Under `sam local invoke`, !Ref of the state machine is its logical id: a clear error, not an unpacking one."""
    from dataclasses import replace

    from common.errors import Misconfigured

    function = replace(FUNCTIONS["ReconcilerFunction"])
    function.environment = {**function.environment, "STATE_MACHINE_ARN": value}
    with mock_aws(), mock.patch.dict(os.environ, {"AWS_ENDPOINT_URL_PERSONALIZE": emulator.url}):
        handle = load_handler(function)
        with pytest.raises(
            Misconfigured, match=rf"^STATE_MACHINE_ARN is '{value}', not a state machine ARN\."
        ) as error:
            handle({}, LambdaContext("ReconcilerFunction", "arn:aws:lambda:us-east-1:012345678912:function:r"))
    assert ("looks like a logical id" in str(error.value) and "--env-vars" in str(error.value)) is logical_id


def test_parse_input_takes_the_account_from_the_template_not_from_the_context(handler) -> None:
    """SAM CLI's context always names account 012345678912; the samples and AWS::AccountId say 123456789012."""
    parse = handler("ParseInputFunction")
    assert FUNCTIONS["ParseInputFunction"].environment["ACCOUNT_ID"] == "123456789012"
    assert parse(event("direct-input.json"))["datasetGroupName"] == "retail-recommendations"


def test_parse_input_without_its_account_is_misconfigured() -> None:
    from dataclasses import replace

    from common.errors import Misconfigured

    function = replace(FUNCTIONS["ParseInputFunction"])
    function.environment = {**function.environment, "ACCOUNT_ID": ""}
    handle = load_handler(function)
    with pytest.raises(Misconfigured, match="ACCOUNT_ID is '', not an AWS account id"):
        handle(event("direct-input.json"), LambdaContext("p", "arn:aws:lambda:us-east-1:123456789012:function:p"))
