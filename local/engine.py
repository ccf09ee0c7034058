"""The application running on one machine: the real template, definition and handlers.

- the definition runs on moto's Step Functions engine;
- each Lambda task calls the real handler in-process, with the environment the
  template gives that function (applied while its module is imported, which is
  when the handlers read it: concurrent handlers never share an os.environ);
- SSM, EventBridge, SQS and CloudWatch are moto's; Personalize is the emulator,
  reached through boto3's AWS_ENDPOINT_URL_PERSONALIZE;
- every AWS call a handler makes is authorized against its function's role, as SAM expands
  the template (local.iam): a call no statement allows fails with AccessDeniedException;
- a handler that outlasts its function's Timeout ends the invocation as Lambda ends it
  (Sandbox.Timedout, or Lambda.Unknown for older runtimes); any AWS call it still makes fails.

With `containers` (a running `sam local start-lambda`, tools.sam_local), each task's function runs
in its Lambda container instead, called through the Lambda Invoke API; moto's services are then
also served over HTTP (`serve_at`), where the containers reach them. Only the invoker differs.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import functools
import importlib.util
import itertools
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from unittest import mock

import boto3
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.awslambda.exceptions import LambdaClientError
from moto.events.models import EventPattern
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from local import moto_patches
from local.faults import Faults
from local.iam import allowed as _allowed
from local.iam import request_resources, role_policies
from local.personalize_emulator import PersonalizeEmulator
from local.template import TEMPLATE, Function, Rule, Template, queue_of

if TYPE_CHECKING:
    from tools.sam_local import StartLambda

REGION = "us-east-1"
ACCOUNT = "123456789012"
# The engine's clock: Wait states, Personalize's creation times (the emulator's) and the workflow's deadlines
# (ProvisioningTimeoutSeconds, CloudFormationGraceSeconds) all at this fraction of their real length, so that every
# ratio between them holds. 1.0 for runs a person watches (`make local`), benchmarks, and tests about timing.
TIME_SCALE = 0.2
ASYNC_ATTEMPTS = 3  # Lambda's asynchronous invocations: the first and two retries
_module_ids = itertools.count()
MODULE_PREFIX = "_local_"
_import_lock = threading.Lock()


@dataclass
class Running:
    """One in-process invocation: whose role its AWS calls use, and whether Lambda has ended it."""

    function: str
    engine: Any  # the LocalEngine running it: only its own patch authorizes (tests may nest two)
    ended: threading.Event = field(default_factory=threading.Event)


_running: contextvars.ContextVar[Running | None] = contextvars.ContextVar("running", default=None)


class InvocationEnded(BaseException):
    """An AWS call of an invocation Lambda has already ended (timed out): a real one would not run any more.
    A BaseException, so that no handler's `except Exception` carries on."""


@dataclass
class LambdaContext:
    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 256
    aws_request_id: str = ""
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    timeout_seconds: float = 30.0  # the function's Timeout: what get_remaining_time_in_millis counts down from
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.started + self.timeout_seconds - time.monotonic()) * 1000))


@dataclass
class Invocation:
    """One Lambda invocation, as the local engine saw it."""

    function: str
    seconds: float
    error: str | None  # the errorType of a function that raised


@dataclass
class Execution:
    arn: str
    status: str
    output: Any
    error: str | None
    cause: str | None
    history: list[dict[str, Any]]
    seconds: float

    @property
    def state_transitions(self) -> int:
        """What Step Functions Standard bills: states entered, plus retries of a task."""
        entered = sum(1 for e in self.history if e["type"].endswith("StateEntered"))
        return entered + self.retries

    @property
    def lambda_invocations(self) -> int:
        return sum(1 for e in self.history if e["type"] == "LambdaFunctionScheduled")

    @property
    def failed_tasks(self) -> list[dict[str, Any]]:
        return [e for e in self.history if e["type"] in ("LambdaFunctionFailed", "TaskFailed")]

    @property
    def retries(self) -> int:
        """Task attempts beyond the first in each state: a healthy run has none."""
        extra = 0
        attempts = 0
        for event in self.history:
            if event["type"] == "TaskStateEntered":
                attempts = 0
            elif event["type"] in ("LambdaFunctionScheduled", "TaskScheduled"):
                attempts += 1
                extra += attempts > 1
        return extra

    def states_entered(self) -> list[str]:
        return [e["stateEnteredEventDetails"]["name"] for e in self.history if e["type"].endswith("StateEntered")]


