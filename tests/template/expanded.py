"""The template as SAM expands it for a deployment (after `sam package`), for tests of what gets deployed."""

from __future__ import annotations

import json
import os
from typing import Any
from unittest import mock

from cfnlint.decode import cfn_yaml
from samtranslator.translator.transform import transform

from local.template import TEMPLATE as TEMPLATE_PATH
from local.template import Template
from tests.helpers import ACCOUNT, REGION


def expanded(overrides: dict[str, Any] | None = None, stack_name: str = "local") -> Template:
    doc = json.loads(json.dumps(cfn_yaml.load(str(TEMPLATE_PATH))))
    doc["Globals"]["Function"]["CodeUri"] = "s3://bucket/code.zip"  # as `sam package` would
    for resource in doc["Resources"].values():
        if "DefinitionUri" in resource.get("Properties", {}):
            resource["Properties"]["DefinitionUri"] = "s3://bucket/definition.json"

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": REGION}):
        document = transform(doc, {}, NoManagedPolicies())
    return Template(TEMPLATE_PATH, overrides, REGION, ACCOUNT, stack_name=stack_name, document=document)
