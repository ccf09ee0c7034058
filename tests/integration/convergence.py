"""The account converges whatever happens to the events: a model of the world for Hypothesis' stateful testing.

The application runs on the local engine with the Personalize emulator (and its deletion rules: a tracker takes
a while to go, and blocks its group and its Item interactions dataset until it has). People create dataset groups
with their Item interactions datasets, create and delete Action interactions datasets, delete trackers, start the
workflow by hand and write parameters of their own; groups are torn down by a person (the tracker first), by a
script that never made a tracker (retrying when refused) and by a CloudFormation stack (through the application's
Lambda hook); every API call's CloudTrail event, refusals included, is delivered once, twice, late (after a later
event) or never; throttling and transient faults of Personalize and of SSM come and go; an hour passes now and
then, and with it the schedule (reconciler and sweeper). After each hour, once the engine has settled:

- every live ACTIVE dataset group that is not opted out, whose tracker no person deleted since the last start by
  hand, and that the application did not release for a deletion, has exactly one tracker, and its parameter holds
  that tracker's trackingId;
- a group whose tracker a person deleted has none (no tracker is made after a person deleted one, unless started
  by hand);
- every live ACTIVE Action interactions dataset of such a group has its action-tracking-id parameter, holding the
  dataset's trackingId;
- no parameter that carries the application's tag names a resource that no longer exists (a hold names its gone
  tracker on purpose: it only must not outlive its group);
- every parameter the application did not write is untouched.

And at every step: no deletion is refused twice because of the application's tracker once a refusal's event was
delivered (a stack's, through the hook, not even once); no delivered event removes the parameter of a live group
whose tracker lives.

Used by tests/integration/test_convergence.py (a fixed budget in `make test`) and bench/convergence.py (the soak).
"""

from __future__ import annotations

import contextlib
import functools
import io
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from common.holds import HOLD
from common.parameters import TAG_DATASET_ARN, TAG_DATASET_GROUP_ARN, TAG_EVENT_TRACKER_ARN
from local.engine import LocalEngine
from local.faults import Fault, clear, inject
from local.personalize_emulator import PersonalizeEmulator, ServiceError, Timing
from tests.fakes import cloudtrail as trail
from tests.fakes.cloudformation import LocalCloudFormation, Stack, StackResource
from tests.helpers import ACCOUNT, FAST, REGION, dataset_group_arn, event

GROUPS = ("alpha", "beta", "gamma")
SKIP_TAG = {"tagKey": "event-tracker-provisioner:skip", "tagValue": "true"}
SCHEMA = f"arn:aws:personalize:{REGION}:{ACCOUNT}:schema/convergence"
PREFIX = "/personalize"
FATES = ("once", "twice", "late", "lost")
# A deletion's event is lost more often than not here: that is what leaves a stale parameter, and what this is about.
DELETION_FATES = st.sampled_from(("lost", "lost", "once", "twice", "late"))
STEPS_BETWEEN_HOURS = 3
# Operations the workflow, the reconciler and the sweeper call, and the faults that come and go on them.
FAULTY = ("DescribeDatasetGroup", "ListEventTrackers", "CreateEventTracker", "DescribeEventTracker",
          "DescribeDataset", "ListDatasetGroups", "ListDatasets")  # fmt: skip
FAULTS = ("LimitExceededException", "InternalServerError")
# SSM's: a write, its tagging or a deletion throttled or failing (each as the call fails once botocore gave up),
# with the errors SSM's API reference gives each (TooManyUpdates is PutParameter's and AddTagsToResource's only).
SSM_FAULTS = (("PutParameter", "TooManyUpdates"), ("AddTagsToResource", "TooManyUpdates"))
SSM_FAULTS += tuple((operation, code) for operation in ("PutParameter", "AddTagsToResource", "DeleteParameter")
                    for code in ("ThrottlingException", "InternalServerError"))  # fmt: skip