@functools.cache
def _shared_session() -> boto3.Session:
    return boto3.Session()


@functools.cache
def _engine_client(service: str) -> Any:
    """The engine's own clients, made once per process: moto answers them in whichever engine's mock runs."""
    return _shared_session().client(service, region_name=REGION)


def load_handler(function: Function) -> Callable[[Any, Any], Any]:
    """Import the function's module afresh, under its own environment, and return its handler."""
    module_path, _, handler_name = function.handler.rpartition(".")
    path = function.code_uri.joinpath(*module_path.split(".")).with_suffix(".py")
    with _import_lock, mock.patch.dict(os.environ, function.environment):
        for directory in (function.code_uri, *function.layer_paths):
            if str(directory) not in sys.path:
                sys.path.insert(0, str(directory))
        spec = importlib.util.spec_from_file_location(f"{MODULE_PREFIX}{function.logical_id}_{next(_module_ids)}", path)
        assert spec and spec.loader, path
        module: ModuleType = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # as an import would; dataclasses look their module up there
        spec.loader.exec_module(module)
    return getattr(module, handler_name)


def lambda_error(error: BaseException) -> dict[str, Any]:
    """A handler's exception as the Python Lambda runtime reports it."""
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": "",
        "stackTrace": traceback.format_tb(error.__traceback__),
    }


# The Python runtime's answer for a handler that raised (awslambdaric's make_error; lambda_error above).
RUNTIME_ERROR_KEYS = frozenset({"errorMessage", "errorType", "requestId", "stackTrace"})


def runtime_error_document(payload: str) -> bool:
    """Whether a payload is the Python runtime's error document, for which Lambda sets FunctionError.

    `sam local start-lambda` sets FunctionError only for payloads of the keys errorMessage, errorType, stackTrace
    and cause (or of exactly three keys); the python3.12+ runtimes add requestId, so SAM CLI answers a function
    that raised as if it had returned. Lambda reports it as a function error: so does the local engine."""
    try:
        document = json.loads(payload)
    except ValueError:
        return False
    return isinstance(document, dict) and set(document) == RUNTIME_ERROR_KEYS


class FunctionError(Exception):
    """A function that raised, as the Lambda Invoke API reports it (`call` on a container)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


class TooManyRequests(LambdaClientError):
    """Lambda's answer to an invocation beyond the account's concurrency."""

    code = 429

    def __init__(self, message: str) -> None:
        super().__init__("TooManyRequestsException", message)


def scaled_definition(definition: str, scale: float) -> str:
    """The definition with the deadlines its tasks pass to the functions at `scale` (Wait states are scaled as they
    run): ProvisioningTimeoutSeconds (`polling.timeoutSeconds`) and CloudFormationGraceSeconds (`graceSeconds`), and
    the execution's own TimeoutSeconds."""
    if scale == 1.0:
        return definition

    def scale_node(node: Any) -> Any:
        if isinstance(node, dict):
            scaled = {key: scale_node(value) for key, value in node.items()}
            for key in ("timeoutSeconds", "graceSeconds"):
                if isinstance(scaled.get(key), str):
                    scaled[key] = f"{float(scaled[key]) * scale:g}"
            return scaled
        if isinstance(node, list):
            return [scale_node(item) for item in node]
        return node

    scaled = scale_node(json.loads(definition))
    if "TimeoutSeconds" in scaled:  # the execution's backstop, on the same clock
        scaled["TimeoutSeconds"] = max(1, round(scaled["TimeoutSeconds"] * scale))
    return json.dumps(scaled)


