"""The Powertools layer `sam local invoke` uses: the template's release, in SAM CLI's own cache layout."""

from __future__ import annotations

import hashlib
import re

from aws_lambda_powertools.shared.version import VERSION

from local.template import Template
from tools import layer_cache as layer


def test_the_local_layer_is_the_public_layer_for_the_functions_runtime_and_architecture() -> None:
    arn = layer.local_layer_arn()
    globals_ = Template().doc["Globals"]["Function"]
    runtime = globals_["Runtime"].replace(".", "")
    (architecture,) = globals_["Architectures"]
    assert re.fullmatch(
        rf"arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-{runtime}-{architecture}:\d+", arn
    )
    assert layer.architecture(arn) == architecture


def test_the_layer_is_built_from_the_pinned_powertools_release() -> None:
    pins = layer.pins()
    assert f"aws_lambda_powertools=={VERSION}" in pins
    assert Template().doc["Parameters"]["PowertoolsLayerArn"]["Default"].endswith(f"/{VERSION}")
    assert len(pins) == len(layer.LAYER_PACKAGES)


def test_the_cache_entry_is_where_sam_cli_looks(tmp_path) -> None:
    arn = "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:40"
    (tmp_path / f"AWSLambdaPowertoolsPythonV3-python313-arm64-40-{hashlib.sha256(arn.encode()).hexdigest()[:10]}"
     / "python").mkdir(parents=True)  # fmt: skip
    # Already there (from an earlier run or SAM's own download): found, not rebuilt.
    assert layer.prepare(arn, cache=tmp_path).name.startswith("AWSLambdaPowertoolsPythonV3-python313-arm64-40-")
    assert not list(tmp_path.glob(".building-*"))
