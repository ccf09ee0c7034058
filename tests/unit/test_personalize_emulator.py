"""The emulator is faithful where the workflow depends on it: protocol, validation, errors, limits, clock."""

from __future__ import annotations

import json
import threading
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local.faults import Fault, inject
from local.personalize_emulator import PersonalizeEmulator, Timing
from tests.helpers import dataset_group_arn


def error_of(call, **kwargs) -> tuple[str, int]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return raised.value.response["Error"]["Code"], raised.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_speaks_json_1_1_with_the_target_header(emulator: PersonalizeEmulator) -> None:
    request = urllib.request.Request(
        emulator.url,
        data=json.dumps({"name": "raw"}).encode(),
        headers={"X-Amz-Target": "AmazonPersonalize.CreateDatasetGroup", "Content-Type": "application/x-amz-json-1.1"},
    )
    with urllib.request.urlopen(request) as response:
        assert response.headers["Content-Type"] == "application/x-amz-json-1.1"
        assert json.loads(response.read()) == {"datasetGroupArn": dataset_group_arn("raw")}


def test_statuses_carry_spaces_and_move_with_the_clock(personalize, emulator: PersonalizeEmulator) -> None:
    emulator.time_dataset_group("g", Timing(pending=0.3, in_progress=0.3))
    arn = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    seen = []
    for _ in range(8):
        seen.append(personalize.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]["status"])
        time.sleep(0.1)
    assert seen[0] == "CREATE PENDING"
    assert "CREATE IN_PROGRESS" in seen
    assert seen[-1] == "ACTIVE"


def test_arns_have_the_real_shape(personalize) -> None:
    arn = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    assert arn == "arn:aws:personalize:us-east-1:123456789012:dataset-group/g"
    tracker = personalize.create_event_tracker(name="t", datasetGroupArn=arn)
    assert tracker["eventTrackerArn"].startswith("arn:aws:personalize:us-east-1:123456789012:event-tracker/")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "-starts-with-dash"},
        {"name": "x" * 64},
        {"name": "ok", "domain": "GAMES"},
        {"name": "ok", "roleArn": "not-an-arn"},
    ],
)
def test_requests_are_validated_against_botocores_model(personalize, kwargs) -> None:
    client = boto3.client(
        "personalize",
        region_name="us-east-1",
        endpoint_url=personalize.meta.endpoint_url,
        config=Config(parameter_validation=False),
    )
    assert error_of(client.create_dataset_group, **kwargs) == ("InvalidInputException", 400)


def test_one_tracker_per_dataset_group(personalize) -> None:
    arn = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    personalize.create_event_tracker(name="first", datasetGroupArn=arn)
    assert error_of(personalize.create_event_tracker, name="second", datasetGroupArn=arn) == (
        "ResourceAlreadyExistsException",
        400,
    )


def test_no_tracker_before_the_dataset_group_is_active(personalize, emulator: PersonalizeEmulator) -> None:
    emulator.time_dataset_group("g", Timing(pending=60))
    arn = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    assert error_of(personalize.create_event_tracker, name="t", datasetGroupArn=arn)[0] == "ResourceInUseException"


def test_the_tags_limit(personalize) -> None:
    tags = [{"tagKey": f"k{index}", "tagValue": "v"} for index in range(150)]
    arn = personalize.create_dataset_group(name="g", tags=tags)["datasetGroupArn"]
    more = [{"tagKey": f"m{index}", "tagValue": "v"} for index in range(51)]
    assert error_of(personalize.tag_resource, resourceArn=arn, tags=more) == ("TooManyTagsException", 400)
    personalize.tag_resource(resourceArn=arn, tags=more[:50])
    assert len(personalize.list_tags_for_resource(resourceArn=arn)["tags"]) == 200


def test_not_found_and_in_use(personalize) -> None:
    missing = dataset_group_arn("missing")
    assert error_of(personalize.describe_dataset_group, datasetGroupArn=missing) == ("ResourceNotFoundException", 400)
    arn = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    personalize.create_event_tracker(name="t", datasetGroupArn=arn)
    assert error_of(personalize.delete_dataset_group, datasetGroupArn=arn)[0] == "ResourceInUseException"


def test_list_event_trackers_paginates(personalize) -> None:
    for index in range(5):
        arn = personalize.create_dataset_group(name=f"g{index}")["datasetGroupArn"]
        personalize.create_event_tracker(name=f"t{index}", datasetGroupArn=arn)
    pages = list(personalize.get_paginator("list_event_trackers").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(page["eventTrackers"]) for page in pages] == [2, 2, 1]
    assert {t["name"] for page in pages for t in page["eventTrackers"]} == {f"t{i}" for i in range(5)}
    assert "trackingId" not in pages[0]["eventTrackers"][0]
    assert error_of(personalize.list_event_trackers, nextToken="bogus")[0] == "InvalidNextTokenException"
    only = personalize.list_event_trackers(datasetGroupArn=dataset_group_arn("g3"))["eventTrackers"]
    assert [t["name"] for t in only] == ["t3"]