class LocalEngine:
    """Start with `with LocalEngine(...) as stack:`; then start executions and inspect the world."""

    def __init__(
        self,
        emulator: PersonalizeEmulator | Any,  # anything with the emulator's `url`
        overrides: dict[str, Any] | None = None,
        template_path: Path = TEMPLATE,
        lambda_concurrency: int | None = None,
        lambda_seconds: float = 0.0,
        containers: StartLambda | None = None,
        serve_at: tuple[str, int] | None = None,
        enforce_iam: bool = True,
        timeout_error: str | None = "Sandbox.Timedout",
        function_timeouts: dict[str, float] | None = None,
        time_scale: float = TIME_SCALE,
    ) -> None:
        """`lambda_concurrency`: the account's Lambda concurrency (None: unlimited); an invocation beyond it is
        refused with TooManyRequestsException, as Lambda refuses it. `lambda_seconds`: how long each invocation
        holds its slot at least (in-process handlers take milliseconds; real invocations take longer).
        `enforce_iam`: authorize every AWS call of an in-process handler against its role (`policies`, which a
        test may change once entered). `timeout_error`: the errorType Lambda reports for a function that timed
        out (python3.13: Sandbox.Timedout; None: none, which Step Functions names Lambda.Unknown).
        `function_timeouts`: a shorter Timeout for some functions, for tests of timeouts. `time_scale`: the
        engine's clock (TIME_SCALE); 1.0 for real time."""
        self.emulator = emulator
        self.lambda_concurrency = lambda_concurrency
        self.lambda_seconds = lambda_seconds
        self._slots = threading.BoundedSemaphore(lambda_concurrency) if lambda_concurrency else None
        self.lambda_throttled = 0
        self.lambda_invoked = 0
        self._count_lock = threading.Lock()
        self.template = Template(template_path, overrides, REGION, ACCOUNT)
        self.machine = self.template.state_machine()
        self.functions = self.template.functions()
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}  # each imported at its first invocation
        self._handlers_lock = threading.Lock()
        self._patches: list[Any] = []
        self.containers = containers
        self._lambda_api = containers.client() if containers else None
        self.serve_at = serve_at
        self._moto_server: Any = None
        self.ran: list[Invocation] = []  # every invocation: function, seconds, error type
        self.on_wait: list[Callable[[Execution], None]] = []  # called with every execution waited for
        self.enforce_iam = enforce_iam and containers is None
        self.policies: dict[str, list[dict[str, Any]]] = {}  # by function: its role's policy documents
        self.denied: list[str] = []  # `<function>: <action> on <resource>` for every call IAM denied
        self.timed_out: list[str] = []  # functions whose invocation outlasted its Timeout
        self._abandoned: list[threading.Thread] = []  # their threads, ended before the engine is
        self.timeout_error = timeout_error
        self.faults = Faults(time_scale)  # every service's but Personalize's own, and Lambda's (local.faults.inject)
        self.dead_letters: list[tuple[str, Any]] = []  # (target, event) EventBridge or Lambda gave up on
        self.function_errors: list[str] = []  # each invocation that raised or timed out, by function
        self.function_timeouts = function_timeouts or {}
        self.time_scale = time_scale
        self.definition = scaled_definition(self.machine.definition, time_scale)

    @property
    def where(self) -> str:
        """Where the functions run."""
        if self.containers is None:
            return "in-process (this Python)"
        return f"containers: sam local start-lambda {self.containers.url} (python3.13 {self.containers.architecture})"

    # ------------------------------------------------------------ lifecycle
    def __enter__(self) -> LocalEngine:
        env = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL_PERSONALIZE": self.emulator.url,
        }
        self._patches = [
            mock.patch.dict(os.environ, env),
            *moto_patches.engine(self._invoke_patch(), self.time_scale),  # before the mock, which they shape
            mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
            # moto gives each mock a new default session; one for every engine of the process makes clients faster
            mock.patch("boto3.DEFAULT_SESSION", _shared_session()),
            mock.patch.object(BaseClient, "_make_api_call", self._api_call_patch()),
        ]
        if self.time_scale != 1.0 and hasattr(self.emulator, "time_scale"):
            self._patches.append(mock.patch.object(self.emulator, "time_scale", self.time_scale))
        if self.enforce_iam:
            self.policies = role_policies(self.template)
        for patch in self._patches:
            patch.start()
        if self.serve_at is not None:  # moto's server shares the in-process backends
            from moto.server import ThreadedMotoServer

            logging.getLogger("werkzeug").setLevel(logging.ERROR)
            self._moto_server = ThreadedMotoServer(ip_address=self.serve_at[0], port=self.serve_at[1], verbose=False)
            self._moto_server.start()
        # The engine logs each failure it handles; the execution history already records them.
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        self.sfn = _engine_client("stepfunctions")
        self.ssm = _engine_client("ssm")
        self.events = _engine_client("events")
        self.sqs = _engine_client("sqs")
        # Not one per process like the others: each emulator has its own endpoint, and a client kept would keep it.
        self.personalize = _shared_session().client("personalize", region_name=REGION, endpoint_url=self.emulator.url)
        for layer in {str(path) for function in self.functions.values() for path in function.layer_paths}:
            if layer not in sys.path:  # the functions' shared code (common), as their layer gives it to them
                sys.path.insert(0, layer)
        self.state_machine_arn = self.sfn.create_state_machine(
            name=self.machine.logical_id,
            definition=self.definition,
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/local",
            type="STANDARD",
        )["stateMachineArn"]
        self._watch_notifications()
        return self

    def __exit__(self, *exc: object) -> None:
        # Lambda ends a timed-out invocation; here its thread may still wait on a hung call. Answer that call and
        # let the thread meet InvocationEnded at its next one, while AWS is still this engine's.
        if self._abandoned and hasattr(self.emulator, "clear_faults"):
            self.emulator.clear_faults()
        for thread in self._abandoned:
            thread.join(10)
        for handler in self._handlers.values():  # each module holds its clients: a worker runs hundreds of engines
            if getattr(handler, "__module__", "").startswith(MODULE_PREFIX):
                sys.modules.pop(handler.__module__, None)
        self.personalize.close()
        if self._moto_server is not None:
            self._moto_server.stop()
            self._moto_server = None
        for patch in reversed(self._patches):
            patch.stop()

    # ------------------------------------------------------------ Lambda, in-process
    def handler(self, name: str) -> Callable[[Any, Any], Any]:
        """The function's handler, its module imported at the first invocation (Lambda's init, which the
        invocation's Timeout does not count): a test runs the few functions it needs, not all of them."""
        with self._handlers_lock:
            if name not in self._handlers:
                self._handlers[name] = load_handler(self.functions[name])
            return self._handlers[name]

    def module(self, name: str) -> ModuleType:
        """The function's module, as its handler reads its globals (for tests that replace one)."""
        return sys.modules[self.handler(name).__module__]

    def _invoke_patch(self) -> Callable[..., str]:
        stack = self

        def invoke(
            backend: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any
        ) -> str:
            name = function_name.rsplit(":", 1)[-1]
            if (headers or {}).get("X-Amz-Invocation-Type") == "Event":
                return stack.invoke_async(name, body, response_headers)
            return stack.invoke(name, body, response_headers)

        return invoke

    def invoke(self, name: str, body: Any, response_headers: dict[str, str]) -> str:
        fault = self.faults.meet("lambda", name)
        if fault is not None:
            raise LambdaClientError(fault.error, f"Injected {fault.error}")
        if self._slots is not None and not self._slots.acquire(blocking=False):
            with self._count_lock:
                self.lambda_throttled += 1
            raise TooManyRequests(f"Rate Exceeded. (concurrency {self.lambda_concurrency} in use)")
        try:
            with self._count_lock:
                self.lambda_invoked += 1
            started = time.monotonic()
            answer = self._run_handler(name, body, response_headers)
            time.sleep(max(0.0, self.lambda_seconds - (time.monotonic() - started)))
            return answer
        finally:
            if self._slots is not None:
                self._slots.release()

    def invoke_async(self, name: str, body: Any, response_headers: dict[str, str]) -> str:
        """InvocationType Event (here run before Invoke answers 202): Lambda retries a failed invocation twice, then
        sends the event to the function's dead-letter queue."""
        for _ in range(ASYNC_ATTEMPTS):
            headers: dict[str, str] = {}
            self.invoke(name, body, headers)
            if not headers.get("x-amz-function-error"):
                return ""
        self._dead_letter(name, json.loads(body) if body else {})
        return ""

    def _run_handler(self, name: str, body: Any, response_headers: dict[str, str]) -> str:
        """The handler on a thread of its own, ended at its Timeout as Lambda ends it."""
        if self._lambda_api is not None:
            return self._run_in_container(name, body, response_headers)
        event = json.loads(body) if body else {}
        handler = self.handler(name)
        context = self._context(name)
        started = time.monotonic()
        running = Running(name, self)
        outcome: dict[str, Any] = {}

        def run() -> None:
            _running.set(running)
            try:
                outcome["result"] = handler(event, context)
            except Exception as error:
                outcome["error"] = error
            except InvocationEnded:
                pass

        thread = threading.Thread(target=run, name=f"lambda-{name}", daemon=True)
        thread.start()
        thread.join(context.timeout_seconds)
        if thread.is_alive():
            running.ended.set()
            with self._count_lock:
                self.timed_out.append(name)
                self._abandoned.append(thread)
            response_headers["x-amz-function-error"] = "Unhandled"
            self._ran(name, started, self.timeout_error or "Lambda.Unknown")
            message = (
                f"RequestId: {context.aws_request_id} Error: Task timed out after {context.timeout_seconds:.2f} seconds"
            )
            document = {"errorMessage": message, **({"errorType": self.timeout_error} if self.timeout_error else {})}
            return json.dumps(document)
        if "error" in outcome:
            response_headers["x-amz-function-error"] = "Unhandled"
            self._ran(name, started, type(outcome["error"]).__name__)
            return json.dumps(lambda_error(outcome["error"]))
        self._ran(name, started, None)
        return json.dumps(outcome["result"])

    # ------------------------------------------------------------ IAM, and invocations that ended
    def _api_call_patch(self) -> Callable[..., Any]:
        original = BaseClient._make_api_call
        stack = self

        def make_api_call(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
            running = _running.get()
            if running is not None and running.engine is stack:
                if running.ended.is_set():
                    raise InvocationEnded(f"{running.function} timed out before calling {operation_name}")
                stack.authorize(running.function, client, operation_name, api_params)
                service = client.meta.service_model.service_name
                fault = stack.faults.meet(service, operation_name)
                if fault is not None:
                    if fault.acted:
                        original(client, operation_name, api_params)
                    raise fault.client_error(service, operation_name, REGION)
            return original(client, operation_name, api_params)

        return make_api_call

    def authorize(self, function: str, client: BaseClient, operation: str, params: dict[str, Any]) -> None:
        """Raise AccessDeniedException, as AWS does, for a call the function's role does not allow."""
        if not self.enforce_iam:
            return
        service = client.meta.service_model.service_name
        policies = self.policies.get(function, [])
        for action, resource in request_resources(service, operation, params, REGION, ACCOUNT):
            if _allowed(policies, action, resource, self.condition_context(resource)):
                continue
            role = f"arn:aws:sts::{ACCOUNT}:assumed-role/{function}Role/{function}"
            message = (
                f"User: {role} is not authorized to perform: {action} on resource: {resource} "
                f"because no identity-based policy allows the {action} action"
            )
            with self._count_lock:
                self.denied.append(f"{function}: {action} on {resource}")
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": message}}, operation)

    def condition_context(self, resource: str) -> dict[str, str]:
        """IAM's context keys for a request on `resource`: the tags Personalize keeps on it."""
        tags = getattr(self.emulator, "tags", {}).get(resource, {})
        return {f"aws:ResourceTag/{key}": value for key, value in tags.items()}

    def _run_in_container(self, name: str, body: Any, response_headers: dict[str, str]) -> str:
        """The function in its container, through the Lambda Invoke API: its answer as Lambda gives it.

        An error of the API itself (a ClientError) propagates: the engine names it `Lambda.<ErrorCode>`."""
        assert self._lambda_api is not None and self.containers is not None
        started = time.monotonic()
        answer = self._lambda_api.invoke(FunctionName=name, Payload=body or b"{}")
        payload = answer["Payload"].read().decode()
        error = None
        function_error = answer.get("FunctionError") or ("Unhandled" if runtime_error_document(payload) else None)
        if function_error:
            response_headers["x-amz-function-error"] = function_error
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                error = json.loads(payload).get("errorType")
            error = error or function_error
        self._ran(name, started, error)
        return payload

    def _ran(self, name: str, started: float, error: str | None) -> None:
        with self._count_lock:
            self.ran.append(Invocation(name, time.monotonic() - started, error))
            if error is not None:
                self.function_errors.append(name)

    def call(self, name: str, event: Any, timeout_seconds: float | None = None) -> Any:
        """Invoke a function directly (a scheduled run, a manual invoke), raising what it raises.

        `timeout_seconds` stands in for the function's Timeout, for a handler that watches its remaining time
        (in-process only: a container has the template's Timeout). In a container, a function that raised
        raises FunctionError with its errorType.
        """
        if self._lambda_api is not None:
            headers: dict[str, str] = {}
            payload = json.loads(self._run_in_container(name, json.dumps(event).encode(), headers))
            if headers.get("x-amz-function-error"):
                raise FunctionError(payload.get("errorType", "Unhandled"), payload.get("errorMessage", ""))
            return payload
        token = _running.set(Running(name, self))
        try:
            return self.handler(name)(json.loads(json.dumps(event)), self._context(name, timeout_seconds))
        except Exception:
            with self._count_lock:
                self.function_errors.append(name)
            raise
        finally:
            _running.reset(token)

    def _context(self, name: str, timeout_seconds: float | None = None) -> LambdaContext:
        # The function's Timeout, its Globals merged (Lambda's default: 3 s).
        timeout = self.function_timeouts.get(name, self.functions[name].properties.get("Timeout", 3))
        return LambdaContext(
            function_name=name,
            invoked_function_arn=self.template.resource_arn(name),
            aws_request_id=str(uuid.uuid4()),
            timeout_seconds=float(timeout if timeout_seconds is None else timeout_seconds),
        )

    # ------------------------------------------------------------ the rules
    def matching_rules(self, event: Any) -> list[Rule]:
        """The template's EventBridge rules that match the event (moto's real pattern matcher)."""
        if not isinstance(event, dict):
            return []
        return [
            rule for rule in self.template.rules() if EventPattern.load(json.dumps(rule.pattern)).matches_event(event)
        ]

    def rule_matches(self, event: Any) -> bool:
        """Whether the template's own EventBridge rule would start the workflow for this event."""
        return any(rule.target == self.machine.logical_id for rule in self.matching_rules(event))

    def deliver(self, event: Any) -> dict[str, Any]:
        """What EventBridge would do with the event: start executions and invoke functions, by rule.

        A function is invoked asynchronously: Lambda retries an invocation that failed twice, then sends the
        event to the function's dead-letter queue (`dead_letters`, with the last error as its result)."""
        results: dict[str, Any] = {}
        for rule in self.matching_rules(event):
            if rule.target == self.machine.logical_id:
                try:
                    results[rule.target] = self.start(event)
                except ClientError as error:  # the target refused it (gone, denied): the rule's dead-letter queue
                    self._dead_letter(rule.target, event, rule.dead_letter_queue)
                    results[rule.target] = error
                continue
            for attempt in range(ASYNC_ATTEMPTS):
                try:
                    results[rule.target] = self.call(rule.target, event)
                    break
                except Exception as error:
                    if attempt == ASYNC_ATTEMPTS - 1:
                        self._dead_letter(rule.target, event)
                        results[rule.target] = error
        return results

    def _dead_letter(self, target: str, event: Any, rule_queue: str | None = None) -> None:
        """What EventBridge gave up on goes to the rule's queue; what Lambda gave up on, to the function's."""
        function = self.functions.get(target)
        queue = queue_of(function.properties.get("DeadLetterQueue", {}).get("TargetArn")) if function else rule_queue
        self.dead_letters.append((target, event))
        if queue is None:
            return
        token = _running.set(None)  # Lambda's or EventBridge's doing, even within the invocation that invoked
        try:
            url = self.sqs.create_queue(QueueName=queue)["QueueUrl"]  # named by its logical ID, as the template says
            self.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event))
        finally:
            _running.reset(token)

    # ------------------------------------------------------------ executions
    def start(self, event: Any, name: str | None = None) -> str:
        return self.sfn.start_execution(
            stateMachineArn=self.state_machine_arn,
            name=name or f"local-{uuid.uuid4()}",  # moto names every unnamed execution None
            input=json.dumps(event),
        )["executionArn"]

    def wait(self, arn: str, timeout: float = 120.0) -> Execution:
        started = time.monotonic()
        while self._still_running(arn):
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"{arn} still RUNNING after {timeout} s")
            time.sleep(0.01)  # a read of moto's backend: cheap; tests wait for about a thousand executions
        description = self.sfn.describe_execution(executionArn=arn)
        execution = Execution(
            arn=arn,
            status=description["status"],
            output=json.loads(description["output"]) if description.get("output") else None,
            error=description.get("error"),
            cause=description.get("cause"),
            history=self.history(arn),
            # moto sets no stopDate on a timed-out execution (AWS sets one on every execution that ended)
            seconds=(description.get("stopDate", datetime.now(UTC)) - description["startDate"]).total_seconds(),
        )
        for observer in self.on_wait:
            observer(execution)
        return execution

    def _still_running(self, arn: str) -> bool:
        """Read from moto's backend: a DescribeExecution through boto3 every 50 ms cost a tenth of the tests' time."""
        status = stepfunctions_parser_backends[ACCOUNT][REGION].describe_execution(arn).exec_status
        return status is None or status.value == "RUNNING"

    def run(self, event: Any, timeout: float = 120.0) -> Execution:
        return self.wait(self.start(event), timeout)

    def history(self, arn: str) -> list[dict[str, Any]]:
        """The execution's events, as GetExecutionHistory answers them, read from moto's backend: through boto3,
        reading every execution's history cost a seventh of the tests' CPU (49 ms against 0.3 ms for 39 events)."""
        events = copy.deepcopy(stepfunctions_parser_backends[ACCOUNT][REGION].get_execution_history(arn)["events"])
        for event in events:
            event["type"] = getattr(event["type"], "value", event["type"])
            event["timestamp"] = datetime.fromisoformat(event["timestamp"])
        return events

    # ------------------------------------------------------------ the world around it
    def create_dataset_group(self, name: str, **kwargs: Any) -> str:
        return self.personalize.create_dataset_group(name=name, **kwargs)["datasetGroupArn"]

    def parameter_name(self, dataset_group_name: str) -> str:
        """Where the workflow stores the dataset group's trackingId, by the functions' own rule."""
        from common.parameters import parameter_name  # on sys.path once the stack has started

        return parameter_name(self.template.parameters["ParameterPrefix"], dataset_group_name)

    def parameter(self, name: str) -> dict[str, Any] | None:
        try:
            parameter = self.ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        except self.ssm.exceptions.ParameterNotFound:
            return None
        described = self.ssm.describe_parameters(
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}]
        )["Parameters"][0]
        tags = self.ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
        return {
            "Value": parameter["Value"],
            "Type": parameter["Type"],
            "Version": parameter["Version"],
            "Description": described.get("Description", ""),
            "Tags": {tag["Key"]: tag["Value"] for tag in tags},
        }

    def parameters(self) -> list[str]:
        pages = self.ssm.get_paginator("describe_parameters").paginate()
        return [p["Name"] for page in pages for p in page["Parameters"]]

    def _watch_notifications(self) -> None:
        self._queue_url = self.sqs.create_queue(QueueName="local-notifications")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.events.put_rule(
            Name="local-notifications", EventPattern=json.dumps({"source": ["event-tracker-provisioner"]})
        )
        self.events.put_targets(Rule="local-notifications", Targets=[{"Id": "queue", "Arn": queue_arn}])
        self._notifications: list[dict[str, Any]] = []

    def notifications(self) -> list[dict[str, Any]]:
        """Events the workflow put on the default bus, oldest first."""
        while True:
            messages = self.sqs.receive_message(QueueUrl=self._queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return list(self._notifications)
            for message in messages:
                self._notifications.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
