"""SageMaker managed MLflow answered in process, where moto has no API for it.

moto 5.2.5 implements neither DescribeMlflowApp nor DescribeMlflowTrackingServer (it raises
NotImplementedError). A botocore Stubber answers every call of the client it is attached to, so it
cannot answer these two while moto answers the pipelines and endpoints of the same ``sagemaker``
client in a whole-stack verify run. Here the two operations alone are answered at botocore's
``before-call`` hook (the call never leaves the client), from what :func:`put` recorded, and every
answer is first validated against botocore's output shape, as the Stubber validates its
responses. An unknown app or server is AWS's ``ResourceNotFound``.

The checks' own status paths are tested with a real Stubber (tests/ops/test_verify_training.py);
this is only what lets a whole stack with experiment tracking be verified against moto.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters

# (operation, the key its request names it by) -> the operation's response.
_ANSWERS: dict[tuple[str, str], dict[str, Any]] = {}
_KEYS = {"DescribeMlflowApp": "Arn", "DescribeMlflowTrackingServer": "TrackingServerName"}


class _Raw:
    def __init__(self, body: bytes = b""):
        self._body = body

    def stream(self, **_):
        yield self._body


def reset() -> None:
    _ANSWERS.clear()


def put(operation: str, key: str, response: dict[str, Any]) -> None:
    """``operation`` (DescribeMlflowApp by ``Arn``, DescribeMlflowTrackingServer by name) answers ``response`` for ``key``."""
    _ANSWERS[(operation, key)] = response


def update(operation: str, key: str, **fields: Any) -> None:
    """Change fields of a recorded answer (a status, as the service would report it later)."""
    _ANSWERS[(operation, key)].update(fields)


def answer_on(client) -> None:
    """Answer the MLflow describes of ``client`` (a sagemaker client) from what :func:`put` recorded."""
    for operation, key_name in _KEYS.items():
        output_shape = client.meta.service_model.operation_model(operation).output_shape

        def before_call(params, operation=operation, key_name=key_name, output_shape=output_shape, **_):
            key = json.loads(params["body"] or b"{}").get(key_name)
            response = _ANSWERS.get((operation, key))
            if response is None:
                error = {"Code": "ResourceNotFound", "Message": f"{key} does not exist"}
                return AWSResponse("https://answered.invalid/", 400, {}, _Raw()), {
                    "Error": error, "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}}}
            validate_parameters(response, output_shape)
            return AWSResponse("https://answered.invalid/", 200, {}, _Raw()), {
                **response, "ResponseMetadata": {"HTTPStatusCode": 200, "HTTPHeaders": {}}}

        client.meta.events.register(f"before-call.sagemaker.{operation}", before_call)


def answer_every_client(monkeypatch) -> None:
    """:func:`answer_on` every sagemaker client ``AwsClients`` hands out, from now on."""
    from mlopsctl.ops.awsclients import AwsClients

    real = AwsClients.client
    seen: list = []

    def client(self, name, region=None):
        made = real(self, name, region)
        if name == "sagemaker" and not any(made is other for other in seen):
            seen.append(made)
            answer_on(made)
        return made

    monkeypatch.setattr(AwsClients, "client", client)
