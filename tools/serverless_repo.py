"""The packaged template without the deletion hook, for the Serverless Application Repository, whose list of
supported resources does not name AWS::CloudFormation::LambdaHook (docs/publishing.md):
`python -m tools.serverless_repo .aws-sam/packaged.yaml > .aws-sam/packaged-repo.yaml`.

Deployed from there, refused deletions still release the application's trackers (the retry succeeds)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from local.template import read

HOOK_CONDITION = "HasDeletionHook"


def without_hook(document: dict[str, Any]) -> dict[str, Any]:
    """The template without the resources that exist only with the hook, its condition, and its parameter's
    choice (Disabled is all it can be)."""
    resources = {k: v for k, v in document["Resources"].items() if v.get("Condition") != HOOK_CONDITION}
    conditions = {k: v for k, v in document.get("Conditions", {}).items() if k != HOOK_CONDITION}
    parameters = dict(document.get("Parameters", {}))
    if "DeletionHook" in parameters:
        parameters["DeletionHook"] = {
            **parameters["DeletionHook"],
            "Default": "Disabled",
            "AllowedValues": ["Disabled"],
        }
    return {**document, "Resources": resources, "Conditions": conditions, "Parameters": parameters}


def main(argv: list[str]) -> None:
    document = read(Path(argv[0]))
    json.dump(without_hook(document), sys.stdout, indent=2)  # JSON is YAML too


if __name__ == "__main__":
    main(sys.argv[1:] or [str(Path(__file__).resolve().parent.parent / "template.yaml")])
