"""A local Amazon Personalize for the operations this project uses.

It speaks the service's wire protocol (JSON 1.1, `X-Amz-Target:
AmazonPersonalize.<Operation>`), so the real boto3 client talks to it through
`AWS_ENDPOINT_URL_PERSONALIZE` with no change. Requests are validated against
botocore's own service model; statuses move with the clock, and timing and
faults can be programmed per resource or globally.

Run it standalone with `python -m tools.emulator --port 4599`.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import botocore.session
import regex
from botocore.model import ServiceModel, Shape

from local.faults import Faults

ACCOUNT = "123456789012"
REGION = "us-east-1"
TAGS_MAX = 200
# The API matches datasetType case-insensitively; ARNs and answers carry it in upper case.
DATASET_TYPES = frozenset({"INTERACTIONS", "ITEMS", "USERS", "ACTIONS", "ACTION_INTERACTIONS"})
ACTION_INTERACTIONS = "ACTION_INTERACTIONS"


class ServiceError(Exception):
    """An error answer: the code goes in `__type`, as the service does."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass
class Timing:
    """How a resource moves through its creation statuses, in seconds."""

    pending: float = 0.0
    in_progress: float = 0.0
    fails_with: str | None = None  # a failureReason: end in CREATE FAILED instead of ACTIVE
    deleted_after: float | None = None  # seconds after creation at which it is deleted (trackers)
    deleting: float = 0.0  # seconds from DeleteX until it is gone: DELETE PENDING, then DELETE IN_PROGRESS


@dataclass
class _Resource:
    arn: str
    name: str
    timing: Timing
    created: float  # wall clock, for creationDateTime
    started: float  # monotonic, for the status clock
    deleted_at: float | None = None  # monotonic time DeleteX was called (or programmed)
    extra: dict[str, Any] = field(default_factory=dict)
    scale: float = 1.0  # the emulator's time_scale when it was created: its timing runs at this fraction

    def _deletion_started(self) -> float | None:
        if self.deleted_at is None and self.timing.deleted_after is not None:
            return self.started + self.timing.deleted_after * self.scale
        return self.deleted_at

    def status(self, now: float) -> str:
        deleted_at = self._deletion_started()
        if deleted_at is not None and now >= deleted_at:
            # DELETE PENDING, then DELETE IN_PROGRESS for the second half of `deleting`, then gone.
            return (
                "DELETE PENDING" if now < deleted_at + self.timing.deleting * self.scale / 2 else "DELETE IN_PROGRESS"
            )
        age = now - self.started
        if age < self.timing.pending * self.scale:
            return "CREATE PENDING"
        if age < (self.timing.pending + self.timing.in_progress) * self.scale:
            return "CREATE IN_PROGRESS"
        return "CREATE FAILED" if self.timing.fails_with else "ACTIVE"

    def gone(self, now: float) -> bool:
        deleted_at = self._deletion_started()
        return deleted_at is not None and now >= deleted_at + self.timing.deleting * self.scale

    def updated(self, now: float) -> float:
        """lastUpdatedDateTime: its last status change up to ACTIVE (or CREATE FAILED)."""
        ready_at = self.started + (self.timing.pending + self.timing.in_progress) * self.scale
        return self.created + max(0.0, min(now, ready_at) - self.started)


def _found(*stores: dict[str, _Resource], arn: str) -> _Resource:
    """The resource of this ARN, in whichever of the stores has it."""
    for store in stores:
        if arn in store:
            return store[arn]
    raise ServiceError("ResourceNotFoundException", f"Could not find resource with ARN {arn}")


@functools.cache
def _personalize_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("personalize")