SETTLE_SECONDS = 120.0
WAIT_SCALE = 0.05
TRACKER_DELETION = Timing(deleting=4)  # 0.2 s of real time: a tracker blocks its group's deletion a while
SCRIPT_TRIES = 4  # a script's tries at a deletion Personalize refuses
# A refusal's event: delivered (the next try must not be refused because of the application's tracker) or lost.
REFUSAL_FATES = st.sampled_from(("once", "twice", "lost"))
# Throttling and transient faults that come with a person's action: the next calls of an operation fail.
WEATHER = st.lists(
    st.one_of(
        st.tuples(st.just("personalize"), st.sampled_from(FAULTY), st.sampled_from(FAULTS), st.integers(1, 4)),
        st.builds(lambda fault, times: ("ssm", *fault, times), st.sampled_from(SSM_FAULTS), st.integers(1, 4)),
    ),
    max_size=2,
)
Weather = list[tuple[str, str, str, int]]
START = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


@dataclass
class Tally:
    """What a run of the model did: its figures go into bench/results.md."""

    steps: int = 0
    hours: int = 0
    fates: Counter[str] = field(default_factory=Counter)
    faults: int = 0
    ssm_faults: int = 0  # of `faults`
    violations: list[str] = field(default_factory=list)
    refusals: int = 0  # deletions Personalize refused (the application's tracker, or a person's not gone yet)
    releases: int = 0  # trackers the application removed so that a deletion went through
    stack_deletions: int = 0
    unknown_deletions: int = 0  # trackers deleted before the application stored their ID


TALLY = Tally()


