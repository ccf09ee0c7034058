"""What a function's code calls: its boto3 calls, read from its app.py and the common functions it uses (ast)."""

from __future__ import annotations

import ast
import functools
import os
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import boto3

from local.iam import IAM_ACTION
from local.template import Function
from tests.helpers import REGION, ROOT

SHARED = ROOT / "layers" / "shared"  # the SharedCodeLayer: common/
# The handlers' client variables: the boto3 service each is, and its IAM prefix.
CLIENTS = {
    "personalize": ("personalize", "personalize"),
    "ssm": ("ssm", "ssm"),
    "stepfunctions": ("stepfunctions", "states"),
    "awslambda": ("lambda", "lambda"),
    "events": ("events", "events"),
    "cloudformation": ("cloudformation", "cloudformation"),
}


@functools.cache
def api_names(client: str) -> dict[str, str]:
    """The client's methods and the API operations they call (made when first needed, not in every test worker)."""
    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": REGION}):
        return boto3.client(CLIENTS[client][0]).meta.method_to_api_mapping


def _module_functions(path: Path) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(path.read_text())
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def _common_imports(tree: ast.AST) -> dict[str, Path]:
    """The common names a module imports: `from common.x import f` as f, `from common import x` as x (a module,
    whose functions are called as x.f)."""
    imports = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("common."):
            for alias in node.names:
                imports[alias.asname or alias.name] = SHARED / (node.module.replace(".", "/") + ".py")
        elif isinstance(node, ast.ImportFrom) and node.module == "common":
            for alias in node.names:
                module = SHARED / "common" / f"{alias.name}.py"
                if module.exists():
                    imports[alias.asname or alias.name] = module
    return imports


def _common_function(target: ast.AST, imports: dict[str, Path]) -> tuple[Path, str] | None:
    """The common function a call names: `f(...)` imported from a common module, or `x.f(...)` of a common
    module x."""
    if isinstance(target, ast.Name) and target.id in imports:
        return imports[target.id], target.id
    if (
        isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id in imports
        and imports[target.value.id].stem == target.value.id
    ):
        return imports[target.value.id], target.attr
    return None


def _client_name(node: ast.AST) -> str | None:
    """The client variable a call is made on: `ssm.x()`, `self.ssm.x()` or `awslambda().x()` (made on first use)."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return node.attr
    return None


def _calls(node: ast.AST, imports: dict[str, Path], seen: set[tuple[Path, str]]) -> Iterator[str]:
    for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
        target = call.func
        client = _client_name(target.value) if isinstance(target, ast.Attribute) else None
        if isinstance(target, ast.Attribute) and client in CLIENTS:
            method = target.attr
            if method == "get_paginator":
                method = call.args[0].value  # type: ignore[attr-defined]
            if method in api_names(client):
                action = f"{CLIENTS[client][1]}:{api_names(client)[method]}"
                yield IAM_ACTION.get(action, action)
        elif (found := _common_function(target, imports)) is not None and found not in seen:
            path, name = found
            seen.add(found)
            functions = _module_functions(path)
            if name in functions:
                # What the function can call: the common names its module imports, and that module's own functions.
                names = {**_common_imports(ast.parse(path.read_text())), **dict.fromkeys(functions, path)}
                yield from _calls(functions[name], names, seen)


def called_actions(function: Function) -> set[str]:
    path = function.code_uri.joinpath(*function.handler.rpartition(".")[0].split(".")).with_suffix(".py")
    tree = ast.parse(path.read_text())
    return set(_calls(tree, _common_imports(tree), set()))


def _own_and_common(path: Path, tree: ast.AST) -> dict[str, Path]:
    return {**{name: path for name in _module_functions(path)}, **_common_imports(tree)}


LOOP_BOUND = 2  # a loop in a workflow function or the teardown runs over one group's parameters: two at most


def _count(node: ast.AST, path: Path, depth: int = 0) -> int:
    callable_here = _own_and_common(path, ast.parse(path.read_text()))

    def visit(current: ast.AST) -> int:
        count = 0
        if isinstance(current, ast.Call):
            target = current.func
            client = _client_name(target.value) if isinstance(target, ast.Attribute) else None
            if isinstance(target, ast.Attribute) and client in CLIENTS:
                method = current.args[0].value if target.attr == "get_paginator" else target.attr  # type: ignore[attr-defined]
                count += method in api_names(client)
            elif (found := _common_function(target, callable_here)) is not None and depth < 8:
                function = _module_functions(found[0]).get(found[1])
                if function is not None and function is not node:
                    count += _count(function, found[0], depth + 1)
        for child in ast.iter_child_nodes(current):
            count += visit(child) * (LOOP_BOUND if isinstance(current, ast.For) and child in current.body else 1)
        return count

    return visit(node)


def call_sites(function: Function, entry: str = "lambda_handler") -> int:
    """How many AWS calls one invocation can make at most along its code: every call site counted as often as
    the functions that hold it are called (a paginator as one call: the functions that loop are the reconciler
    and the sweeper, which watch their deadline instead). Not a measurement: an upper bound read from the code."""
    path = function.code_uri.joinpath(*function.handler.rpartition(".")[0].split(".")).with_suffix(".py")
    return _count(_module_functions(path)[entry], path)
