"""AWS errors moto never returns (permission, throttling, expired tokens, names owned elsewhere), injected.

Two hooks of botocore, for two needs:

- ``before-call`` (the default): the call never leaves the client, so moto never applies it. A
  mutating call that fails must not take effect behind the error, and moto's own ``before-send``
  handler would apply it (botocore calls every ``before-send`` handler and keeps the first answer).
- ``before-send`` (``retried=True``, read-only calls only): the answer comes back as AWS's would, in
  the service's own protocol, so botocore parses it and its standard-mode retries really run.
"""

from __future__ import annotations

import http.client
import json

from botocore.awsrequest import AWSResponse


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_):
        yield self._body


def _error_body(protocol: str, code: str, message: str) -> tuple[bytes, str]:
    if protocol in ("json", "rest-json"):
        return json.dumps({"__type": code, "message": message}).encode(), "application/x-amz-json-1.1"
    if protocol == "rest-xml":
        return f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode(), "application/xml"
    return (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error></ErrorResponse>".encode(),
            "text/xml")


def answer_with_error(client, operation: str, status: int, code: str = "", message: str = "", calls: list | None = None,
                      *, retried: bool = False) -> None:
    """Every ``operation`` call of ``client`` fails with HTTP ``status`` and AWS error ``code`` (none: a HEAD's bare status)."""
    service = client.meta.service_model.service_id.hyphenize()
    if retried:
        protocol = client.meta.service_model.protocol

        def before_send(request, **_):
            if calls is not None:
                calls.append(operation)
            body, content_type = _error_body(protocol, code, message) if code else (b"", "application/xml")
            return AWSResponse(request.url, status, {"Content-Type": content_type}, _Raw(body))

        client.meta.events.register(f"before-send.{service}.{operation}", before_send)
        return

    def before_call(**_):
        if calls is not None:
            calls.append(operation)
        error = {"Code": code or str(status), "Message": message or http.client.responses.get(status, "")}
        return AWSResponse("https://injected.invalid/", status, {}, _Raw(b"")), {
            "Error": error, "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}}}

    client.meta.events.register(f"before-call.{service}.{operation}", before_call)


def answer_every_client_with_error(monkeypatch, service: str, operation: str, status: int, code: str = "", message: str = "") -> list[str]:
    """:func:`answer_with_error` on every ``service`` client ``AwsClients`` hands out (the CLI makes its own); the calls made."""
    from mlopsctl.ops.awsclients import AwsClients

    calls: list[str] = []
    real = AwsClients.client
    seen: list = []

    def client(self, name, region=None):
        made = real(self, name, region)
        if name == service and not any(made is other for other in seen):
            seen.append(made)
            answer_with_error(made, operation, status, code, message, calls)
        return made

    monkeypatch.setattr(AwsClients, "client", client)
    return calls
