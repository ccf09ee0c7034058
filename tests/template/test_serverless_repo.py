"""The Serverless Application Repository: the metadata `sam publish` reads, checked with SAM CLI's own parser, and
every resource type the application deploys on the repository's list of supported resources. Offline."""

from __future__ import annotations

import json
import re
from pathlib import Path

from samcli.vendor.serverlessrepo.parser import get_app_metadata, parse_template
from samcli.vendor.serverlessrepo.publish import _create_application_request

from local.template import Template
from tests.helpers import ROOT
from tests.template.expanded import expanded
from tools.serverless_repo import without_hook

METADATA = get_app_metadata(parse_template((ROOT / "template.yaml").read_text()))
# "List of Supported AWS Resources" (Serverless Application Repository Developer Guide), the types this template
# and its SAM expansion use; read from awsdocs/aws-serverlessrepo-developer-guide, doc_source/
# list-supported-resources.md (February 2021). AWS::IAM::RolePolicy is not on it: the template uses AWS::IAM::Policy.
SUPPORTED = {
    "AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard", "AWS::Events::Rule", "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Policy", "AWS::IAM::Role",
    "AWS::Lambda::Function", "AWS::Lambda::LayerVersion", "AWS::Lambda::Permission", "AWS::Logs::LogGroup",
    "AWS::SNS::Subscription", "AWS::SNS::Topic", "AWS::SQS::Queue", "AWS::SQS::QueuePolicy",
    "AWS::Serverless::Function", "AWS::Serverless::LayerVersion", "AWS::Serverless::StateMachine",
    "AWS::StepFunctions::StateMachine",
}  # fmt: skip


def test_sam_publish_accepts_the_metadata() -> None:
    METADATA.validate(["name", "description", "author", "semantic_version"])  # what sam publish requires
    request = _create_application_request(METADATA, "template body")  # the CreateApplication call it would make
    assert request["Name"] == "event-tracker-provisioner" and request["SpdxLicenseId"] == "Apache-2.0"
    for field in ("HomePageUrl", "SourceCodeUrl"):
        assert re.fullmatch(r"https://\S+", request[field]), field


def test_the_metadata_keeps_the_repositorys_limits() -> None:
    """CreateApplication's constraints (Serverless Application Repository API reference)."""
    assert re.fullmatch(r"[a-zA-Z0-9\-]{1,140}", METADATA.name)
    assert re.fullmatch(r"[a-z0-9](([a-z0-9]|-(?!-))*[a-z0-9])?", METADATA.author) and len(METADATA.author) <= 127
    assert 1 <= len(METADATA.description) <= 256
    assert 1 <= len(METADATA.labels) <= 10
    assert all(re.fullmatch(r"[a-zA-Z0-9+\-_:/@]{1,127}", label) for label in METADATA.labels)
    assert re.fullmatch(r"\d+\.\d+\.\d+", METADATA.semantic_version)


def test_the_license_and_readme_are_files_sam_package_uploads() -> None:
    license_text = Path(ROOT, METADATA.license_url).read_text()
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert Path(ROOT, METADATA.readme_url).read_text().startswith("# event-tracker-provisioner")


def test_every_resource_type_is_one_the_repository_supports() -> None:
    template = expanded()
    deployed = {resource["Type"] for resource in template.doc["Resources"].values()}
    with_email = {resource["Type"] for resource in expanded({"NotificationEmail": "a@b.co"}).doc["Resources"].values()}
    sam_types = {resource["Type"] for resource in Template().doc["Resources"].values()}  # before the transform
    # The deletion hook's type is newer than the repository's list: docs/publishing.md publishes without it.
    unlisted = (deployed | with_email | sam_types) - SUPPORTED
    assert unlisted == {"AWS::CloudFormation::LambdaHook"}, sorted(unlisted)
    published = without_hook(json.loads(json.dumps(Template().source)))
    assert {resource["Type"] for resource in published["Resources"].values()} <= SUPPORTED
    assert "HasDeletionHook" not in json.dumps(published)
