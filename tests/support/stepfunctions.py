"""Run Step Functions state machines in moto: its ASL interpreter, SDK integrations in process, a pinned clock.

moto 5.2.5 executes a state machine only under ``mock_aws(config={"stepfunctions":
{"execute_state_machine": True}})`` (without it an execution does nothing and reports static
data; ``SF_EXECUTION_HISTORY_TYPE`` only picks SUCCESS or FAILURE for that static data). Its
interpreter (moto/stepfunctions/parser, LocalStack's) runs ``arn:aws:states:::aws-sdk:*`` tasks
with a boto3 client that moto intercepts in this process, so a task reaches moto's SageMaker
backend as any client would (credentials "ak": moto's default account).

Three gaps, each bridged here and checked by the tests that use it:

- JSONata: the interpreter parses JSONata states but leaves the evaluator unset
  (``moto.stepfunctions.parser.asl.jsonata.jsonata._eval_jsonata`` is ``None``; LocalStack plugs a
  JVM running dashjoin's jsonata-java in there). :func:`moto_with_jsonata` plugs in jsonata-python,
  the pure-Python port of that same jsonata-java, and round-trips its result through JSON as
  LocalStack's bridge does.
- The clock: ``$states.context.Execution.StartTime`` is the time moto's ``start_execution`` reads
  (``datetime.datetime.now`` in moto.stepfunctions.parser.models), and SageMaker stamps a new
  pipeline execution with moto's ``utcnow``. :func:`moto_with_jsonata` pins both to one instant;
  the tests assert the execution's ``startDate`` equals it, so a moto that reads time elsewhere
  fails them instead of running on the machine's clock.
- Executions run on a worker thread (moto.stepfunctions.parser.backend.execution_worker): its
  threads are recorded as they start and :meth:`StepFunctionsRunner.run` joins them instead of
  polling with sleeps.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3

EXECUTION_TIMEOUT_SECONDS = 60
ROLE_ARN = "arn:aws:iam::123456789012:role/retrain-guard"


def _evaluate_jsonata(expression: str) -> Any:
    import jsonata

    return json.loads(json.dumps(jsonata.Jsonata(expression).evaluate(None)))


def _pinned_datetime_module(instant: dt.datetime):
    class PinnedDatetime(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return instant.astimezone(tz) if tz else instant.replace(tzinfo=None)

    class Module:
        datetime = PinnedDatetime
        timezone = dt.timezone

    return Module


class StepFunctionsRunner:
    """Creates state machines and runs them to the end in the moto of :func:`moto_with_jsonata`."""

    def __init__(self, region: str, workers: list[threading.Thread]):
        self.region = region
        self._workers = workers
        self.client = boto3.client("stepfunctions", region_name=region)

    def create(self, name: str, definition: dict[str, Any]) -> str:
        return self.client.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE_ARN)["stateMachineArn"]

    def run(self, state_machine_arn: str, execution_input: dict[str, Any]) -> dict[str, Any]:
        """Start an execution, join its worker thread and return DescribeExecution's answer."""
        started = len(self._workers)
        # A name of its own each time, as EventBridge's target gives one (moto would reuse "None").
        name = f"run-{started + 1}"
        execution_arn = self.client.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(execution_input))["executionArn"]
        workers = self._workers[started:]
        assert workers, "moto started no execution thread: is execute_state_machine on?"
        for worker in workers:
            worker.join(EXECUTION_TIMEOUT_SECONDS)
            assert not worker.is_alive(), f"the execution did not end within {EXECUTION_TIMEOUT_SECONDS} s"
        return self.client.describe_execution(executionArn=execution_arn)


@contextlib.contextmanager
def moto_with_jsonata(monkeypatch, region: str, now: dt.datetime) -> Iterator[StepFunctionsRunner]:
    """moto with state machines executed, JSONata evaluated and both clocks at ``now`` (aware, UTC)."""
    from moto import mock_aws

    from tests.support.aws_seed import MOTO_SETTINGS, share_botocore_loader

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                       "AWS_DEFAULT_REGION": region, **MOTO_SETTINGS}.items():
        monkeypatch.setenv(key, value)
    share_botocore_loader(monkeypatch)
    import moto.sagemaker.models as sagemaker_models
    import moto.stepfunctions.parser.asl.jsonata.jsonata as moto_jsonata
    import moto.stepfunctions.parser.backend.execution_worker as execution_worker
    import moto.stepfunctions.parser.models as sfn_models

    workers: list[threading.Thread] = []

    class RecordedThread(threading.Thread):
        def start(self):
            workers.append(self)
            super().start()

    monkeypatch.setattr(moto_jsonata, "_eval_jsonata", _evaluate_jsonata)
    monkeypatch.setattr(sfn_models, "datetime", _pinned_datetime_module(now))
    monkeypatch.setattr(sagemaker_models, "utcnow", lambda: now.astimezone(dt.UTC).replace(tzinfo=None))
    monkeypatch.setattr(execution_worker, "Thread", RecordedThread)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield StepFunctionsRunner(region, workers)
