"""The template as SAM expands it for a deployment (after `sam package`), for tests of what gets deployed."""

from __future__ import annotations

import json
from typing import Any

from cfnlint.decode import cfn_yaml

from local.stackset import expand
from local.template import TEMPLATE as TEMPLATE_PATH
from local.template import Template
from tests.helpers import ACCOUNT, REGION


def packaged() -> dict[str, Any]:
    """template.yaml with its code and definition in S3, as `sam package` writes it."""
    doc = json.loads(json.dumps(cfn_yaml.load(str(TEMPLATE_PATH))))
    doc["Globals"]["Function"]["CodeUri"] = "s3://bucket/code.zip"  # as `sam package` would
    for resource in doc["Resources"].values():
        if "DefinitionUri" in resource.get("Properties", {}):
            resource["Properties"]["DefinitionUri"] = "s3://bucket/definition.json"
    return doc


def expanded(overrides: dict[str, Any] | None = None, stack_name: str = "local") -> Template:
    document = expand(packaged(), REGION)
    return Template(TEMPLATE_PATH, overrides, REGION, ACCOUNT, stack_name=stack_name, document=document)
