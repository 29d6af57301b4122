"""Run a Pulumi program under the SDK's own mock runtime and record what the engine would receive.

:class:`RecordingMonitor` subclasses the SDK's ``MockMonitor`` and keeps every
``RegisterResourceRequest`` as a :class:`RecordedResource`: type, name, parent, wire-format
inputs, options (protect, retainOnDelete, ignoreChanges, ...), provider and dependencies.

Two modes:

- ``unknowns=False`` (default): the mocks answer with plausible computed outputs (ids, ARNs, auto
  names), like a preview of a stack whose resources already exist. Policy documents and other
  values built from ARNs are fully known and can be asserted on.
- ``unknowns=True``: the mocks echo inputs only and return no id, so every computed output is
  unknown, exactly like the first ``pulumi preview`` of a new stack.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from google.protobuf import json_format

from mlopsctl.offline.mockoutputs import COMPUTED_OUTPUTS, INVOKES
from mlopsctl.offline.mockoutputs.context import MockContext, generic_outputs

ACCOUNT_ID = "123456789012"
# The identity that runs `pulumi up`: a session of a role (the program must not depend on it).
DEPLOYER_SESSION_ARN = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/mlops-deployer/pulumi-session"
# Read from another stack's state (ReadResource), never registered.
STACK_REFERENCE = "pulumi:pulumi:StackReference"


@dataclass
class RecordedResource:
    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    protect: bool
    retainOnDelete: bool
    deleteBeforeReplace: bool
    ignoreChanges: list[str]
    replaceOnChanges: list[str]
    additionalSecretOutputs: list[str]
    provider: str | None
    dependencies: list[str]
    propertyDependencies: dict[str, list[str]]
    inputs: dict[str, Any]
    id: str = ""
    aliases: list[str] = field(default_factory=list)
    # Engine-side options the policy harness (mlopsctl/offline/policycheck/) forwards to the analyzer.
    customTimeouts: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("id")
        data.pop("aliases")
        data.pop("customTimeouts")
        return data


@dataclass
class Recording:
    stack: str
    project: str
    resources: list[RecordedResource]
    stack_outputs: dict[str, Any]
    invokes: list[str]
    # ReadResource requests (StackReferences): read, never registered, so not in ``resources``.
    reads: list[dict[str, Any]] = field(default_factory=list)

    def of_type(self, type_token: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, name_contains: str = "") -> RecordedResource:
        matches = [r for r in self.of_type(type_token) if name_contains in r.name]
        if len(matches) != 1:
            raise LookupError(f"expected one {type_token} named *{name_contains}*, found {[r.name for r in matches]}")
        return matches[0]

    def by_urn(self, urn: str) -> RecordedResource:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise LookupError(urn)

    def children_of(self, urn: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent == urn]


class MockRuntimeError(RuntimeError):
    pass


class ProgramError(Exception):
    """The program raised. Carries what had been registered by then (``recording``)."""

    def __init__(self, cause: BaseException, recording: Recording):
        super().__init__(str(cause))
        self.cause = cause
        self.recording = recording


def _mocks_class():
    import pulumi

    class PlatformMocks(pulumi.runtime.Mocks):
        """Answers resource registrations and data-source invokes like AWS would, offline."""

        def __init__(self, ctx: MockContext, unknowns: bool):
            self.ctx = ctx
            self.unknowns = unknowns
            self.invokes: list[str] = []

        def new_resource(self, args: pulumi.runtime.MockResourceArgs):
            inputs = dict(args.inputs)
            if args.typ == STACK_REFERENCE:
                # Read from the referenced stack's state, which exists before this stack's preview:
                # known even when this stack's own resources are not (unknowns=True).
                name = inputs.get("name") or args.resource_id
                if name not in self.ctx.stack_references:
                    raise MockRuntimeError(f"no offline outputs for stack reference {name!r}; pass stack_references to run_program")
                outputs, secret_names = self.ctx.stack_references[name]
                return name, {"name": name, "outputs": outputs, "secretOutputNames": list(secret_names)}
            if self.unknowns:
                return "", inputs
            if args.typ.startswith("pulumi:providers:"):
                return f"{args.name}-provider-id", inputs
            factory = COMPUTED_OUTPUTS.get(args.typ)
            outputs = factory(self.ctx, args.name, inputs) if factory else generic_outputs(self.ctx, args.typ, args.name, inputs)
            state = {**inputs, **outputs}
            resource_id = outputs.get("id") or outputs.get("bucket") or outputs.get("keyId") or outputs.get("name") or f"{args.name}-id"
            return resource_id, state

        def call(self, args: pulumi.runtime.MockCallArgs):
            self.invokes.append(args.token)
            handler = INVOKES.get(args.token)
            if handler is None:
                raise MockRuntimeError(f"no offline answer for data source {args.token}; add one to INVOKES in mlopsctl/offline/mockoutputs/__init__.py")
            return handler(self.ctx, args.args)

    return PlatformMocks


def _recording_monitor_class():
    from pulumi.runtime.mocks import MockMonitor

    class RecordingMonitor(MockMonitor):
        """MockMonitor that keeps every RegisterResourceRequest as the engine would receive it."""

        def __init__(self, mocks):
            super().__init__(mocks)
            self.recorded: list[RecordedResource] = []
            self.reads: list[dict[str, Any]] = []
            self.stack_outputs: dict[str, Any] = {}
            self.stack_urn: str | None = None

        def RegisterResource(self, request):
            response = super().RegisterResource(request)
            if request.type == "pulumi:pulumi:Stack":
                self.stack_urn = response.urn
                return response
            self.recorded.append(
                RecordedResource(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent or None,
                    custom=bool(request.custom),
                    protect=bool(request.protect) if request.HasField("protect") else False,
                    retainOnDelete=bool(request.retainOnDelete) if request.HasField("retainOnDelete") else False,
                    deleteBeforeReplace=bool(request.deleteBeforeReplace),
                    ignoreChanges=list(request.ignoreChanges),
                    replaceOnChanges=list(request.replaceOnChanges),
                    additionalSecretOutputs=list(request.additionalSecretOutputs),
                    provider=request.provider or None,
                    # Sets to the engine; the SDK sends them in the order outputs resolved, which varies
                    # between runs. Sorted, so two previews of one commit compare byte for byte.
                    dependencies=sorted(request.dependencies),
                    propertyDependencies={k: sorted(v.urns) for k, v in sorted(request.propertyDependencies.items())},
                    inputs=json_format.MessageToDict(request.object),
                    id=response.id,
                    aliases=[str(a) for a in request.aliasURNs],
                    customTimeouts={k: v for k, v in json_format.MessageToDict(request.customTimeouts).items() if v},
                )
            )
            return response

        def ReadResource(self, request):
            response = super().ReadResource(request)
            self.reads.append({"urn": response.urn, "type": request.type, "name": request.name, "id": request.id,
                               "parent": request.parent or None})
            return response

        def RegisterResourceOutputs(self, request):
            if self.stack_urn is not None and request.urn == self.stack_urn:
                self.stack_outputs = json_format.MessageToDict(request.outputs)
            return super().RegisterResourceOutputs(request)

    return RecordingMonitor


def run_program(
    program: Callable[[], None],
    *,
    stack: str,
    project: str,
    config: dict[str, str],
    secret_keys: list[str] | None = None,
    unknowns: bool = False,
    availability_zone_count: int = 3,
    account_id: str = ACCOUNT_ID,
    caller_arn: str = DEPLOYER_SESSION_ARN,
    stack_references: dict[str, tuple[dict[str, Any], list[str]]] | None = None,
) -> Recording:
    """Run ``program`` once under the mock runtime, isolated from any earlier run in this process.

    ``config`` maps namespaced keys to strings exactly as the CLI passes them (structured values
    JSON-encoded). Exceptions raised by the program propagate after the runtime has drained.
    """
    region = json.loads(config["aws:region"]) if config.get("aws:region", "").startswith('"') else config.get("aws:region", "us-east-1")
    ctx = MockContext(region=region, availability_zone_count=availability_zone_count, account_id=account_id, caller_arn=caller_arn,
                      stack_references=dict(stack_references or {}))
    return contextvars.Context().run(_run_isolated, program, stack, project, config, secret_keys or [], unknowns, ctx)


def _run_isolated(program, stack, project, config, secret_keys, unknowns, ctx: MockContext) -> Recording:
    import pulumi
    from pulumi.runtime import settings
    from pulumi.runtime.stack import run_in_stack
    from pulumi.runtime.sync_await import _sync_await

    from mlopsctl.offline import gctuning

    gctuning.checkpoint()  # a one-shot command: freeze what is loaded (no-op in tests)
    mocks = _mocks_class()(ctx, unknowns)
    monitor = _recording_monitor_class()(mocks)
    pulumi.runtime.set_all_config(dict(config), list(secret_keys))
    # set_mocks makes a root Stack only when none exists; mark one so that run_in_stack's own
    # Stack (which registers the program's exports) becomes the root instead.
    settings.ROOT.set(object())  # type: ignore[arg-type]
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=True, monitor=monitor)
    settings.ROOT.set(None)
    # MockSettings does not reset the pending-outputs set, whose context-variable default is one
    # process-wide set: tasks a failed run left there would be awaited (and re-raise) in the next.
    settings.SETTINGS.outputs = set()
    failure: BaseException | None = None
    try:
        _sync_await(run_in_stack(program))
    except Exception as exc:  # noqa: BLE001 - surfaced below with what was registered
        failure = exc
    recording = Recording(
        stack=stack,
        project=project,
        resources=list(monitor.recorded),
        stack_outputs=monitor.stack_outputs,
        invokes=list(mocks.invokes),
        reads=list(monitor.reads),
    )
    if failure is not None:
        raise ProgramError(failure, recording) from failure
    return recording
