"""`make invoke`'s world for every function on its sample, with the function in this Python instead of its
container: the same seeding (`tools.invoke.seed`), the same local services over HTTP, the function's template
environment as `sam local invoke` gives it, and the checks the container tier applies (tests/make_invoke.py)."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import urllib.request
from unittest import mock

import pytest

from local.engine import LambdaContext, load_handler
from local.template import Template
from tests.helpers import EVENTS
from tests.make_invoke import EXPECTED
from tools.invoke import local_services, raised, report_effects, seed
from tools.sam_local import FAKE_CREDENTIALS, REGION


@pytest.mark.parametrize(("function", "sample"), sorted(EXPECTED), ids=lambda value: value.rsplit("/", 1)[-1])
def test_every_function_on_its_sample(function: str, sample: str) -> None:
    template = Template()
    event = json.loads((EVENTS.parent / sample).read_text())
    log = io.StringIO()
    with local_services("127.0.0.1", template) as services, contextlib.redirect_stderr(log):
        # moto's backends live in this process, with what earlier tests left: empty, as a new `make invoke`'s are.
        urllib.request.urlopen(urllib.request.Request(f"{services.moto_url}/moto-api/reset", method="POST"))
        variables = seed(services, function, event)
        spec = template.functions()[function]
        environment = {**spec.environment, **variables, **services.container_environment, **FAKE_CREDENTIALS,
                       "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}  # fmt: skip
        with mock.patch.dict(os.environ, environment):
            handler = load_handler(dataclasses.replace(spec, environment=environment))
            timeout = spec.properties.get("Timeout", template.doc["Globals"]["Function"]["Timeout"])
            arn = template.resource_arn(function)
            result = handler(event, LambdaContext(function, arn, timeout_seconds=float(timeout)))
        report_effects(services, function, variables)
    assert not raised(json.dumps(result)), result
    EXPECTED[(function, sample)](json.loads(json.dumps(result)), log.getvalue())