def test_list_dataset_groups_paginates(personalize) -> None:
    for index in range(3):
        personalize.create_dataset_group(name=f"g{index}")
    pages = list(personalize.get_paginator("list_dataset_groups").paginate(PaginationConfig={"PageSize": 2}))
    assert sum(len(page["datasetGroups"]) for page in pages) == 3


def test_a_failed_creation_has_a_reason(personalize, emulator: PersonalizeEmulator) -> None:
    emulator.time_dataset_group("g", Timing(fails_with="bad role"))
    arn = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    group = personalize.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]
    assert (group["status"], group["failureReason"]) == ("CREATE FAILED", "bad role")


def test_injected_errors_then_normal_service(personalize, emulator: PersonalizeEmulator) -> None:
    arn = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    inject(Fault("personalize", "DescribeDatasetGroup", "InternalServerError"), emulator=emulator)
    client = boto3.client(
        "personalize",
        region_name="us-east-1",
        endpoint_url=emulator.url,
        config=Config(retries={"total_max_attempts": 1}),
    )
    assert error_of(client.describe_dataset_group, datasetGroupArn=arn) == ("InternalServerError", 500)
    assert client.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]["status"] == "ACTIVE"


def test_rate_limit_answers_limit_exceeded(personalize, emulator: PersonalizeEmulator) -> None:
    arn = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    inject(Fault("personalize", "DescribeDatasetGroup", per_second=2), emulator=emulator)
    client = boto3.client(
        "personalize",
        region_name="us-east-1",
        endpoint_url=emulator.url,
        config=Config(retries={"total_max_attempts": 1}),
    )
    client.describe_dataset_group(datasetGroupArn=arn)
    client.describe_dataset_group(datasetGroupArn=arn)
    assert error_of(client.describe_dataset_group, datasetGroupArn=arn) == ("LimitExceededException", 400)
    assert emulator.faults.throttled == 1


def test_a_tracker_deleted_while_polled(personalize, emulator: PersonalizeEmulator) -> None:
    arn = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    emulator.time_tracker("g", Timing(deleted_after=0.2))
    tracker = personalize.create_event_tracker(name="t", datasetGroupArn=arn)["eventTrackerArn"]
    time.sleep(0.3)
    assert error_of(personalize.describe_event_tracker, eventTrackerArn=tracker)[0] == "ResourceNotFoundException"


def test_unknown_operations_are_refused(emulator: PersonalizeEmulator) -> None:
    client = boto3.client("personalize", region_name="us-east-1", endpoint_url=emulator.url)
    assert error_of(client.list_campaigns)[0] == "UnknownOperationException"


# ------------------------------------------------------------------ datasets (Action interactions and the others)
SCHEMA = "arn:aws:personalize:us-east-1:123456789012:schema/action-interactions"


def test_an_action_interactions_dataset_reports_its_tracking_id_once_active(
    personalize, emulator: PersonalizeEmulator
) -> None:
    group = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    emulator.time_dataset("g", "action_interactions", Timing(pending=0.3))
    # The API matches datasetType case-insensitively; the ARN and the answers carry it in upper case.
    arn = personalize.create_dataset(
        name="actions", schemaArn=SCHEMA, datasetGroupArn=group, datasetType="Action_Interactions"
    )["datasetArn"]
    assert arn == "arn:aws:personalize:us-east-1:123456789012:dataset/g/ACTION_INTERACTIONS"

    creating = personalize.describe_dataset(datasetArn=arn)["dataset"]
    assert creating["status"] == "CREATE PENDING" and "trackingId" not in creating
    time.sleep(0.4)
    active = personalize.describe_dataset(datasetArn=arn)["dataset"]
    assert active["status"] == "ACTIVE" and active["datasetType"] == "ACTION_INTERACTIONS"
    assert len(active["trackingId"]) == 36
    [summary] = personalize.list_datasets(datasetGroupArn=group)["datasets"]
    assert summary["datasetArn"] == arn and "trackingId" not in summary  # as DatasetSummary's model has it


def test_other_dataset_types_have_no_tracking_id_and_one_of_each_type(personalize) -> None:
    group = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    items = personalize.create_dataset(name="items", schemaArn=SCHEMA, datasetGroupArn=group, datasetType="ITEMS")
    assert "trackingId" not in personalize.describe_dataset(datasetArn=items["datasetArn"])["dataset"]
    again = {"name": "items2", "schemaArn": SCHEMA, "datasetGroupArn": group, "datasetType": "items"}
    assert error_of(personalize.create_dataset, **again)[0] == "ResourceAlreadyExistsException"
    unknown = {"name": "x", "schemaArn": SCHEMA, "datasetGroupArn": group, "datasetType": "Clicks"}
    assert error_of(personalize.create_dataset, **unknown)[0] == "InvalidInputException"


def test_a_dataset_group_with_datasets_cannot_be_deleted_until_they_are_gone(personalize) -> None:
    group = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    arn = personalize.create_dataset(name="a", schemaArn=SCHEMA, datasetGroupArn=group, datasetType="INTERACTIONS")[
        "datasetArn"
    ]
    assert error_of(personalize.delete_dataset_group, datasetGroupArn=group)[0] == "ResourceInUseException"
    personalize.delete_dataset(datasetArn=arn)
    assert error_of(personalize.describe_dataset, datasetArn=arn)[0] == "ResourceNotFoundException"
    personalize.delete_dataset_group(datasetGroupArn=group)
    assert personalize.list_datasets()["datasets"] == []


