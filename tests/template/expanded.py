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
    for logical_id, resource in doc["Resources"].items():  # as `sam package` would
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = f"s3://bucket/{logical_id}.zip"
    return doc


def expanded(overrides: dict[str, Any] | None = None, stack_name: str = "local") -> Template:
    document = expand(packaged(), REGION)
    return Template(TEMPLATE_PATH, overrides, REGION, ACCOUNT, stack_name=stack_name, document=document)
