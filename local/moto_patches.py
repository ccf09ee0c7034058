"""Every change this project makes to moto's behaviour, in one place.

Written for moto MOTO_VERSION (requirements-dev.txt pins it): each patch replaces a private method of moto's
Lambda backend or Step Functions engine, which a new version may rename or change.
`tests/unit/test_moto_patches.py` fails when the installed moto is another version, and checks that each patched
attribute still exists; read each patch again before moving the pin.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
from collections.abc import Callable
from typing import Any
from unittest import mock

from botocore.exceptions import ClientError
from botocore.loaders import JSONFileLoader
from moto.awslambda.models import LambdaBackend
from moto.core import models as moto_core
from moto.stepfunctions.parser.api import HistoryEventType, LambdaFunctionFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils import (
    LambdaFunctionErrorException,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_events
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import json_path
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

MOTO_VERSION = "5.2.5"

# (owner, attribute) of everything patched here.
PATCHED = (
    (LambdaBackend, "invoke"),
    (StateTaskLambda, "_from_error"),
    (StepFunctionsParserBackend, "start_execution"),
    (WaitFunction, "_wait_interval"),
    (retrier_decl, "time"),
    (moto_core, "RESPONSES_METHODS"),
    (lambda_eval_utils, "boto_client_for"),
    (state_task_service_events, "boto_client_for"),
)


def engine(invoke: Callable[..., str], time_scale: float) -> list[Any]:
    """The local engine's patches (not started): Lambda's Invoke runs `invoke`; a failed Lambda call is named as
    Step Functions names it; StartExecution is atomic; Wait states run at `time_scale`; a definition is parsed
    once, not at every CreateStateMachine and StartExecution (the evaluation keeps its state in each execution's
    environment, never in the parsed states); botocore's JSON models are read once (moto gives every engine a new
    default session, which would read them again for its first client of each service); so is each JSONPath; the
    engine's Lambda and EventBridge tasks share one client each (moto makes one at every task); and a mock does not
    register its thousands of URL patterns with the `requests` library, which nothing here calls AWS through
    (botocore's calls are moto's all the same)."""
    patches = [
        mock.patch.object(moto_core, "RESPONSES_METHODS", []),
        mock.patch.object(lambda_eval_utils, "boto_client_for", _task_client),
        mock.patch.object(state_task_service_events, "boto_client_for", _task_client),
        mock.patch.object(json_path, "parse", _JSONPATHS),
        botocore_models_read_once(),
        mock.patch.object(AmazonStateLanguageParser, "parse", staticmethod(_parsed)),
        mock.patch.object(LambdaBackend, "invoke", invoke),
        mock.patch.object(StateTaskLambda, "_from_error", _lambda_api_error_named_as_step_functions_does()),
        mock.patch.object(StepFunctionsParserBackend, "start_execution", _execution_names_checked_atomically()),
    ]
    if time_scale != 1.0:
        patches.append(mock.patch.object(WaitFunction, "_wait_interval", _scaled_wait(time_scale)))
    return patches


def _task_client(region: str, service: str, state_credentials: Any = None) -> Any:
    return _shared_task_client(region, service)  # moto's ignores the credentials too


_shared_task_client = functools.cache(lambda region, service: _BOTO_CLIENT_FOR(region=region, service=service))
_BOTO_CLIENT_FOR = lambda_eval_utils.boto_client_for


@functools.lru_cache(maxsize=32)
def _parsed(definition: str) -> Any:
    return _PARSE(definition)


_PARSE = AmazonStateLanguageParser.parse


_JSONPATHS = functools.lru_cache(maxsize=1024)(json_path.parse)  # jsonpath_ng builds a parser for every call
_LOADED: dict[str, Any] = {}
_LOAD_FILE = JSONFileLoader.load_file


def botocore_models_read_once() -> Any:
    """botocore's JSON models read once per process, not once per session (moto's mock gives each its own)."""
    return mock.patch.object(JSONFileLoader, "load_file", _load_file_once)


def _load_file_once(loader: JSONFileLoader, file_path: str) -> Any:
    # Every session of botocore shares what its loader returns among its clients, read-only; so can the sessions.
    if file_path not in _LOADED:
        _LOADED[file_path] = _LOAD_FILE(loader, file_path)
    return _LOADED[file_path]


def retry_clock(clock: Any) -> Any:
    """The clock the engine's Retry sleeps on (a test records the delays instead of sleeping them)."""
    return mock.patch.object(retrier_decl, "time", clock)


def _execution_names_checked_atomically() -> Callable[..., Any]:
    """StartExecution checks a name's uniqueness and creates the execution as one step on AWS; moto checks, then
    creates, so two concurrent starts with one name could both create an execution."""
    original = StepFunctionsParserBackend.start_execution
    lock = threading.Lock()

    def start_execution(backend: StepFunctionsParserBackend, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(backend, *args, **kwargs)

    return start_execution


def _has_error_type(payload: str) -> bool:
    with contextlib.suppress(ValueError):
        document = json.loads(payload)
        return isinstance(document, dict) and "errorType" in document
    return False


def _lambda_api_error_named_as_step_functions_does() -> Callable[..., Any]:
    """Step Functions names a failed Lambda API call `Lambda.<ErrorCode>`, and a function error without an
    errorType (a timeout on older runtimes, an out-of-memory) `Lambda.Unknown`; moto's engine says `Exception`."""
    original = StateTaskLambda._from_error

    def from_error(task: StateTaskLambda, env: Any, ex: Exception) -> Any:
        if isinstance(ex, LambdaFunctionErrorException) and not _has_error_type(ex.payload):
            name, cause = "Lambda.Unknown", ex.payload
        elif isinstance(ex, ClientError):
            name, cause = f"Lambda.{ex.response['Error']['Code']}", ex.response["Error"].get("Message", "")
        else:
            return original(task, env, ex)
        return FailureEvent(
            env=env,
            error_name=CustomErrorName(name),
            event_type=HistoryEventType.LambdaFunctionFailed,
            event_details=EventDetails(
                lambdaFunctionFailedEventDetails=LambdaFunctionFailedEventDetails(error=name, cause=cause)
            ),
        )

    return from_error


def _scaled_wait(scale: float) -> Callable[[WaitFunction, Any, int], None]:
    def wait(self: WaitFunction, env: Any, wait_seconds: int) -> None:
        if wait_seconds > 0:
            env.program_state_event.wait(wait_seconds * scale)

    return wait