class _Validator:
    """What the service checks and botocore's client does not (it checks required members, types and minimums):
    patterns, maximum lengths and values, and enums, from botocore's service model."""

    def __init__(self) -> None:
        self.model = _personalize_model()

    def validate(self, operation: str, params: Any) -> None:
        problems: list[str] = []
        self._check(self.model.operation_model(operation).input_shape, params, operation, problems)
        if problems:
            raise ServiceError("InvalidInputException", "; ".join(problems[:5]))

    def _check(self, shape: Shape, value: Any, where: str, problems: list[str]) -> None:
        meta, kind = shape.metadata, shape.type_name
        if kind == "structure" and isinstance(value, dict):
            for key, member_value in value.items():
                if key in shape.members and member_value is not None:
                    self._check(shape.members[key], member_value, f"{where}.{key}", problems)
        elif kind == "list" and isinstance(value, list):
            if "max" in meta and len(value) > meta["max"]:
                problems.append(f"{where} has more than {meta['max']} items")
            for index, item in enumerate(value):
                self._check(shape.member, item, f"{where}[{index}]", problems)
        elif kind == "string" and isinstance(value, str):
            if "max" in meta and len(value) > meta["max"]:
                problems.append(f"{where} is longer than {meta['max']}")
            if meta.get("pattern") and not regex.search(meta["pattern"], value):
                problems.append(f"{where} does not match {meta['pattern']}")
            if shape.enum and value not in shape.enum:
                problems.append(f"{where} must be one of {', '.join(shape.enum)}")
        elif kind in ("integer", "long") and isinstance(value, int) and "max" in meta and value > meta["max"]:
            problems.append(f"{where} must be at most {meta['max']}")


