"""A template for CloudFormation StackSets: SAM expanded offline, code read from a bucket in each region.

    sam build && sam package --s3-bucket <prefix>-<region> --output-template-file packaged.yaml
    python -m tools.stackset packaged.yaml <prefix> > stackset.json

StackSets deploy plain CloudFormation, one template to every account and region, while Lambda reads
its code only from a bucket in the function's own region. This expands the AWS::Serverless transform
here (the translator SAM CLI itself uses) and points every function's code, the shared code layer
and the state machine's definition at `<prefix>-<region of the stack instance>`, which must hold the same
keys (docs/publishing.md, "Deploying to an organisation with StackSets").
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from local.template import expand, read


def regional_artifacts(expanded: dict[str, Any], bucket_prefix: str) -> dict[str, Any]:
    """Every code and definition location moved to the bucket `<prefix>-<stack region>`, same keys."""
    bucket = {"Fn::Sub": bucket_prefix + "-${AWS::Region}"}
    result = json.loads(json.dumps(expanded))
    for resource in result["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Lambda::Function" and "S3Bucket" in properties.get("Code", {}):
            properties["Code"]["S3Bucket"] = bucket
        if resource["Type"] == "AWS::Lambda::LayerVersion" and "S3Bucket" in properties.get("Content", {}):
            properties["Content"]["S3Bucket"] = bucket
        if resource["Type"] == "AWS::StepFunctions::StateMachine" and "DefinitionS3Location" in properties:
            properties["DefinitionS3Location"]["Bucket"] = bucket
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("packaged", help="the template `sam package` wrote")
    parser.add_argument("bucket_prefix", help="buckets are <prefix>-<region>, one in each region of the stack set")
    args = parser.parse_args(argv)
    packaged = read(Path(args.packaged))
    json.dump(regional_artifacts(expand(packaged), args.bucket_prefix), sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