def cloudtrail(name: str, request: dict[str, Any], response: dict[str, Any] | None, at: datetime) -> dict[str, Any]:
    """The CloudTrail event of a successful Personalize call, as EventBridge delivers it."""
    sample = event("create-dataset-group.json")
    sample["time"] = sample["detail"]["eventTime"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    sample["detail"].update(eventName=name, requestParameters=request, responseElements=response)
    return sample


def step(method: Callable[..., None]) -> Callable[..., None]:
    """A rule that records whether it completed: the final hour (teardown) runs only after a step that did."""

    @functools.wraps(method)
    def run(self: Convergence, *args: Any, **kwargs: Any) -> None:
        self.completed = False
        method(self, *args, **kwargs)
        self.completed, self.since_hour = True, self.since_hour + 1

    return run


class Convergence(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._quiet = contextlib.redirect_stdout(io.StringIO())  # the handlers' log lines
        self._quiet.__enter__()
        self.emulator = PersonalizeEmulator(ACCOUNT, REGION)
        self.emulator.start()
        # The engine's clock at WAIT_SCALE: the emulator's resources are ready at once, so a wait changes nothing
        # here but the run's length; the deadline stays 30 s of real time (botocore's backoff sleeps are real).
        self.emulator.tracker_timing = TRACKER_DELETION
        self.stack = LocalEngine(
            self.emulator, {**FAST, "ProvisioningTimeoutSeconds": round(30 / WAIT_SCALE)}, time_scale=WAIT_SCALE
        )
        self.stack.__enter__()
        self.cloudformation = LocalCloudFormation(self.stack)
        self.clock = START
        self.late: list[dict[str, Any]] = []  # events held back, delivered after the next one
        self.by_hand: dict[str, str] = {}  # parameters people wrote: name -> value
        self.opted_out: set[str] = set()
        self.deleted_by_person: set[str] = set()  # groups whose tracker a person deleted since the last start by hand
        self.completed, self.since_hour = True, 0

    def teardown(self) -> None:
        try:
            if self.completed and self.since_hour:  # every example ends with an hour and its check
                self.an_hour_passes()
        finally:
            self.stack.__exit__(None, None, None)
            self.emulator.stop()
            self._quiet.__exit__(None, None, None)

    # ------------------------------------------------------------ the world
    def live_group(self, name: str) -> dict[str, Any] | None:
        try:
            group = self.call("DescribeDatasetGroup", datasetGroupArn=dataset_group_arn(name))["datasetGroup"]
        except ServiceError:
            return None
        return None if group["status"].startswith("DELETE") else dict(group)

    def action_dataset(self, name: str) -> dict[str, Any] | None:
        datasets = self.call("ListDatasets", datasetGroupArn=dataset_group_arn(name))["datasets"]
        actions = [d for d in datasets if d["datasetType"].upper() == "ACTION_INTERACTIONS"]
        if not actions:
            return None
        return dict(self.call("DescribeDataset", datasetArn=actions[0]["datasetArn"])["dataset"])

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """A person's call: the faults are on the application's calls, not on these."""
        return self.emulator.handle(operation, params, faults=False)

    # ------------------------------------------------------------ CloudTrail and EventBridge
    def emit(self, cloudtrail_event: dict[str, Any], fate: str) -> None:
        TALLY.fates[fate] += 1
        if fate == "lost":
            return
        if fate == "late":
            self.late.append(cloudtrail_event)
            return
        self.deliver(cloudtrail_event)
        if fate == "twice":
            self.deliver(cloudtrail_event)
        for held in self.late:  # those held back arrive after this later one
            self.deliver(held)
        self.late.clear()

    def deliver(self, cloudtrail_event: dict[str, Any]) -> None:
        """What the rules would do with it (start executions, invoke the teardown or the release), and no live
        group whose tracker lives loses its parameter to it."""
        before = self.parameters_of_live_groups()
        self.stack.deliver(cloudtrail_event)
        after = self.parameters_of_live_groups()
        for name, tracker in sorted(before.items()):
            if name not in after and tracker in self.live_trackers():
                problem = f"{cloudtrail_event['detail']['eventName']} event removed {name} of a live group and tracker"
                TALLY.violations.append(problem)
                raise AssertionError(problem)

    def live_trackers(self) -> set[str]:
        """Trackers of live groups that are not being deleted."""
        return {
            t["eventTrackerArn"]
            for name in GROUPS
            if self.live_group(name) is not None
            for t in self.emulator.trackers_of(name)
            if not t["status"].startswith("DELETE")
        }

    def parameters_of_live_groups(self) -> dict[str, str]:
        """tracking-id parameter -> the live tracker of its live group it names."""
        live = self.live_trackers()
        found = {}
        for name in GROUPS:
            parameter = self.stack.parameter(f"{PREFIX}/{name}/tracking-id")
            if parameter is not None and parameter["Tags"].get(TAG_EVENT_TRACKER_ARN) in live:
                found[f"{PREFIX}/{name}/tracking-id"] = parameter["Tags"][TAG_EVENT_TRACKER_ARN]
        return found

    def settle(self) -> None:
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            running = self.stack.sfn.list_executions(
                stateMachineArn=self.stack.state_machine_arn, statusFilter="RUNNING"
            )
            if not running["executions"]:
                return
            assert time.monotonic() < deadline, f"executions still running after {SETTLE_SECONDS} s"
            time.sleep(0.1)

    # ------------------------------------------------------------ people
    def absent(self) -> list[str]:
        return [name for name in GROUPS if self.live_group(name) is None]

    def present(self) -> list[str]:
        return [name for name in GROUPS if self.live_group(name) is not None]

    def with_actions(self) -> list[str]:
        return [name for name in self.present() if self.action_dataset(name) is not None]

    def without_actions(self) -> list[str]:
        return [name for name in self.present() if self.action_dataset(name) is None]

    def with_tracker(self) -> list[str]:
        return [name for name in self.present() if self.emulator.trackers_of(name)]

    @precondition(lambda self: self.absent())
    @rule(weather=WEATHER, data=st.data(), opted_out=st.booleans(), fate=st.sampled_from(FATES))
    @step
    def create_dataset_group(self, weather: Weather, data: st.DataObject, opted_out: bool, fate: str) -> None:
        self.faults_come(weather)
        name = data.draw(st.sampled_from(self.absent()), label="dataset group")
        request = {"name": name, **({"tags": [SKIP_TAG]} if opted_out else {})}
        response = self.call("CreateDatasetGroup", **request)
        (self.opted_out.add if opted_out else self.opted_out.discard)(name)
        self.deleted_by_person.discard(name)
        self.emit(cloudtrail("CreateDatasetGroup", request, response, self.clock), fate)
        interactions = {"name": f"{name}-interactions", "schemaArn": SCHEMA,
                        "datasetGroupArn": response["datasetGroupArn"], "datasetType": "Interactions"}  # fmt: skip
        created = self.call("CreateDataset", **interactions)
        self.emit(cloudtrail("CreateDataset", interactions, created, self.clock), data.draw(st.sampled_from(FATES)))

    @precondition(lambda self: self.present())
    @rule(weather=WEATHER, data=st.data(), fates=st.lists(DELETION_FATES, min_size=3, max_size=3))
    @step
    def delete_dataset_group(self, weather: Weather, data: st.DataObject, fates: list[str]) -> None:
        """Its tracker and datasets first, as Personalize requires; each call has its own event."""
        self.faults_come(weather)
        name = data.draw(st.sampled_from(self.present()), label="dataset group")
        self.settle()  # an execution in flight would create the tracker again under the person's feet
        for tracker in self.emulator.trackers_of(name):
            self.delete_tracker_arn(tracker["eventTrackerArn"], fates[0])
        if (dataset := self.action_dataset(name)) is not None:
            self.call("DeleteDataset", datasetArn=dataset["datasetArn"])
            self.emit(cloudtrail("DeleteDataset", {"datasetArn": dataset["datasetArn"]}, None, self.clock), fates[1])
        for arn in self.datasets(name):  # the Item interactions dataset: once the tracker is gone, as they wait
            self.until_accepted("DeleteDataset", datasetArn=arn)
        request = {"datasetGroupArn": dataset_group_arn(name)}
        self.until_accepted("DeleteDatasetGroup", **request)
        self.emit(cloudtrail("DeleteDatasetGroup", request, None, self.clock), fates[2])

    def datasets(self, name: str) -> list[str]:
        return [d["datasetArn"] for d in self.call("ListDatasets", datasetGroupArn=dataset_group_arn(name))["datasets"]]

    def until_accepted(self, operation: str, **request: Any) -> None:
        """A person's call, tried again (as AWS's clean-up scripts do) while Personalize refuses it; its event lost."""
        for _ in range(100):
            try:
                self.call(operation, **request)
                return
            except ServiceError as error:
                if error.code != "ResourceInUseException":
                    raise
                TALLY.refusals += 1
                time.sleep(0.05)
        raise AssertionError(f"{operation} {request} still refused")

    @precondition(lambda self: self.present())
    @rule(weather=WEATHER, data=st.data(), fates=st.lists(REFUSAL_FATES, min_size=SCRIPT_TRIES, max_size=SCRIPT_TRIES))
    @step
    def script_deletes_group(self, weather: Weather, data: st.DataObject, fates: list[str]) -> None:
        """A script that never made a tracker deletes the group's datasets, then the group, trying again when
        refused: once a refusal's event was delivered, the application's tracker must not refuse it again."""
        self.faults_come(weather)
        name = data.draw(st.sampled_from(self.present()), label="dataset group")
        self.settle()
        delivered = False
        steps = [("DeleteDataset", {"datasetArn": arn}) for arn in self.datasets(name)]
        steps.append(("DeleteDatasetGroup", {"datasetGroupArn": dataset_group_arn(name)}))
        for operation, request in steps:
            for attempt in range(SCRIPT_TRIES):
                _, record = trail.call(self.stack.personalize, operation, None, **request)
                if "errorCode" not in record["detail"]:
                    self.emit(record, "once")
                    break
                TALLY.refusals += 1
                blocked = self.application_tracker(name)
                dead_lettered = any(target == "ReleaseTrackerFunction" for target, _ in self.stack.dead_letters)
                if delivered and blocked and not dead_lettered:  # (a release that failed thrice: its alarm's)
                    problem = f"{operation} of {name} refused again because of the application's tracker {blocked}"
                    TALLY.violations.append(problem)
                    raise AssertionError(problem)
                fate = fates[attempt]
                delivered = fate != "lost"
                if delivered and blocked:
                    TALLY.releases += 1
                self.emit(record, fate)
            else:
                return  # the script gives up; the group stays as it is

    def application_tracker(self, name: str) -> str | None:
        """The group's tracker if the application made it (the made-by tag), else None."""
        for tracker in self.emulator.trackers_of(name):
            tags = self.call("ListTagsForResource", resourceArn=tracker["eventTrackerArn"])["tags"]
            if {"tagKey": "event-tracker-provisioner:made-by", "tagValue": "event-tracker-provisioner"} in tags:
                return str(tracker["eventTrackerArn"])
        return None

    @precondition(lambda self: self.present())
    @rule(weather=WEATHER, data=st.data())
    @step
    def stack_deletes_group(self, weather: Weather, data: st.DataObject) -> None:
        """The group was a stack's: CloudFormation deletes its datasets and the group, through the hook, and
        retries the stack once if it ended in DELETE_FAILED."""
        self.faults_come(weather)
        name = data.draw(st.sampled_from(self.present()), label="dataset group")
        self.settle()
        group = dataset_group_arn(name)
        resources = [
            StackResource(f"Dataset{index}", "AWS::Personalize::Dataset", self.dataset_properties(arn, group), arn)
            for index, arn in enumerate(self.datasets(name))
        ]
        resources.append(StackResource("Group", "AWS::Personalize::DatasetGroup", {"Name": name}, group))
        TALLY.stack_deletions += 1
        stack = Stack(name, list(reversed(resources)))  # made in creation order: the group, then its datasets
        self.cloudformation.claim(stack)
        first = self.cloudformation.delete_stack(stack)
        if first.status == "DELETE_COMPLETE":
            return
        TALLY.refusals += len(first.refused)
        hook_succeeded = bool(first.hook_answers) and first.hook_answers[-1]["hookStatus"] == "SUCCESS"
        if self.application_tracker(name) and hook_succeeded:
            problem = f"the stack deleting {name} was refused after the hook answered SUCCESS"
            TALLY.violations.append(problem)
            raise AssertionError(problem)
        self.clear_faults()  # Personalize answers again by the time someone retries the stack
        retry = self.cloudformation.delete_stack(stack.without(*first.deleted))
        if retry.status != "DELETE_COMPLETE":
            problem = f"the stack deleting {name} failed twice: {first.refused} then {retry.refused}"
            TALLY.violations.append(problem)
            raise AssertionError(problem)

    def dataset_properties(self, arn: str, group: str) -> dict[str, Any]:
        dataset = self.call("DescribeDataset", datasetArn=arn)["dataset"]
        return {"Name": dataset["name"], "DatasetType": dataset["datasetType"].title(), "DatasetGroupArn": group,
                "SchemaArn": SCHEMA}  # fmt: skip

    @precondition(lambda self: self.present())
    @rule(data=st.data())
    @step
    def start_by_hand(self, data: st.DataObject) -> None:
        """A person brings the tracker back (or just starts the workflow, as for a backfill)."""
        name = data.draw(st.sampled_from(self.present()), label="dataset group")
        self.settle()
        self.stack.start({"datasetGroupArn": dataset_group_arn(name)})
        self.deleted_by_person.discard(name)

    @precondition(lambda self: self.without_actions())
    @rule(weather=WEATHER, data=st.data(), fate=st.sampled_from(FATES))
    @step
    def create_action_interactions_dataset(self, weather: Weather, data: st.DataObject, fate: str) -> None:
        self.faults_come(weather)
        name = data.draw(st.sampled_from(self.without_actions()), label="dataset group")
        request = {"name": f"{name}-actions", "schemaArn": SCHEMA, "datasetGroupArn": dataset_group_arn(name),
                   "datasetType": "Action_Interactions"}  # fmt: skip
        response = self.call("CreateDataset", **request)
        self.emit(cloudtrail("CreateDataset", request, response, self.clock), fate)

    @precondition(lambda self: self.with_actions())
    @rule(weather=WEATHER, data=st.data(), fate=DELETION_FATES)
    @step
    def delete_action_interactions_dataset(self, weather: Weather, data: st.DataObject, fate: str) -> None:
        self.faults_come(weather)
        name = data.draw(st.sampled_from(self.with_actions()), label="dataset group")
        dataset = self.action_dataset(name)
        assert dataset is not None
        self.call("DeleteDataset", datasetArn=dataset["datasetArn"])
        self.emit(cloudtrail("DeleteDataset", {"datasetArn": dataset["datasetArn"]}, None, self.clock), fate)

    @precondition(lambda self: self.with_tracker())
    @rule(weather=WEATHER, data=st.data(), fate=DELETION_FATES)
    @step
    def delete_tracker_by_hand(self, weather: Weather, data: st.DataObject, fate: str) -> None:
        self.faults_come(weather)
        name = data.draw(st.sampled_from(self.with_tracker()), label="dataset group")
        for tracker in self.emulator.trackers_of(name):
            self.delete_tracker_arn(tracker["eventTrackerArn"], fate)

    def delete_tracker_arn(self, arn: str, fate: str) -> None:
        self.settle()
        try:
            group = self.call("DescribeEventTracker", eventTrackerArn=arn)["eventTracker"]["datasetGroupArn"]
        except ServiceError as error:  # gone while the runs under way settled (a release, a teardown)
            if error.code != "ResourceNotFoundException":
                raise
            return
        name = group.rsplit("/", 1)[1]
        stored = self.stack.parameter(f"{PREFIX}/{name}/tracking-id")
        try:
            self.call("DeleteEventTracker", eventTrackerArn=arn)
        except ServiceError as error:  # already being deleted (a person's, or the application's release)
            if error.code != "ResourceInUseException":
                raise
            return
        # The application knows a tracker it stored the ID of (or, from its event, one still being deleted). One
        # whose execution failed before storing it, deleted with its event missed, is a tracker it never had: the
        # group is provisioned again like any group missing its tracker (docs/operations.md says so).
        if stored is not None and stored["Tags"].get(TAG_EVENT_TRACKER_ARN) == arn:
            self.deleted_by_person.add(name)
        else:
            TALLY.unknown_deletions += 1
        self.emit(cloudtrail("DeleteEventTracker", {"eventTrackerArn": arn}, None, self.clock), fate)

    @precondition(lambda self: len(self.by_hand) < 3)
    @rule(name=st.sampled_from(GROUPS), suffix=st.sampled_from(("notes", "tracking-id-copy", "config/tracking-id")))
    @step
    def create_parameter_by_hand(self, name: str, suffix: str) -> None:
        parameter = f"{PREFIX}/{name}/{suffix}"
        value = f"written by hand at {self.clock:%H}"
        self.stack.ssm.put_parameter(Name=parameter, Value=value, Type="String", Overwrite=True)
        self.by_hand[parameter] = value

    # ------------------------------------------------------------ faults
    def faults_come(self, weather: Weather) -> None:
        """Faults on the application's next calls; they go once used up, or when the hour passes."""
        for service, operation, code, times in weather:
            if service == "ssm":  # the functions' SSM calls, in the local engine
                inject(Fault(service, operation, code, times=times), self.stack)
                TALLY.ssm_faults += times
            else:
                inject(Fault("personalize", operation, code, times=times), emulator=self.emulator)
            TALLY.faults += times

    def clear_faults(self) -> None:
        clear(self.stack)

    # ------------------------------------------------------------ time
    @precondition(lambda self: self.since_hour >= STEPS_BETWEEN_HOURS)  # something happens within each hour
    @rule()
    @step
    def an_hour_passes(self) -> None:
        """The late events arrive, faults clear (Personalize answers), the engine settles, the schedule runs."""
        TALLY.hours += 1
        for held in self.late:
            self.deliver(held)
        self.late.clear()
        self.clear_faults()
        self.settle()
        self.clock += timedelta(hours=1)
        scheduled = {**event("scheduled-event.json"), "time": self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")}
        self.stack.call("ReconcilerFunction", scheduled)
        self.settle()
        self.stack.call("SweeperFunction", scheduled)
        self.since_hour = -1  # counted back to 0 by @step
        self.check()

    @invariant()
    def count_steps(self) -> None:
        TALLY.steps += 1

    def check(self) -> None:
        problems = self.problems()
        TALLY.violations.extend(problems)
        assert problems == [], problems

    # ------------------------------------------------------------ the invariant
    def problems(self) -> list[str]:
        problems = []
        for name in GROUPS:
            group = self.live_group(name)
            if group is None or group["status"] != "ACTIVE" or name in self.opted_out:
                continue
            trackers = self.emulator.trackers_of(name)
            if name in self.deleted_by_person:
                if trackers:
                    problems.append(f"{name}: a tracker was made after a person deleted one")
                continue
            hold = self.stack.parameter(f"{PREFIX}/{name}/{HOLD}")
            if hold is not None and '"released"' in hold["Value"] and not trackers:
                continue  # released for a deletion that has not finished: back on a new Item interactions dataset
            if len(trackers) != 1:
                problems.append(f"{name}: {len(trackers)} trackers")
                continue
            parameter = self.stack.parameter(f"{PREFIX}/{name}/tracking-id")
            if parameter is None or parameter["Value"] != trackers[0]["trackingId"]:
                problems.append(
                    f"{name}: tracking-id {parameter and parameter['Value']} != {trackers[0]['trackingId']}"
                )
            dataset = self.action_dataset(name)
            if dataset is not None and dataset["status"] == "ACTIVE":
                action = self.stack.parameter(f"{PREFIX}/{name}/action-tracking-id")
                if action is None or action["Value"] != dataset.get("trackingId"):
                    problems.append(f"{name}: action-tracking-id {action and action['Value']} != dataset's")
        for parameter_name in self.stack.parameters():
            parameter = self.stack.parameter(parameter_name)
            assert parameter is not None
            tags = parameter["Tags"]
            if parameter_name in self.by_hand:
                if parameter["Value"] != self.by_hand[parameter_name] or TAG_DATASET_GROUP_ARN in tags:
                    problems.append(f"{parameter_name}: written by hand, changed by the application")
                continue
            group_arn = tags.get(TAG_DATASET_GROUP_ARN)
            if group_arn is None:
                problems.append(f"{parameter_name}: neither by hand nor tagged")
                continue
            if self.live_group(group_arn.rsplit("/", 1)[1]) is None:
                problems.append(f"{parameter_name}: its dataset group {group_arn} is gone")
            if parameter_name.endswith(f"/{HOLD}"):
                continue  # a hold names a gone tracker on purpose
            tracker_arn, dataset_arn = tags.get(TAG_EVENT_TRACKER_ARN), tags.get(TAG_DATASET_ARN)
            live_trackers = {t["eventTrackerArn"] for t in self.emulator.trackers_of(group_arn.rsplit("/", 1)[1])}
            if tracker_arn and tracker_arn not in live_trackers:
                problems.append(f"{parameter_name}: its tracker {tracker_arn} is gone")
            if (
                dataset_arn
                and (self.action_dataset(group_arn.rsplit("/", 1)[1]) or {}).get("datasetArn") != dataset_arn
            ):
                problems.append(f"{parameter_name}: its dataset {dataset_arn} is gone")
        for parameter_name in self.by_hand.keys() - set(self.stack.parameters()):
            problems.append(f"{parameter_name}: written by hand, deleted by the application")
        return problems