class PersonalizeEmulator:
    """The service's state, its clock, and the faults a test programs."""

    def __init__(self, account: str = ACCOUNT, region: str = REGION) -> None:
        self.account = account
        self.region = region
        self.dataset_group_timing = Timing()
        self.tracker_timing = Timing()
        self._dataset_group_timings: dict[str, Timing] = {}
        self._tracker_timings: dict[str, Timing] = {}  # by dataset group name
        self.dataset_groups: dict[str, _Resource] = {}
        self.trackers: dict[str, _Resource] = {}
        self.datasets: dict[str, _Resource] = {}
        self.dataset_timing = Timing()
        self._dataset_timings: dict[tuple[str, str], Timing] = {}  # by (dataset group name, dataset type)
        self.tags: dict[str, dict[str, str]] = {}
        self.schemas: dict[str, str] = {}  # ARN -> name
        self.calls: dict[str, int] = {}
        self.faults = Faults()  # Personalize's own (local.faults.inject)
        self._released = threading.Event()  # ends the hangs under way (clear_faults)
        self._lock = threading.RLock()
        self._validator = _Validator()
        self.time_scale = 1.0  # Timing's seconds at this fraction (the local engine's clock sets it)
        self._server: ThreadingHTTPServer | None = None
        self._connections: set[socket.socket] = set()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ programming it
    def time_dataset_group(self, name: str, timing: Timing) -> None:
        """Timing for the dataset group of this name (created now or later)."""
        with self._lock:
            self._dataset_group_timings[name] = timing
            arn = self._dataset_group_arn(name)
            if arn in self.dataset_groups:
                self.dataset_groups[arn].timing = timing

    def time_tracker(self, dataset_group_name: str, timing: Timing) -> None:
        """Timing for the tracker of this dataset group (created now or later)."""
        with self._lock:
            self._tracker_timings[dataset_group_name] = timing
            for tracker in self.trackers.values():
                if tracker.extra["datasetGroupName"] == dataset_group_name:
                    tracker.timing = timing

    def time_dataset(self, dataset_group_name: str, dataset_type: str, timing: Timing) -> None:
        """Timing for the dataset of this type in this dataset group (created now or later)."""
        with self._lock:
            key = (dataset_group_name, dataset_type.upper())
            self._dataset_timings[key] = timing
            for dataset in self.datasets.values():
                if (dataset.extra["datasetGroupName"], dataset.extra["datasetType"]) == key:
                    dataset.timing = timing

    def clear_faults(self) -> None:
        """The calls hanging now answer at once, and no fault is left to come (a test's end: a call still hanging
        would otherwise carry its invocation into the next test's AWS)."""
        self.faults.clear()
        with self._lock:
            released, self._released = self._released, threading.Event()
        released.set()

    def seed_tracker(self, dataset_group_arn: str, arn: str | None = None) -> dict[str, Any]:
        """An ACTIVE tracker for the dataset group, with this ARN (to match a sample event) or a new one."""
        with self._lock:
            created = self._op_CreateEventTracker(
                {"name": dataset_group_arn.rsplit("/", 1)[1] + "-tracker", "datasetGroupArn": dataset_group_arn}
            )
            if arn is not None:
                tracker = self.trackers.pop(created["eventTrackerArn"])
                tracker.arn = arn
                self.trackers[arn] = tracker
                self.tags[arn] = self.tags.pop(created["eventTrackerArn"])
                created["eventTrackerArn"] = arn
            self.trackers[created["eventTrackerArn"]].timing = Timing()
            return created

    def trackers_of(self, dataset_group_name: str) -> list[dict[str, Any]]:
        """The dataset group's trackers that still exist, as DescribeEventTracker shows them."""
        with self._lock:
            now = time.monotonic()
            return [
                self._tracker_view(tracker, now)
                for tracker in self.trackers.values()
                if tracker.extra["datasetGroupName"] == dataset_group_name and not tracker.gone(now)
            ]

    # ------------------------------------------------------------ the operations
    def handle(self, operation: str, params: Any, faults: bool = True) -> dict[str, Any]:
        """One request; `faults=False` for a test's own calls, which the injected faults do not hit."""
        with self._lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1
        fault = self.faults.meet("personalize", operation) if faults else None
        if fault is not None and fault.per_second is not None:
            raise ServiceError("LimitExceededException", "Rate exceeded")
        if fault is not None:
            raise ServiceError(fault.code, fault.message, fault.status)
        handler: Callable[[dict[str, Any]], dict[str, Any]] | None = getattr(self, "_op_" + operation, None)
        if handler is None:
            raise ServiceError("UnknownOperationException", f"{operation} is not emulated")
        if isinstance(params, dict) and isinstance(params.get("tags"), list) and len(params["tags"]) > TAGS_MAX:
            raise ServiceError("TooManyTagsException", f"At most {TAGS_MAX} tags are allowed")
        self._validator.validate(operation, params)  # outside the lock: it only reads the request
        hang = self.faults.meet("personalize", operation, hangs=True) if faults else None
        with self._lock:
            self._collect(time.monotonic())
            released = self._released
            answer = handler(params)
        if hang is not None:
            released.wait(hang.hang)  # outside the lock: the service carries on with other requests meanwhile
        return answer

    def stats(self) -> dict[str, Any]:
        """Calls per operation, throttled calls, and each dataset group's trackers (for benchmarks)."""
        with self._lock:
            now = time.monotonic()
            trackers: dict[str, list[dict[str, Any]]] = {}
            for tracker in self.trackers.values():
                if not tracker.gone(now):
                    trackers.setdefault(tracker.extra["datasetGroupName"], []).append(self._tracker_view(tracker, now))
            return {"calls": dict(self.calls), "throttled": self.faults.throttled, "trackers": trackers}

    def _collect(self, now: float) -> None:
        for store in (self.trackers, self.datasets, self.dataset_groups):
            for arn in [arn for arn, resource in store.items() if resource.gone(now)]:
                del store[arn]
                self.tags.pop(arn, None)

    def _dataset_group_arn(self, name: str) -> str:
        return f"arn:aws:personalize:{self.region}:{self.account}:dataset-group/{name}"

    def _set_tags(self, arn: str, tags: list[dict[str, str]]) -> None:
        merged = dict(self.tags.get(arn, {}))
        merged.update({tag["tagKey"]: tag.get("tagValue", "") for tag in tags})
        if len(merged) > TAGS_MAX:
            raise ServiceError("TooManyTagsException", f"A resource has at most {TAGS_MAX} tags")
        self.tags[arn] = merged

    def _op_CreateDatasetGroup(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params["name"]
        arn = self._dataset_group_arn(name)
        if arn in self.dataset_groups:
            raise ServiceError("ResourceAlreadyExistsException", f"Dataset group {name} already exists")
        timing = self._dataset_group_timings.get(name, self.dataset_group_timing)
        group = _Resource(
            arn, name, timing, time.time(), time.monotonic(), extra={"domain": params.get("domain")},
            scale=self.time_scale,
        )  # fmt: skip
        self.dataset_groups[arn] = group
        self.tags[arn] = {}
        self._set_tags(arn, params.get("tags", []))
        result: dict[str, Any] = {"datasetGroupArn": arn}
        if params.get("domain"):
            result["domain"] = params["domain"]
        return result

    def _group_view(self, group: _Resource, now: float) -> dict[str, Any]:
        status = group.status(now)
        view: dict[str, Any] = {
            "name": group.name,
            "datasetGroupArn": group.arn,
            "status": status,
            "creationDateTime": group.created,
            "lastUpdatedDateTime": group.updated(now),
        }
        if group.extra.get("domain"):
            view["domain"] = group.extra["domain"]
        if status == "CREATE FAILED":
            view["failureReason"] = group.timing.fails_with
        return view

    def _op_DescribeDatasetGroup(self, params: dict[str, Any]) -> dict[str, Any]:
        group = _found(self.dataset_groups, arn=params["datasetGroupArn"])
        return {"datasetGroup": self._group_view(group, time.monotonic())}

    def _page(self, items: list[dict[str, Any]], params: dict[str, Any], key: str) -> dict[str, Any]:
        size = params.get("maxResults", 100)
        start = 0
        if params.get("nextToken"):
            try:
                start = int(base64.b64decode(params["nextToken"]).decode())
            except ValueError:
                raise ServiceError("InvalidNextTokenException", "Invalid next token") from None
            if not 0 <= start <= len(items):
                raise ServiceError("InvalidNextTokenException", "Invalid next token")
        result: dict[str, Any] = {key: items[start : start + size]}
        if start + size < len(items):
            result["nextToken"] = base64.b64encode(str(start + size).encode()).decode()
        return result

    def _list(self, store: dict[str, _Resource], view: Callable[..., Any], params: Any, key: str, *keys: str) -> Any:
        """A List operation: newest first, the group's (or every) resource's summary (its view, or `keys` of it)."""
        now, group = time.monotonic(), params.get("datasetGroupArn")
        chosen = [r for r in store.values() if not group or r.extra.get("datasetGroupArn") == group]
        views = [view(r, now) for r in sorted(chosen, key=lambda r: r.created, reverse=True)]
        return self._page([{k: v[k] for k in keys} if keys else v for v in views], params, key)

    def _op_ListDatasetGroups(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._list(self.dataset_groups, self._group_view, params, "datasetGroups")

    def _op_DeleteDatasetGroup(self, params: dict[str, Any]) -> dict[str, Any]:
        group = _found(self.dataset_groups, arn=params["datasetGroupArn"])
        now = time.monotonic()
        if any(t.extra["datasetGroupArn"] == group.arn and not t.gone(now) for t in self.trackers.values()):
            raise ServiceError("ResourceInUseException", f"Dataset group {group.arn} still has an event tracker")
        if any(d.extra["datasetGroupArn"] == group.arn and not d.gone(now) for d in self.datasets.values()):
            raise ServiceError("ResourceInUseException", f"Dataset group {group.arn} still has datasets")
        if group.status(now).startswith("DELETE"):
            raise ServiceError("ResourceInUseException", f"Dataset group {group.arn} is being deleted")
        group.deleted_at = now
        self._collect(now)
        return {}

    def _op_CreateEventTracker(self, params: dict[str, Any]) -> dict[str, Any]:
        group = _found(self.dataset_groups, arn=params["datasetGroupArn"])
        now = time.monotonic()
        status = group.status(now)
        if status != "ACTIVE":
            # Stricter than documented: no automation should create a tracker before ACTIVE.
            raise ServiceError("ResourceInUseException", f"Dataset group {group.arn} is {status}, not ACTIVE")
        if any(t.extra["datasetGroupArn"] == group.arn for t in self.trackers.values()):
            raise ServiceError(
                "ResourceAlreadyExistsException", f"Dataset group {group.arn} already has an event tracker"
            )
        if any(t.name == params["name"] for t in self.trackers.values()):
            raise ServiceError("ResourceAlreadyExistsException", f"Event tracker {params['name']} already exists")
        arn = f"arn:aws:personalize:{self.region}:{self.account}:event-tracker/{uuid.uuid4().hex[:8]}"
        timing = self._tracker_timings.get(group.name, self.tracker_timing)
        tracker = _Resource(
            arn,
            params["name"],
            timing,
            time.time(),
            now,
            extra={"datasetGroupArn": group.arn, "datasetGroupName": group.name, "trackingId": str(uuid.uuid4())},
            scale=self.time_scale,
        )
        self.trackers[arn] = tracker
        self.tags[arn] = {}
        self._set_tags(arn, params.get("tags", []))
        return {"eventTrackerArn": arn, "trackingId": tracker.extra["trackingId"]}

    def _tracker_view(self, tracker: _Resource, now: float) -> dict[str, Any]:
        return {
            "name": tracker.name,
            "eventTrackerArn": tracker.arn,
            "accountId": self.account,
            "trackingId": tracker.extra["trackingId"],
            "datasetGroupArn": tracker.extra["datasetGroupArn"],
            "status": tracker.status(now),
            "creationDateTime": tracker.created,
            "lastUpdatedDateTime": tracker.updated(now),
        }

    def _op_DescribeEventTracker(self, params: dict[str, Any]) -> dict[str, Any]:
        tracker = _found(self.trackers, arn=params["eventTrackerArn"])
        return {"eventTracker": self._tracker_view(tracker, time.monotonic())}

    def _op_ListEventTrackers(self, params: dict[str, Any]) -> dict[str, Any]:
        keys = ("name", "eventTrackerArn", "status", "creationDateTime", "lastUpdatedDateTime")
        return self._list(self.trackers, self._tracker_view, params, "eventTrackers", *keys)

    def _op_DeleteEventTracker(self, params: dict[str, Any]) -> dict[str, Any]:
        tracker = _found(self.trackers, arn=params["eventTrackerArn"])
        now = time.monotonic()
        status = tracker.status(now)
        if status.startswith("DELETE"):
            raise ServiceError("ResourceInUseException", f"Event tracker {tracker.arn} is being deleted")
        if status.startswith("CREATE ") and status != "CREATE FAILED":  # developer guide: not while being created
            raise ServiceError("ResourceInUseException", f"Event tracker {tracker.arn} is {status}")
        tracker.deleted_at = now
        self._collect(now)
        return {}

    # ------------------------------------------------------------ datasets
    def _op_CreateDataset(self, params: dict[str, Any]) -> dict[str, Any]:
        group = _found(self.dataset_groups, arn=params["datasetGroupArn"])
        dataset_type = params["datasetType"].upper()
        if dataset_type not in DATASET_TYPES:
            raise ServiceError("InvalidInputException", f"Unknown datasetType {params['datasetType']}")
        now = time.monotonic()
        status = group.status(now)
        if status != "ACTIVE":
            raise ServiceError("ResourceInUseException", f"Dataset group {group.arn} is {status}, not ACTIVE")
        arn = f"arn:aws:personalize:{self.region}:{self.account}:dataset/{group.name}/{dataset_type}"
        if arn in self.datasets:
            raise ServiceError("ResourceAlreadyExistsException", f"Dataset group {group.arn} has a {dataset_type}")
        timing = self._dataset_timings.get((group.name, dataset_type), self.dataset_timing)
        extra = {
            "datasetGroupArn": group.arn,
            "datasetGroupName": group.name,
            "datasetType": dataset_type,
            "schemaArn": params["schemaArn"],
        }
        if dataset_type == ACTION_INTERACTIONS:  # Personalize makes its tracker with the dataset
            extra["trackingId"] = str(uuid.uuid4())
        self.datasets[arn] = _Resource(
            arn, params["name"], timing, time.time(), now, extra=extra, scale=self.time_scale
        )
        self.tags[arn] = {}
        self._set_tags(arn, params.get("tags", []))
        return {"datasetArn": arn}

    def _dataset_view(self, dataset: _Resource, now: float) -> dict[str, Any]:
        status = dataset.status(now)
        view = {
            "name": dataset.name,
            "datasetArn": dataset.arn,
            "datasetGroupArn": dataset.extra["datasetGroupArn"],
            "datasetType": dataset.extra["datasetType"],
            "schemaArn": dataset.extra["schemaArn"],
            "status": status,
            "creationDateTime": dataset.created,
            "lastUpdatedDateTime": dataset.updated(now),
        }
        if "trackingId" in dataset.extra and status == "ACTIVE":  # reported once the dataset is ACTIVE
            view["trackingId"] = dataset.extra["trackingId"]
        return view

    def _op_DescribeDataset(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"dataset": self._dataset_view(_found(self.datasets, arn=params["datasetArn"]), time.monotonic())}

    def _op_ListDatasets(self, params: dict[str, Any]) -> dict[str, Any]:
        keys = ("name", "datasetArn", "datasetType", "status", "creationDateTime", "lastUpdatedDateTime")
        return self._list(self.datasets, self._dataset_view, params, "datasets", *keys)

    def _op_DeleteDataset(self, params: dict[str, Any]) -> dict[str, Any]:
        dataset = _found(self.datasets, arn=params["datasetArn"])
        now = time.monotonic()
        if dataset.status(now).startswith("DELETE"):
            raise ServiceError("ResourceInUseException", f"Dataset {dataset.arn} is being deleted")
        group_arn = dataset.extra["datasetGroupArn"]
        # Developer guide: an event tracker must be deleted (gone) before the Item interactions dataset.
        if dataset.extra["datasetType"] == "INTERACTIONS" and any(
            t.extra["datasetGroupArn"] == group_arn and not t.gone(now) for t in self.trackers.values()
        ):
            raise ServiceError("ResourceInUseException", f"Dataset group {group_arn} still has an event tracker")
        dataset.deleted_at = now
        self._collect(now)
        return {}

    def _op_CreateSchema(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = f"arn:aws:personalize:{self.region}:{self.account}:schema/{params['name']}"
        if arn in self.schemas:
            raise ServiceError("ResourceAlreadyExistsException", f"Schema {params['name']} already exists")
        json.loads(params["schema"])  # an Avro schema is JSON (InvalidInput otherwise)
        self.schemas[arn] = params["name"]
        return {"schemaArn": arn}

    def _op_DeleteSchema(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["schemaArn"]
        if arn not in self.schemas:
            raise ServiceError("ResourceNotFoundException", f"Could not find resource with ARN {arn}")
        if any(d.extra["schemaArn"] == arn and not d.gone(time.monotonic()) for d in self.datasets.values()):
            raise ServiceError("ResourceInUseException", f"Schema {arn} is used by a dataset")
        del self.schemas[arn]
        return {}

    def _op_ListSchemas(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"schemas": [{"name": name, "schemaArn": arn} for arn, name in self.schemas.items()]}

    def put_events(self, params: dict[str, Any]) -> dict[str, Any]:
        """personalize-events PutEvents: accepted for the trackingId of an ACTIVE tracker."""
        now = time.monotonic()
        with self._lock:
            active = {t.extra["trackingId"] for t in self.trackers.values() if t.status(now) == "ACTIVE"}
        if params.get("trackingId") not in active:
            raise ServiceError("InvalidInputException", "The trackingId is not that of an ACTIVE event tracker")
        return {}

    def _op_ListTagsForResource(self, params: dict[str, Any]) -> dict[str, Any]:
        resource = _found(self.dataset_groups, self.trackers, self.datasets, arn=params["resourceArn"])
        return {"tags": [{"tagKey": k, "tagValue": v} for k, v in self.tags.get(resource.arn, {}).items()]}

    def _op_TagResource(self, params: dict[str, Any]) -> dict[str, Any]:
        resource = _found(self.dataset_groups, self.trackers, self.datasets, arn=params["resourceArn"])
        self._set_tags(resource.arn, params["tags"])
        return {}

    # ------------------------------------------------------------ the server
    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Serve on a thread; returns the endpoint URL."""
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # An answer is two writes (headers, body): with Nagle's algorithm the body waited for the client's
            # delayed ACK of the headers, 40 ms on every call.
            disable_nagle_algorithm = True

            def setup(self) -> None:
                super().setup()
                emulator._connections.add(self.connection)

            def finish(self) -> None:
                emulator._connections.discard(self.connection)
                super().finish()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/events":  # personalize-events (REST-JSON): PutEvents
                    try:
                        self._answer(200, emulator.put_events(json.loads(body or b"{}")), "application/json")
                    except ServiceError as error:
                        self._answer(error.status, {"__type": error.code, "message": error.message}, "application/json")
                    return
                target = self.headers.get("X-Amz-Target", "")
                prefix, _, operation = target.partition(".")
                try:
                    if prefix != "AmazonPersonalize" or not operation:
                        raise ServiceError("UnknownOperationException", f"Unknown target {target!r}")
                    try:
                        params = json.loads(body or b"{}")
                    except ValueError:
                        raise ServiceError("SerializationException", "Body is not JSON") from None
                    status, payload = 200, emulator.handle(operation, params)
                except ServiceError as error:
                    status, payload = error.status, {"__type": error.code, "message": error.message}
                self._answer(status, payload, "application/x-amz-json-1.1")

            def do_GET(self) -> None:
                if self.path == "/_emulator/stats":
                    self._answer(200, emulator.stats(), "application/json")
                else:
                    self._answer(404, {"message": "not found"}, "application/json")

            def _answer(self, status: int, payload: Any, content_type: str) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its read timeout): as the service, carry on

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.01,), name="personalize-emulator", daemon=True
        )  # polls for shutdown every 10 ms: a stop waits that long (the default, half a second; a test run stops
        # hundreds of emulators)
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        # A client's kept-alive connection holds its server thread, and with it this emulator, as long as the
        # client lives: ended here.
        for connection in list(self._connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> PersonalizeEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
