"""Sweeper: parameters of a deleted dataset group or Action interactions dataset go; nothing else is touched."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from sweeper.app import Sweep, ours_by_name

from common.clients import PACED_MAX_ATTEMPTS, Deadline, OutOfTime, personalize_client, worst_call_seconds
from common.parameters import TAG_DATASET_ARN, TAG_DATASET_GROUP_ARN, TAG_EVENT_TRACKER_ARN
from local import personalize_emulator
from local.faults import Fault, inject
from local.personalize_emulator import PersonalizeEmulator, Timing
from tests.helpers import dataset_group_arn

PREFIX = "/personalize"
SCHEMA = "arn:aws:personalize:us-east-1:123456789012:schema/s"


NO_TRACKER = "arn:aws:personalize:us-east-1:123456789012:event-tracker/0badf00d"


def written(ssm: Any, group: str, dataset: str = "", name: str = "", tracker: str = NO_TRACKER) -> str:
    """A parameter as the workflow writes it: the group's tracker's, or its Action interactions dataset's."""
    name = name or f"{PREFIX}/{group}/{'action-tracking-id' if dataset else 'tracking-id'}"
    tags = {TAG_DATASET_GROUP_ARN: dataset_group_arn(group)}
    tags.update({TAG_DATASET_ARN: dataset} if dataset else {TAG_EVENT_TRACKER_ARN: tracker})
    ssm.put_parameter(Name=name, Value="id", Type="String", Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    return name


def names(ssm: Any) -> list[str]:
    return sorted(p["Name"] for p in ssm.describe_parameters(MaxResults=50)["Parameters"])


def action_dataset(personalize: Any, group: str) -> str:
    return str(
        personalize.create_dataset(
            name=f"{group}-a",
            schemaArn=SCHEMA,
            datasetGroupArn=dataset_group_arn(group),
            datasetType="ACTION_INTERACTIONS",
        )["datasetArn"]
    )


def test_a_deleted_dataset_groups_parameters_go_and_nothing_else(ssm: Any, personalize: Any) -> None:
    personalize.create_dataset_group(name="live")
    tracker = personalize.create_event_tracker(name="t", datasetGroupArn=dataset_group_arn("live"))["eventTrackerArn"]
    live = [written(ssm, "live", tracker=tracker), written(ssm, "live", action_dataset(personalize, "live"))]
    gone = [written(ssm, "gone"), written(ssm, "gone", "arn:aws:personalize:us-east-1:123456789012:dataset/gone/A")]
    ssm.put_parameter(Name=f"{PREFIX}/gone/tracking-id-copy", Value="by hand", Type="String")
    ssm.put_parameter(Name=f"{PREFIX}/other/tracking-id", Value="by hand, no tag", Type="String")

    report = Sweep(personalize, ssm, PREFIX).run()

    assert sorted(report.swept) == sorted(gone)
    assert all("dataset group" in why for why in report.swept.values())
    assert report.checked == 4 and report.unchecked == {} and not report.continued
    assert names(ssm) == sorted([*live, f"{PREFIX}/gone/tracking-id-copy", f"{PREFIX}/other/tracking-id"])


def test_a_deleted_action_dataset_takes_only_its_parameter(ssm: Any, personalize: Any) -> None:
    personalize.create_dataset_group(name="g")
    dataset = action_dataset(personalize, "g")
    tracker = personalize.create_event_tracker(name="t", datasetGroupArn=dataset_group_arn("g"))["eventTrackerArn"]
    tracker_parameter, action_parameter = written(ssm, "g", tracker=tracker), written(ssm, "g", dataset)
    personalize.delete_dataset(datasetArn=dataset)

    report = Sweep(personalize, ssm, PREFIX).run()

    assert list(report.swept) == [action_parameter]
    assert "Action interactions dataset" in report.swept[action_parameter]
    assert names(ssm) == [tracker_parameter]


@pytest.mark.parametrize("kind", ["group", "dataset"])
def test_being_deleted_counts_as_gone(ssm: Any, personalize: Any, emulator: PersonalizeEmulator, kind: str) -> None:
    emulator.time_dataset_group("g", Timing(deleting=60))
    emulator.time_dataset("g", "ACTION_INTERACTIONS", Timing(deleting=60))
    personalize.create_dataset_group(name="g")
    dataset = action_dataset(personalize, "g")
    parameter = written(ssm, "g", dataset)
    personalize.delete_dataset(datasetArn=dataset)
    if kind == "group":
        emulator.time_dataset("g", "ACTION_INTERACTIONS", Timing())  # gone, so that the group can be deleted
        personalize.delete_dataset_group(datasetGroupArn=dataset_group_arn("g"))
        assert personalize.describe_dataset_group(datasetGroupArn=dataset_group_arn("g"))["datasetGroup"][
            "status"
        ].startswith("DELETE")
    assert list(Sweep(personalize, ssm, PREFIX).run().swept) == [parameter]


@pytest.mark.parametrize("code", ["AccessDeniedException", "LimitExceededException", "InvalidInputException"])
def test_a_check_that_fails_leaves_the_parameter_for_the_next_run(
    ssm: Any, emulator: PersonalizeEmulator, code: str, no_client_backoff: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_PERSONALIZE", emulator.url)
    personalize = personalize_client(paced=True)  # the sweeper's own client: adaptive, PACED_MAX_ATTEMPTS
    parameter = written(ssm, "gone")
    # Throttling through all of the client's attempts; the other codes are not retried.
    inject(
        Fault(
            "personalize",
            "DescribeDatasetGroup",
            code,
            times=PACED_MAX_ATTEMPTS if code == "LimitExceededException" else 1,
        ),
        emulator=emulator,
    )

    first = Sweep(personalize, ssm, PREFIX).run()

    assert first.swept == {} and list(first.unchecked) == [parameter] and code in first.unchecked[parameter]
    assert first.checked == 0 and names(ssm) == [parameter]
    assert list(Sweep(personalize, ssm, PREFIX).run().swept) == [parameter]  # Personalize answers: it goes


def test_only_the_names_the_application_writes_are_read(ssm: Any, personalize: Any) -> None:
    assert ours_by_name(PREFIX, f"{PREFIX}/g/tracking-id") and ours_by_name(PREFIX, f"{PREFIX}/g/action-tracking-id")
    assert not ours_by_name(PREFIX, f"{PREFIX}/g/notes") and not ours_by_name(PREFIX, f"{PREFIX}/a/b/tracking-id")
    tagged_elsewhere = written(ssm, "gone", name=f"{PREFIX}/gone/notes")  # our tag, someone else's name
    assert Sweep(personalize, ssm, PREFIX).run().as_dict() == {
        "checked": 0,
        "swept": {},
        "unchecked": {},
        "continued": False,
    }
    assert names(ssm) == [tagged_elsewhere]


def test_a_big_prefix_continues_after_the_last_name_it_checked(ssm: Any, personalize: Any) -> None:
    stale = sorted(written(ssm, f"gone-{index:02}") for index in range(12))
    handed: list[str] = []
    clock = iter([100.0, 100.0, 100.0, 0.0])  # time left before each parameter after the first: then too little

    first = Sweep(personalize, ssm, PREFIX, seconds_left=lambda: next(clock, 0.0), hand_over=handed.append).run()

    assert first.continued and handed == [stale[3]] and sorted(first.swept) == stale[:4]
    second = Sweep(personalize, ssm, PREFIX).run(after=handed[0])  # the new invocation
    assert sorted(second.swept) == stale[4:] and not second.continued
    assert names(ssm) == []


def test_a_deleted_trackers_parameter_is_left_to_the_reconciler_while_its_group_lives(
    ssm: Any, personalize: Any
) -> None:
    """Someone deleted the tracker: the reconciler records who (a hold) before the parameter goes."""
    for group in ("bare", "replaced"):
        personalize.create_dataset_group(name=group)
    old = personalize.create_event_tracker(name="old", datasetGroupArn=dataset_group_arn("replaced"))["eventTrackerArn"]
    personalize.delete_event_tracker(eventTrackerArn=old)
    personalize.create_event_tracker(name="new", datasetGroupArn=dataset_group_arn("replaced"))  # the workflow's
    bare, replaced = written(ssm, "bare"), written(ssm, "replaced", tracker=old)

    report = Sweep(personalize, ssm, PREFIX).run()

    assert report.swept == {} and report.checked == 2
    assert names(ssm) == sorted([bare, replaced])


def test_the_tracking_id_of_an_earlier_group_of_the_same_name_goes(
    ssm: Any, personalize: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group deleted, its parameter left (its events lost, the teardown throttled), then made again (opted out,
    so no workflow overwrites the parameter): the parameter, older than the group, names the old group's tracker."""
    personalize.create_dataset_group(name="g")
    old = personalize.create_event_tracker(name="t", datasetGroupArn=dataset_group_arn("g"))["eventTrackerArn"]
    earlier = written(ssm, "g", tracker=old)
    personalize.delete_event_tracker(eventTrackerArn=old)
    personalize.delete_dataset_group(datasetGroupArn=dataset_group_arn("g"))
    # The tracker's deletion, then the group's, take Personalize half a minute or more: the group is made later.
    later = SimpleNamespace(time=lambda: time.time() + 30, monotonic=time.monotonic, sleep=time.sleep)
    monkeypatch.setattr(personalize_emulator, "time", later)
    personalize.create_dataset_group(name="g")
    other = written(ssm, "other")  # a parameter of a group that never existed again: the group check's, as before

    report = Sweep(personalize, ssm, PREFIX).run()

    assert report.swept.keys() == {earlier, other}
    assert "earlier dataset group" in report.swept[earlier] and "written before it was made" in report.swept[earlier]
    assert names(ssm) == []
    # One written after its group was made, even within the same second, is the group's own: the test above.


def test_a_call_that_could_outlast_the_invocation_is_not_begun_and_the_rest_is_handed_over(
    ssm: Any, personalize: Any
) -> None:
    """However the calls hang: once too little time is left for one attempt and the hand-over, no attempt begins."""
    stale = sorted(written(ssm, f"gone-{index:02}") for index in range(4))
    deadline = Deadline(reserve=worst_call_seconds())
    watched_ssm = deadline.watch(boto3.client("ssm", region_name="us-east-1"))
    left = [1000.0]
    handed: list[str] = []

    class Slow:  # each DescribeDatasetGroup takes a long time: the clock drops below what an attempt needs
        def __getattr__(self, name: str) -> Any:
            return getattr(personalize, name)

        def describe_dataset_group(self, **kwargs: Any) -> Any:
            left[0] -= 500
            return personalize.describe_dataset_group(**kwargs)

    report = Sweep(
        deadline.watch(Slow()), watched_ssm, PREFIX, seconds_left=lambda: left[0], hand_over=handed.append,
        deadline=deadline,
    ).run()  # fmt: skip

    assert report.continued and handed == [stale[0]] and list(report.swept) == [stale[0]]
    assert names(ssm) == stale[1:]


def test_the_deadline_refuses_an_attempt_without_sending_it(ssm: Any) -> None:
    deadline = Deadline(reserve=10)
    client = deadline.watch(boto3.client("ssm", region_name="us-east-1"))
    deadline.seconds_left = lambda: deadline.needed + 1
    assert client.describe_parameters()["Parameters"] == []
    deadline.seconds_left = lambda: deadline.needed - 0.1
    with pytest.raises(OutOfTime, match="left"):
        client.describe_parameters()
