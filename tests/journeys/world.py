"""What a journey sees of the world: the account's clients, the stack's facts, and a few means each target gives in
its own way (a stack of Personalize resources, the reconciler's run, the application's log lines).

A journey is written once against this; `local.py` and `aws.py` are the two worlds.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from botocore.exceptions import ClientError

SUITE = "etp-verify"  # every name the suite gives starts with it: `--clean` removes what an interrupted run left
T = TypeVar("T")
# An Item interactions schema, the smallest Personalize accepts.
INTERACTIONS_SCHEMA = json.dumps(
    {
        "type": "record",
        "name": "Interactions",
        "namespace": "com.amazonaws.personalize.schema",
        "fields": [
            {"name": "USER_ID", "type": "string"},
            {"name": "ITEM_ID", "type": "string"},
            {"name": "TIMESTAMP", "type": "long"},
        ],
        "version": "1.0",
    }
)


@dataclass(frozen=True)
class Timeouts:
    provision: float  # CreateDatasetGroup (or a start by hand) to the tracking-id parameter
    event: float  # a call to what its CloudTrail event makes happen
    release: float  # a refused deletion to a retry that succeeds
    stack: float  # a stack created, or deleted
    poll: float  # between two looks


@dataclass(frozen=True)
class StackResource:
    """A resource of a stack the journey declares; `{"Fn::GetAtt": [id, attribute]}` refers to another one."""

    logical_id: str
    type: str
    properties: dict[str, Any]


@dataclass
class World:
    personalize: Any
    events: Any  # personalize-events
    ssm: Any
    stepfunctions: Any
    state_machine_arn: str
    prefix: str  # the stack's ParameterPrefix
    timeouts: Timeouts
    run: str = field(default_factory=lambda: f"{SUITE}-{uuid.uuid4().hex[:6]}")
    made: dict[str, list[str]] = field(default_factory=lambda: {"groups": [], "schemas": [], "stacks": []})
    started: float = field(default_factory=time.time)

    # ------------------------------------------------------------ what each target gives its own way
    def person(self) -> str:
        """The identity CloudTrail records for the suite's own calls."""
        raise NotImplementedError

    def create_stack(self, name: str, resources: list[StackResource]) -> Any:
        """A CloudFormation stack of these resources, created: a handle for delete_stack."""
        raise NotImplementedError

    def delete_stack(self, stack: Any) -> str:
        """delete-stack, to its end: DELETE_COMPLETE or DELETE_FAILED."""
        raise NotImplementedError

    def run_reconciler(self) -> dict[str, Any]:
        """One run of the reconciler, as its schedule invokes it: its report."""
        raise NotImplementedError

    def log_records(self, message: str) -> list[dict[str, Any]]:
        """The application's log lines with this message since the run began (JSON, as Powertools writes them)."""
        raise NotImplementedError

    def status(self) -> Any:
        """tools.status on this world: what the application knows of every group."""
        raise NotImplementedError

    # ------------------------------------------------------------ the same everywhere
    def name(self, what: str) -> str:
        return f"{self.run}-{what}"

    def wait(self, check: Callable[[], T | None], what: str, timeout: float) -> T:
        deadline = time.monotonic() + timeout
        while True:
            found = check()
            if found:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"not after {timeout:g} s: {what}")
            time.sleep(self.timeouts.poll)

    def parameter(self, name: str) -> str | None:
        try:
            return str(self.ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])
        except ClientError as error:
            if error.response["Error"]["Code"] == "ParameterNotFound":
                return None
            raise

    def parameters_of(self, group: str) -> list[str]:
        """The parameters under {prefix}/{group}/."""
        pages = self.ssm.get_paginator("get_parameters_by_path").paginate(Path=f"{self.prefix}/{group}")
        return sorted(p["Name"] for page in pages for p in page.get("Parameters", []))

    def schema(self) -> str:
        """The run's Item interactions schema (made once)."""
        if not self.made["schemas"]:
            arn = self.personalize.create_schema(name=self.name("interactions"), schema=INTERACTIONS_SCHEMA)
            self.made["schemas"].append(arn["schemaArn"])
        return self.made["schemas"][0]

    def create_dataset_group(self, what: str, interactions: bool = False) -> tuple[str, str]:
        """A dataset group of the run (and its Item interactions dataset, once the group is ACTIVE): name, ARN."""
        name = self.name(what)
        arn = self.personalize.create_dataset_group(name=name)["datasetGroupArn"]
        self.made["groups"].append(name)
        if interactions:
            self.wait(lambda: self.status_of(arn) == "ACTIVE", f"{name} ACTIVE", self.timeouts.provision)
            self.personalize.create_dataset(
                name=f"{name}-interactions", schemaArn=self.schema(), datasetGroupArn=arn, datasetType="Interactions"
            )
        return name, arn

    def status_of(self, group_arn: str) -> str | None:
        try:
            return str(self.personalize.describe_dataset_group(datasetGroupArn=group_arn)["datasetGroup"]["status"])
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise

    def trackers(self, group_arn: str) -> list[dict[str, Any]]:
        return list(self.personalize.list_event_trackers(datasetGroupArn=group_arn).get("eventTrackers", []))

    def tracking_id(self, group: str) -> str:
        """Once stored: the group's tracking-id parameter."""
        name = f"{self.prefix}/{group}/tracking-id"
        return self.wait(lambda: self.parameter(name), f"{name} stored", self.timeouts.provision)

    def start_by_hand(self, group_arn: str) -> str:
        arn = self.stepfunctions.start_execution(
            stateMachineArn=self.state_machine_arn,
            name=f"{self.run}-{uuid.uuid4().hex[:8]}",
            input=json.dumps({"datasetGroupArn": group_arn}),
        )["executionArn"]
        return str(arn)

    # ------------------------------------------------------------ clean-up
    def clean(self, everything_of_the_suite: bool = False) -> list[str]:
        """Delete what the run made (or, with `everything_of_the_suite`, every group, schema and stack whose name
        starts with the suite's prefix): trackers, datasets, groups, then schemas. What it deleted."""
        mine = (lambda name: name.startswith(SUITE)) if everything_of_the_suite else None
        groups = [
            g
            for page in self.personalize.get_paginator("list_dataset_groups").paginate()
            for g in page.get("datasetGroups", [])
            if (mine(g["name"]) if mine else g["name"] in self.made["groups"])
        ]
        deleted = self.clean_stacks(mine)
        for group in groups:
            deleted += self._delete_group(group["datasetGroupArn"], group["name"])
        schemas = [
            s["schemaArn"]
            for page in self.personalize.get_paginator("list_schemas").paginate()
            for s in page.get("schemas", [])
            if (mine(s["name"]) if mine else s["schemaArn"] in self.made["schemas"])
        ]
        for schema in schemas:
            self.wait(lambda s=schema: self._gone(lambda: self.personalize.delete_schema(schemaArn=s)),  # type: ignore[misc]
                      f"{schema} deleted", self.timeouts.release)  # fmt: skip
            deleted.append(schema)
        return deleted

    def clean_stacks(self, mine: Callable[[str], bool] | None) -> list[str]:
        """The run's stacks deleted (the local world's stacks go with their resources)."""
        return []

    def _delete_group(self, arn: str, name: str) -> list[str]:
        deleted = []
        for tracker in self.trackers(arn):
            if not tracker.get("status", "").startswith("DELETE"):
                self._gone(
                    lambda t=tracker: self.personalize.delete_event_tracker(eventTrackerArn=t["eventTrackerArn"])
                )  # type: ignore[misc]
            deleted.append(tracker["eventTrackerArn"])
        self.wait(lambda: not self.trackers(arn), f"{name}'s tracker gone", self.timeouts.release)
        datasets = self.personalize.list_datasets(datasetGroupArn=arn).get("datasets", [])
        for dataset in datasets:
            if not dataset.get("status", "").startswith("DELETE"):
                self._gone(lambda d=dataset: self.personalize.delete_dataset(datasetArn=d["datasetArn"]))  # type: ignore[misc]
            deleted.append(dataset["datasetArn"])
        self.wait(
            lambda: not self.personalize.list_datasets(datasetGroupArn=arn).get("datasets"),
            f"{name}'s datasets gone",
            self.timeouts.release,
        )
        self.wait(lambda: self._gone(lambda: self.personalize.delete_dataset_group(datasetGroupArn=arn)),
                  f"{name} deleted", self.timeouts.release)  # fmt: skip
        self.wait(lambda: self.status_of(arn) is None, f"{name} gone", self.timeouts.release)
        for parameter in self.parameters_of(name):  # the teardown's job; not left behind if an event was lost
            self.ssm.delete_parameter(Name=parameter)
        return [*deleted, arn]

    @staticmethod
    def _gone(delete: Callable[[], Any]) -> bool:
        """Delete: True once done or already gone, False while Personalize says "in use" (try again)."""
        try:
            delete()
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "ResourceInUseException":
                return False
            if code != "ResourceNotFoundException":
                raise
        return True
