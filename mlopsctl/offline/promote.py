"""``mlopsctl promote``: point one endpoint of a stack at another model package version.

The edit is one scalar of ``stacks/Pulumi.<env>.yaml``: the endpoint's ``model.modelPackageArn``.
The stack file is read by the project's one stack-file loader (``stackfile``), whose YAML nodes
carry their start and end positions, so the new value replaces exactly the old one's characters,
written in the same quoting style; every comment, key order and line break stays as it was.

Refused before anything is written (:class:`PromoteError`, one line, exit 2): an ARN that is not
a versioned model package of the endpoint's group in the stack's own account and region, an
endpoint that does not exist or does not serve a model package, and a result that would not read
back as the same document with that one value changed or would not pass the config's validation.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components import facts
from components.config import CONFIG_KEY, PROJECT, ConfigError, EndpointConfig, PlatformConfig
from mlopsctl.offline.preview import load_config
from mlopsctl.offline.stackfile import (
    STACKS_DIR,
    StackFileError,
    StackFileLoader,
    load_stack_document,
    load_stack_file,
    namespaced_key,
    parse_stack_text,
)

# arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>
_PACKAGE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"model-package/(?P<group>[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62})/(?P<version>[1-9]\d*)$"
)
ARN_FORMAT = "arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>"
# Quoting styles a single-line ARN can be written in; block scalars (| >) are left to a person.
_STYLES = {None: "{}", "'": "'{}'", '"': '"{}"'}


class PromoteError(Exception):
    """A promotion refused before the stack file is written. ``str()`` is one line."""


@dataclass(frozen=True)
class Promotion:
    stack: str
    endpoint: str
    display_path: str
    key_path: str
    old_arn: str
    new_arn: str

    @property
    def changed(self) -> bool:
        return self.old_arn != self.new_arn

    def summary(self) -> str:
        if not self.changed:
            return f"{self.display_path}: {self.key_path}: already {self.new_arn}; nothing changed"
        return f"{self.display_path}: {self.key_path}: {self.old_arn} → {self.new_arn}"


def promote(stack: str, endpoint_name: str, arn: str, stacks_dir: Path = STACKS_DIR) -> Promotion:
    """Rewrite ``endpoint_name``'s model package ARN in the stack file, or raise PromoteError
    (bad arguments) / StackFileError, ConfigError (a stack file that is bad already)."""
    stack_file = load_stack_file(stack, stacks_dir)
    config = load_config(stack_file)
    display = stack_file.display_path
    index, endpoint = _endpoint(config, endpoint_name, display)
    key_path = f"{CONFIG_KEY}.serving.endpoints[{index}].model.modelPackageArn"
    if endpoint.model.model_package_arn is None:
        source = "image" if endpoint.model.image else "prebuiltImage"
        raise PromoteError(f"{display}: {key_path.removesuffix('.modelPackageArn')}: endpoint {endpoint_name!r} serves a {source} source, "
                           f"not a model package; promote changes only a modelPackageArn (switch the source by a reviewed edit first)")
    _check_arn(arn, config, endpoint, display, key_path)
    promotion = Promotion(stack, endpoint_name, display, key_path, endpoint.model.model_package_arn, arn)
    if not promotion.changed:
        return promotion
    path = stack_file.path
    data = path.read_bytes()
    text = data.decode("utf-8")  # the loader above has read it as UTF-8 already
    new_text = _rewritten(text, endpoint_name, arn, display, key_path)
    _check_rewrite(stack, path, text, new_text, index, arn, display, key_path)
    path.write_bytes(new_text.encode("utf-8"))
    return promotion


def _endpoint(config: PlatformConfig, name: str, display: str) -> tuple[int, EndpointConfig]:
    endpoints = config.serving.endpoints
    for index, endpoint in enumerate(endpoints):
        if endpoint.name == name:
            return index, endpoint
    known = ", ".join(e.name for e in endpoints) or "none"
    raise PromoteError(f"{display}: {CONFIG_KEY}.serving.endpoints: no endpoint named {name!r}; endpoints: {known}")


def _check_arn(arn: str, config: PlatformConfig, endpoint: EndpointConfig, display: str, key_path: str) -> None:
    match = _PACKAGE_ARN.match(arn)
    if match is None:
        raise PromoteError(f"--model-package-arn: {arn!r} is not a versioned model package ARN ({ARN_FORMAT})")
    expected = {"partition": facts.SUPPORTED_PARTITION, "region": config.region, "account": config.account_id,
                "group": endpoint.model_package_group}
    what = {"partition": "the partition the platform supports", "region": "the stack's region (aws:region)",
            "account": f"the stack's account ({CONFIG_KEY}.accountId)", "group": f"the modelPackageGroup of endpoint {endpoint.name!r}"}
    for part, allowed in expected.items():
        if match.group(part) != allowed:
            raise PromoteError(f"{display}: {key_path}: --model-package-arn {arn} has {part} {match.group(part)}; "
                               f"it must be {allowed}, {what[part]}")


def _rewritten(text: str, endpoint_name: str, arn: str, display: str, key_path: str) -> str:
    """``text`` with the ARN scalar's characters replaced, in the scalar's own quoting style."""
    node = _arn_node(text, endpoint_name)
    if node is None:
        raise PromoteError(f"{display}: {key_path}: not written as a plain key of the endpoint's model (an alias or merge key?); "
                           f"promote edits only a modelPackageArn written in place")
    if node.style not in _STYLES or node.start_mark.line != node.end_mark.line:
        raise PromoteError(f"{display}: {key_path}: written as a block or multi-line scalar; promote edits only a one-line value "
                           f"(plain, 'single' or \"double\" quoted)")
    start, end = node.start_mark.index, node.end_mark.index
    # A node's marks include its anchor or tag; the value must be all there is between them.
    if text[start:end] != _STYLES[node.style].format(node.value):
        raise PromoteError(f"{display}: {key_path}: written with an anchor, alias, tag or escape ({text[start:end]!r}); "
                           f"promote edits only a value written in place, so edit the file by hand")
    return text[:start] + _STYLES[node.style].format(arn) + text[end:]


def _arn_node(text: str, endpoint_name: str) -> yaml.ScalarNode | None:
    """The scalar node of the endpoint's ``model.modelPackageArn``, found by the stack-file loader."""
    loader = StackFileLoader(text, PROJECT)
    try:
        root = loader.get_single_node()
    finally:
        loader.dispose()
    platform = _value(_value(root, "config"), CONFIG_KEY, namespaced=True)
    endpoints = _value(_value(platform, "serving"), "endpoints")
    if not isinstance(endpoints, yaml.SequenceNode):
        return None
    for item in endpoints.value:
        name = _value(item, "name")
        if isinstance(name, yaml.ScalarNode) and name.value == endpoint_name:
            node = _value(_value(item, "model"), "modelPackageArn")
            return node if isinstance(node, yaml.ScalarNode) else None
    return None


def _value(node: Any, key: str, *, namespaced: bool = False) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value_node in node.value:
        written = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if written == key or (namespaced and isinstance(written, str) and namespaced_key(written, PROJECT) == key):
            return value_node
    return None


def _check_rewrite(stack: str, path: Path, old_text: str, new_text: str, index: int, arn: str, display: str, key_path: str) -> None:
    """The new text must read as the old document with only that value changed and pass the same
    checks as any stack file: a safety net under the text edit, whatever YAML it met."""
    expected = copy.deepcopy(load_stack_document(old_text, display))
    config_section = expected["config"]
    platform_key = next(k for k in config_section if namespaced_key(str(k), PROJECT) == CONFIG_KEY)
    config_section[platform_key]["serving"]["endpoints"][index]["model"]["modelPackageArn"] = arn
    try:
        if load_stack_document(new_text, display) != expected:
            raise PromoteError(f"{display}: {key_path}: the rewritten file would change more than this value; left unchanged")
        load_config(parse_stack_text(stack, path, new_text))
    except (StackFileError, ConfigError) as exc:
        first = str(exc).splitlines()[0]
        raise PromoteError(f"{display}: {key_path}: the rewritten file would not load ({first}); left unchanged") from None