@pytest.mark.parametrize("changes", [{"name": "-starts-with-dash"}, {"name": "x" * 64}, {"datasetType": "Items2"}])
def test_dataset_requests_are_validated_against_botocores_model(personalize, changes) -> None:
    group = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    client = boto3.client(
        "personalize",
        region_name="us-east-1",
        endpoint_url=personalize.meta.endpoint_url,
        config=Config(parameter_validation=False),
    )
    request = {"name": "ok", "schemaArn": SCHEMA, "datasetGroupArn": group, "datasetType": "ITEMS", **changes}
    assert error_of(client.create_dataset, **request) == ("InvalidInputException", 400)


# ------------------------------------------------------------------ deletion rules (issue 27's sources)
SCHEMA = "arn:aws:personalize:us-east-1:123456789012:schema/s"


def test_a_group_with_a_tracker_cannot_be_deleted_until_the_trackers_deletion_has_finished(
    personalize, emulator: PersonalizeEmulator
) -> None:
    """DeleteDatasetGroup (API reference): its event trackers must be deleted first; a deleted tracker goes through
    DELETE PENDING and DELETE IN_PROGRESS, and blocks the group until it is gone (AWS's clean-up scripts wait for
    ResourceNotFoundException)."""
    emulator.time_tracker("g", Timing(deleting=2.0))
    group = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    tracker = personalize.create_event_tracker(name="t", datasetGroupArn=group)["eventTrackerArn"]
    assert error_of(personalize.delete_dataset_group, datasetGroupArn=group)[0] == "ResourceInUseException"
    personalize.delete_event_tracker(eventTrackerArn=tracker)

    def tracker_status() -> str | None:
        try:
            return str(personalize.describe_event_tracker(eventTrackerArn=tracker)["eventTracker"]["status"])
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ResourceNotFoundException"
            return None

    seen: list[str] = []
    while (status := tracker_status()) is not None:
        seen.append(status)
        try:
            personalize.delete_dataset_group(datasetGroupArn=group)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ResourceInUseException"
        else:  # accepted: only once the tracker had gone (a slow machine may ask just after)
            assert tracker_status() is None, f"the group was deleted while its tracker was {seen[-1]}"
            break
        time.sleep(0.05)
    else:
        personalize.delete_dataset_group(datasetGroupArn=group)
    assert seen[0] == "DELETE PENDING" and "DELETE IN_PROGRESS" in seen


def test_the_item_interactions_dataset_cannot_be_deleted_while_the_group_has_a_tracker(personalize) -> None:
    """Developer guide, "Deleting a dataset": the event tracker goes before the Item interactions dataset."""
    group = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    datasets = {
        kind: personalize.create_dataset(name=kind, schemaArn=SCHEMA, datasetGroupArn=group, datasetType=kind)[
            "datasetArn"
        ]
        for kind in ("Interactions", "Items")
    }
    tracker = personalize.create_event_tracker(name="t", datasetGroupArn=group)["eventTrackerArn"]
    assert error_of(personalize.delete_dataset, datasetArn=datasets["Interactions"])[0] == "ResourceInUseException"
    personalize.delete_dataset(datasetArn=datasets["Items"])  # other types are not held back
    personalize.delete_event_tracker(eventTrackerArn=tracker)
    personalize.delete_dataset(datasetArn=datasets["Interactions"])


def test_a_tracker_still_being_created_cannot_be_deleted(personalize, emulator: PersonalizeEmulator) -> None:
    """Developer guide, clean-up: nothing in CREATE PENDING or CREATE IN_PROGRESS can be deleted."""
    emulator.time_tracker("g", Timing(pending=0.3, in_progress=0.3))
    group = personalize.create_dataset_group(name="g")["datasetGroupArn"]
    tracker = personalize.create_event_tracker(name="t", datasetGroupArn=group)["eventTrackerArn"]
    assert error_of(personalize.delete_event_tracker, eventTrackerArn=tracker)[0] == "ResourceInUseException"
    time.sleep(0.7)
    personalize.delete_event_tracker(eventTrackerArn=tracker)


def test_stopping_ends_the_connections_its_clients_keep_alive() -> None:
    """A client's kept-alive connection held a server thread, and with it the stopped emulator and all its state,
    for as long as the client lived (every emulator of a test worker, before)."""
    before = set(threading.enumerate())
    emulator = PersonalizeEmulator()
    emulator.start()
    client = boto3.client("personalize", region_name="us-east-1", endpoint_url=emulator.url)
    client.list_dataset_groups()
    serving = [t for t in set(threading.enumerate()) - before if "process_request" in t.name]
    assert serving  # the connection's own thread, waiting for the client's next request

    emulator.stop()

    for thread in serving:
        thread.join(5)
    assert not any(thread.is_alive() for thread in serving)
    client.close()
