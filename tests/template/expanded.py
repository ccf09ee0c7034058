"""The template as SAM expands it for a deployment (after `sam package`), for tests of what gets deployed."""

from __future__ import annotations

from typing import Any

from local.iam import packaged_document
from local.template import TEMPLATE as TEMPLATE_PATH
from local.template import Template, expand
from tests.helpers import ACCOUNT, REGION


def packaged() -> dict[str, Any]:
    return packaged_document()


def expanded(overrides: dict[str, Any] | None = None, stack_name: str = "local") -> Template:
    document = expand(packaged(), REGION)
    return Template(TEMPLATE_PATH, overrides, REGION, ACCOUNT, stack_name=stack_name, document=document)
