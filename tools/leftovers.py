"""What the application leaves behind when its stack is deleted, and how to remove it too.

Deleting the stack (`sam delete`) leaves the event trackers it made and the parameters it wrote in place, so that
applications keep sending events. Once none does:

    python -m tools.leftovers --prefix /personalize            # lists them
    python -m tools.leftovers --prefix /personalize --delete   # deletes them

Only trackers tagged `event-tracker-provisioner:made-by` (never adopted ones) and parameters under the prefix that
carry the application's tag (never those written by hand) are listed or deleted.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "layers" / "shared"))  # common, as in the layer

from common.parameters import TAG_DATASET_GROUP_ARN
from common.personalize import MADE_BY, TAG_MADE_BY


@dataclass
class Leftovers:
    trackers: list[str] = field(default_factory=list)
    parameters: list[str] = field(default_factory=list)


def leftovers(personalize: Any, ssm: Any, prefix: str) -> Leftovers:
    found = Leftovers()
    for page in personalize.get_paginator("list_event_trackers").paginate():
        for tracker in page.get("eventTrackers", []):
            tags = personalize.list_tags_for_resource(resourceArn=tracker["eventTrackerArn"]).get("tags", [])
            if {"tagKey": TAG_MADE_BY, "tagValue": MADE_BY} in tags and not tracker["status"].startswith("DELETE"):
                found.trackers.append(tracker["eventTrackerArn"])
    pages = ssm.get_paginator("describe_parameters").paginate(
        ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [prefix]}]
    )
    for page in pages:
        for parameter in page["Parameters"]:
            tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=parameter["Name"])["TagList"]
            if any(tag["Key"] == TAG_DATASET_GROUP_ARN for tag in tags):
                found.parameters.append(parameter["Name"])
    return found


def delete(personalize: Any, ssm: Any, found: Leftovers) -> None:
    for arn in found.trackers:
        personalize.delete_event_tracker(eventTrackerArn=arn)
    for start in range(0, len(found.parameters), 10):  # DeleteParameters takes ten names at a time
        ssm.delete_parameters(Names=found.parameters[start : start + 10])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.leftovers", description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", default="/personalize", help="the stack's ParameterPrefix")
    parser.add_argument("--delete", action="store_true", help="delete them (default: only list them)")
    parser.add_argument("--region", help="default: the AWS CLI's")
    args = parser.parse_args(argv)
    import boto3

    session = boto3.session.Session(region_name=args.region)
    personalize, ssm = session.client("personalize"), session.client("ssm")
    found = leftovers(personalize, ssm, args.prefix)
    for arn in found.trackers:
        print(f"tracker    {arn}")
    for name in found.parameters:
        print(f"parameter  {name}")
    if args.delete:
        delete(personalize, ssm, found)
        print(f"deleted {len(found.trackers)} trackers and {len(found.parameters)} parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
