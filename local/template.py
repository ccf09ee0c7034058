"""Read the real template.yaml as CloudFormation would: parameters, conditions, intrinsics.

Only what the local run needs: the state machine's definition with its
DefinitionSubstitutions, the functions' handlers and environment, and the EventBridge rule patterns. Nothing is
copied out of the template.

One reader, two layers: SAM's own translator (samtranslator, as SAM CLI uses it) does what is SAM's, merging
`Globals` here and expanding the whole transform for IAM (`expand`: local/iam.py, tools/stackset.py); it
leaves parameters, conditions and intrinsic functions to CloudFormation, so this resolver does those, on the
template or on the translator's output (`document`).
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

from samcli.yamlhelper import yaml_parse
from samtranslator.plugins.globals.globals_plugin import GlobalsPlugin
from samtranslator.translator.transform import transform

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"

_NO_VALUE = object()
_STATE_MACHINES = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")


def expand(document: dict[str, Any], region: str = "us-east-1") -> dict[str, Any]:
    """The template as CloudFormation sees it after the AWS::Serverless transform."""
    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": region}):
        # The template attaches managed policies by ARN only: no lookup of policy names is needed.
        return transform(json.loads(json.dumps(document)), {}, SimpleNamespace(load=dict))


class TemplateError(ValueError):
    """A template or parameter override that CloudFormation would reject."""


@dataclass
class Function:
    logical_id: str
    handler: str
    code_uri: Path
    environment: dict[str, str]
    properties: dict[str, Any]
    # The content of its layers defined in this template, as Python finds them in /opt/python once built.
    layer_paths: list[Path] = field(default_factory=list)


@dataclass
class Rule:
    """An EventBridgeRule event of a function or state machine: its pattern and its target."""

    name: str
    target: str  # logical ID: a function or a state machine
    pattern: dict[str, Any]
    dead_letter_queue: str | None = None  # logical ID of the queue EventBridge sends what it could not deliver


@dataclass
class StateMachine:
    logical_id: str
    definition: str  # substituted, ready to run
    raw_definition: str  # as on disk, with ${...} placeholders
    substitutions: dict[str, str]
    rule_patterns: dict[str, dict[str, Any]]  # EventBridgeRule event name -> pattern


class Template:
    def __init__(
        self,
        path: Path = TEMPLATE,
        overrides: dict[str, Any] | None = None,
        region: str = "us-east-1",
        account: str = "123456789012",
        stack_name: str = "local",
        document: dict[str, Any] | None = None,
    ) -> None:
        self.path = path
        self.source: dict[str, Any] = document if document is not None else read(path)  # as written
        self.doc: dict[str, Any] = document if document is not None else _with_globals(self.source)
        self.pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": account,
            "AWS::Partition": "aws",
            "AWS::StackName": stack_name,
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.region, self.account = region, account
        self.parameters = self._parameters(overrides or {})
        self.conditions = {name: bool(self.resolve(expr)) for name, expr in self.doc.get("Conditions", {}).items()}

    # ------------------------------------------------------------ parameters
    def _parameters(self, overrides: dict[str, Any]) -> dict[str, str]:
        declared = self.doc.get("Parameters", {})
        unknown = set(overrides) - set(declared)
        if unknown:
            raise TemplateError(f"Unknown template parameters: {', '.join(sorted(unknown))}")
        values: dict[str, str] = {}
        for name, spec in declared.items():
            value = str(overrides.get(name, spec.get("Default", "")))
            self._check(name, spec, value)
            values[name] = value
        return values

    @staticmethod
    def _check(name: str, spec: dict[str, Any], value: str) -> None:
        def reject(why: str) -> TemplateError:
            return TemplateError(f"Parameter {name}={value!r}: {why}")

        if spec.get("Type") == "Number":
            try:
                number = float(value)
            except ValueError:
                raise reject("not a number") from None
            if "MinValue" in spec and number < float(spec["MinValue"]):
                raise reject(f"below MinValue {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                raise reject(f"above MaxValue {spec['MaxValue']}")
        if "AllowedValues" in spec and value not in [str(v) for v in spec["AllowedValues"]]:
            raise reject(f"not one of {spec['AllowedValues']}")
        if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
            raise reject(f"does not match {spec['AllowedPattern']}")
        if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
            raise reject(f"longer than {spec['MaxLength']}")

    # ------------------------------------------------------------ intrinsics
    def _generated_kind(self, logical_id: str) -> str:
        """The type of a resource SAM generates from an event: `<resource><event name>` (its rule)."""
        for owner, resource in self.doc["Resources"].items():
            for event_name, event in resource.get("Properties", {}).get("Events", {}).items():
                if owner + event_name == logical_id and event["Type"] in ("EventBridgeRule", "Schedule"):
                    return "AWS::Events::Rule"
        raise TemplateError(f"{logical_id} is neither a resource of the template nor one SAM generates")

    def resource_arn(self, logical_id: str) -> str:
        resource = self.doc["Resources"].get(logical_id)
        kind = resource["Type"] if resource else self._generated_kind(logical_id)
        if kind == "AWS::Events::Rule":
            return f"arn:aws:events:{self.region}:{self.account}:rule/{logical_id}"
        if kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            return f"arn:aws:lambda:{self.region}:{self.account}:function:{logical_id}"
        if kind in _STATE_MACHINES:
            return f"arn:aws:states:{self.region}:{self.account}:stateMachine:{logical_id}"
        if kind == "AWS::SQS::Queue":
            return f"arn:aws:sqs:{self.region}:{self.account}:{logical_id}"
        return f"arn:aws:local:{self.region}:{self.account}:{logical_id}"

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.doc.get("Resources", {}):
            kind = self.doc["Resources"][name]["Type"]
            return self.resource_arn(name) if kind in _STATE_MACHINES else name
        raise TemplateError(f"Ref to unknown {name}")

    def _get_att(self, logical_id: str, attribute: str) -> str:
        if attribute == "Arn":
            return self.resource_arn(logical_id)
        if attribute in ("Name", "QueueName"):
            return logical_id  # locally, resources are named by their logical ID
        raise TemplateError(f"GetAtt {logical_id}.{attribute} is not supported locally")

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            key = match.group(1)
            if key.startswith("!"):
                return "${" + key[1:] + "}"
            if key in variables:
                return str(variables[key])
            if "." in key:
                return self._get_att(*key.split(".", 1))
            return str(self._ref(key))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def resolve(self, node: Any) -> Any:
        """A template fragment with its intrinsic functions and conditions evaluated."""
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, value),) = node.items()
            if key == "Ref":
                return self._ref(value)
            if key == "Fn::GetAtt":
                logical_id, attribute = value if isinstance(value, list) else value.split(".", 1)
                return self._get_att(logical_id, attribute)
            if key == "Fn::Sub":
                text, variables = (value, {}) if isinstance(value, str) else (value[0], self.resolve(value[1]))
                return self._sub(text, variables)
            if key == "Fn::If":
                name, then, otherwise = value
                return self.resolve(then if self.conditions[name] else otherwise)
            if key == "Fn::Equals":
                left, right = self.resolve(value)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(value[0])
            if key == "Fn::And":
                return all(self.resolve(value))
            if key == "Fn::Or":
                return any(self.resolve(value))
            if key == "Condition":
                return self.conditions[value]
            if key == "Fn::Join":
                separator, items = value
                return separator.join(str(item) for item in self.resolve(items))
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not _NO_VALUE}

    # ------------------------------------------------------------ what the local run needs
    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.doc.get("Resources", {}).items()
            if resource["Type"] == kind
            and (resource.get("Condition") is None or self.conditions[resource["Condition"]])
        }

    def functions(self) -> dict[str, Function]:
        functions = {}
        for logical_id, resource in self.resources("AWS::Serverless::Function").items():
            properties = self.resolve(resource.get("Properties", {}))  # Globals merged by SAM's own plugin
            environment = properties.get("Environment", {}).get("Variables", {})
            layers = resource.get("Properties", {}).get("Layers", [])
            functions[logical_id] = Function(
                logical_id=logical_id,
                handler=properties["Handler"],
                code_uri=(self.path.parent / properties["CodeUri"]).resolve(),
                environment={key: str(value) for key, value in environment.items()},
                properties=properties,
                layer_paths=[path for layer in layers if (path := self._layer_path(layer))],
            )
        return functions

    def _layer_path(self, layer: Any) -> Path | None:
        """The source of a layer this template builds (BuildMethod python3.x puts it in python/); None for an ARN."""
        if not (isinstance(layer, dict) and layer.get("Ref") in self.resources("AWS::Serverless::LayerVersion")):
            return None
        content_uri = self.doc["Resources"][layer["Ref"]]["Properties"]["ContentUri"]
        return (self.path.parent / content_uri).resolve()

    def state_machine(self, logical_id: str | None = None) -> StateMachine:
        machines = self.resources("AWS::Serverless::StateMachine")
        logical_id = logical_id or next(iter(machines))
        properties = machines[logical_id]["Properties"]
        raw = (self.path.parent / properties["DefinitionUri"]).read_text()
        substitutions = {
            key: str(self.resolve(value)) for key, value in properties.get("DefinitionSubstitutions", {}).items()
        }
        definition = re.sub(
            r"\$\{([A-Za-z0-9_]+)\}",
            lambda match: substitutions[match.group(1)] if match.group(1) in substitutions else match.group(0),
            raw,
        )
        patterns = {rule.name: rule.pattern for rule in self.rules() if rule.target == logical_id}
        return StateMachine(logical_id, definition, raw, substitutions, patterns)

    def rules(self) -> list[Rule]:
        """Every EventBridgeRule event in the template, with its resolved pattern."""
        rules = []
        for kind in ("AWS::Serverless::StateMachine", "AWS::Serverless::Function"):
            for logical_id, resource in self.resources(kind).items():
                for name, event in resource.get("Properties", {}).get("Events", {}).items():
                    if event["Type"] == "EventBridgeRule":
                        pattern = json.loads(json.dumps(self.resolve(event["Properties"]["Pattern"])))
                        queue = queue_of(event["Properties"].get("DeadLetterConfig", {}).get("Arn"))
                        rules.append(Rule(name, logical_id, pattern, queue))
        return rules


def queue_of(arn: Any) -> str | None:
    """The queue's name (locally its logical ID) of `!GetAtt <Queue>.Arn`, or of its resolved ARN."""
    if isinstance(arn, dict) and "Fn::GetAtt" in arn:
        target = arn["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".", 1)[0])
    if isinstance(arn, str) and arn.startswith("arn:"):
        return arn.rsplit(":", 1)[-1]
    return None


def read(path: Path) -> dict[str, Any]:
    """The template at `path` as written, as plain JSON values (a copy of what was parsed: every engine of a test run
    reads it)."""
    return json.loads(_parsed(str(path), path.stat().st_mtime_ns))  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=8)
def _parsed(path: str, modified: int) -> str:
    return json.dumps(yaml_parse(Path(path).read_text()))  # SAM CLI's own reader, as `sam local` reads it


def _with_globals(document: dict[str, Any]) -> dict[str, Any]:
    """The template with its Globals merged into each resource, by SAM's own Globals plugin (which drops the section:
    it is kept, as written, for whoever reads the settings themselves)."""
    merged = json.loads(json.dumps(document))
    GlobalsPlugin().on_before_transform_template(merged)
    if "Globals" in document:
        merged["Globals"] = json.loads(json.dumps(document["Globals"]))
    return merged
