"""Named hostile inputs: each must end in InvalidEvent, or in a clean success for a real dataset group."""

from __future__ import annotations

import json
from typing import Any

from tests.helpers import create_event, dataset_group_arn, event

VALID_NAME = "retail-recommendations"


def _with(path: list[str], value: Any, base: str = "create-dataset-group.json") -> Any:
    sample = json.loads(json.dumps(event(base)))
    target = sample
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return sample


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = {"detail": value}
    return value


def _nulls() -> dict[str, Any]:
    sample = event("create-dataset-group.json")
    return {key: None for key in sample} | {"detail": {key: None for key in sample["detail"]}}


def _no_arn(name: str) -> dict[str, Any]:
    sample = create_event("placeholder", with_arn=False)
    sample["detail"]["requestParameters"]["name"] = name
    return sample


# name -> (input, "InvalidEvent" or "SUCCEEDED")
HOSTILE: dict[str, tuple[Any, str]] = {
    "huge name (200 kB)": (_no_arn("a" * 200_000), "InvalidEvent"),
    "huge direct ARN (200 kB)": ({"datasetGroupArn": dataset_group_arn("a" * 200_000)}, "InvalidEvent"),
    "huge unknown field": (_with(["detail", "userAgent"], "x" * 200_000), "SUCCEEDED"),
    "unicode in the name": (_no_arn("réco-ñ-日本"), "InvalidEvent"),
    "emoji in the ARN": ({"datasetGroupArn": dataset_group_arn("recs-🚀")}, "InvalidEvent"),
    "../ in the name": (_no_arn("../../etc/passwd"), "InvalidEvent"),
    "/ in the name": (_no_arn("a/b"), "InvalidEvent"),
    "../ in the ARN": ({"datasetGroupArn": dataset_group_arn("x/../../y")}, "InvalidEvent"),
    "quote and SQL in the name": (_no_arn("x' OR 1=1 --"), "InvalidEvent"),
    "NUL in the name": (_no_arn("a\u0000b"), "InvalidEvent"),
    "newline after the ARN": ({"datasetGroupArn": dataset_group_arn(VALID_NAME) + "\n"}, "InvalidEvent"),
    "array for the event": ([event("create-dataset-group.json")], "InvalidEvent"),
    "array for detail": (_with(["detail"], []), "InvalidEvent"),
    "array for requestParameters": (_with(["detail", "requestParameters"], [{"name": VALID_NAME}]), "InvalidEvent"),
    "array for responseElements": (_with(["detail", "responseElements"], [{"datasetGroupArn": "x"}]), "InvalidEvent"),
    "array for the direct ARN": ({"datasetGroupArn": [dataset_group_arn(VALID_NAME)]}, "InvalidEvent"),
    "null everywhere": (_nulls(), "InvalidEvent"),
    "null event": (None, "InvalidEvent"),
    "null ARN and name": (_with(["detail", "responseElements"], {"datasetGroupArn": None}), "SUCCEEDED"),
    "number for the account": (_with(["account"], 123456789012), "InvalidEvent"),
    "deeply nested object": (_nested(100), "InvalidEvent"),
    "the longest valid name": (None, "SUCCEEDED"),  # filled below
}
LONGEST = "n" * 63
HOSTILE["the longest valid name"] = (create_event(LONGEST), "SUCCEEDED")
SEEDED = (VALID_NAME, LONGEST)
