"""The StackSet template: plain CloudFormation, code and definition from the stack instance's own region."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from local.template import Template, expand
from tests.helpers import ROOT
from tests.template.expanded import packaged
from tools.stackset import regional_artifacts

BIN = Path(sys.executable).parent


def stackset_template() -> dict:
    return regional_artifacts(expand(packaged()), "my-artifacts")


def test_every_artifact_comes_from_the_bucket_of_the_instance_region() -> None:
    resources = stackset_template()["Resources"]
    regional = {"Fn::Sub": "my-artifacts-${AWS::Region}"}
    functions = {name: r for name, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    [layer] = [r for r in resources.values() if r["Type"] == "AWS::Lambda::LayerVersion"]
    [machine] = [r for r in resources.values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    assert len(functions) == len(Template().functions())
    for name, function in functions.items():
        assert function["Properties"]["Code"] == {"S3Bucket": regional, "S3Key": f"{name}.zip"}
    assert layer["Properties"]["Content"] == {"S3Bucket": regional, "S3Key": "SharedCodeLayer.zip"}
    assert machine["Properties"]["DefinitionS3Location"] == {
        "Bucket": regional,
        "Key": "ProvisionEventTrackerStateMachine.zip",
    }


def test_it_needs_no_transform_and_cfn_lint_accepts_it(tmp_path: Path) -> None:
    template = stackset_template()
    assert "Transform" not in template
    assert not any(r["Type"].startswith("AWS::Serverless::") for r in template["Resources"].values())
    path = tmp_path / "stackset.json"
    path.write_text(json.dumps(template))
    lint = subprocess.run([BIN / "cfn-lint", str(path)], capture_output=True, text=True, cwd=ROOT)
    assert lint.returncode == 0, lint.stdout + lint.stderr
