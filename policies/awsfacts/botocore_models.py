"""The one reader of botocore's bundled service models; standard library only.

The program, ``mlopsctl`` and the policy pack all validate against the models botocore ships
(instance-type enums, AMI types, name limits, regions). The files are read directly: the same
models botocore itself loads, without importing botocore's client stack (which costs more than the
lookups, and the pack process starts on every preview).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import os
from functools import cache
from pathlib import Path

from . import PROJECT

SCALAR_TYPES = ("string", "integer", "long")
SCALAR_KEYS = ("type", "enum", "min", "max", "pattern")


def data_dir() -> Path:
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("botocore is not installed; it is pinned in policies/requirements.txt and requirements.txt")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def model_path(service: str) -> Path:
    """The newest API version of a service model, as botocore ships it."""
    service_dir = data_dir() / service
    latest = max(p for p in service_dir.iterdir() if (p / "service-2.json.gz").exists() or (p / "service-2.json").exists())
    compressed = latest / "service-2.json.gz"
    return compressed if compressed.exists() else latest / "service-2.json"


def load_model(path: Path) -> dict:
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            return json.load(handle)
    return json.loads(path.read_text())


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / PROJECT


@cache
def value_shapes(service: str) -> dict[str, dict]:
    """A service's scalar shapes (enums, bounds, patterns), derived from botocore's model.

    Parsing the whole EC2 model costs more than everything else config validation does, so the
    derived subset is cached on disk, keyed by the model file's path, size and mtime: a botocore
    upgrade produces a new key, and the cache is never edited by hand.
    """
    path = model_path(service)
    stat = path.stat()
    key = hashlib.sha256(f"{path}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    cache_file = cache_dir() / f"botocore-{service}-{key}.json"
    try:
        return json.loads(cache_file.read_text())
    except (OSError, ValueError):
        pass
    shapes = {
        name: {k: v for k, v in shape.items() if k in SCALAR_KEYS}
        for name, shape in load_model(path)["shapes"].items()
        if shape.get("type") in SCALAR_TYPES
    }
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache_file.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(shapes))
        temporary.replace(cache_file)
    except OSError:
        pass  # a read-only home only costs the parse next time
    return shapes


def shape(service: str, name: str) -> dict:
    return value_shapes(service)[name]


def enum(service: str, name: str) -> frozenset[str]:
    return frozenset(shape(service, name)["enum"])


@cache
def partitions() -> list[dict]:
    return json.loads((data_dir() / "partitions.json").read_text())["partitions"]
