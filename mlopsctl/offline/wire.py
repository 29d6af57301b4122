"""Pulumi's wire format (pulumi/sdk/proto): the sentinels inside recorded inputs and outputs.

A recorded value is a ``google.protobuf.Struct`` as JSON: an unknown value is the ``UNKNOWN``
string; secrets, resource references and output values are objects whose ``SIG_KEY`` names
what they are.
"""

from __future__ import annotations

from typing import Any

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def unwrap_secrets(value: Any) -> Any:
    """Wire-format value with secrets replaced by their plaintext (for assertions)."""
    if isinstance(value, dict):
        if is_secret(value):
            return unwrap_secrets(value.get("value"))
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value
