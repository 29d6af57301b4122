"""``mlopsctl promote``: point endpoints of a stack at other model package versions.

The edit is one scalar per endpoint of ``stacks/Pulumi.<env>.yaml``: its ``model.modelPackageArn``.
The stack file is read by the project's one stack-file loader (``stackfile``), whose YAML nodes
carry their start and end positions, so the new value replaces exactly the old one's characters,
written in the same quoting style; every comment, key order and line break stays as it was.

Two ways to name the new packages: one endpoint and an ARN (:func:`promote`, what the promote
workflow runs on an approval), or another stack (:func:`promote_from`, staging -> prod: each
endpoint both stacks declare gets the other stack's package, which the two stack files' ``promotion``
sections must agree to share).

Refused before anything is written (:class:`PromoteError`, one line, exit 2): an ARN that is not
a versioned model package of the endpoint's group in the stack's region and in its own account or
the account it is ``promotion.promotedFrom``, an endpoint that does not exist or does not serve a
model package, two stack files that do not both say one promotes to the other, and a result that
would not read back as the same document with those values changed or would not pass the config's
validation. Several endpoints are written at once or not at all.
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
    StackFile,
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

    @property
    def group(self) -> str:
        return _parts(self.new_arn)["group"]

    @property
    def version(self) -> str:
        return _parts(self.new_arn)["version"]

    @property
    def account(self) -> str:
        return _parts(self.new_arn)["account"]

    def summary(self) -> str:
        if not self.changed:
            return f"{self.display_path}: {self.key_path}: already {self.new_arn}; nothing changed"
        return f"{self.display_path}: {self.key_path}: {self.old_arn} → {self.new_arn}"


def _parts(arn: str) -> dict[str, str]:
    match = _PACKAGE_ARN.match(arn)
    assert match is not None, arn  # a Promotion holds only ARNs _check_arn accepted
    return match.groupdict()


@dataclass(frozen=True)
class PromotionResult:
    """What one ``mlopsctl promote`` run did to one stack file."""

    stack: str
    display_path: str
    config: PlatformConfig
    promotions: tuple[Promotion, ...]
    from_stack: str | None = None

    @property
    def changed(self) -> tuple[Promotion, ...]:
        return tuple(p for p in self.promotions if p.changed)


def promote(stack: str, endpoint_name: str, arn: str, stacks_dir: Path = STACKS_DIR) -> PromotionResult:
    """Rewrite ``endpoint_name``'s model package ARN in the stack file, or raise PromoteError
    (bad arguments) / StackFileError, ConfigError (a stack file that is bad already)."""
    stack_file = load_stack_file(stack, stacks_dir)
    config = load_config(stack_file)
    return _apply(stack, stack_file, config, {endpoint_name: arn}, from_stack=None)


def promote_from(stack: str, from_stack: str, endpoint_name: str | None = None, stacks_dir: Path = STACKS_DIR) -> PromotionResult:
    """Give each endpoint of ``stack`` that ``from_stack`` declares too (or only ``endpoint_name``)
    the model package ``from_stack`` deploys there. Both stack files must agree that ``from_stack``
    promotes to ``stack``: its ``promotion.promotesTo`` names ``stack``'s environment and account,
    and ``stack``'s ``promotion.promotedFrom`` names ``from_stack``'s."""
    stack_file = load_stack_file(stack, stacks_dir)
    config = load_config(stack_file)
    source_file = load_stack_file(from_stack, stacks_dir)
    source = load_config(source_file)
    _check_peers(config, stack_file.display_path, source, source_file.display_path)
    source_endpoints = {e.name: e for e in source.serving.endpoints}
    shared = [e.name for e in config.serving.endpoints if e.name in source_endpoints]
    if endpoint_name is not None:
        if endpoint_name not in shared:
            _endpoint(config, endpoint_name, stack_file.display_path)  # names the stack that lacks it
            _endpoint(source, endpoint_name, source_file.display_path)
        shared = [endpoint_name]
    if not shared:
        raise PromoteError(f"--from-stack {from_stack}: no endpoint of {stack_file.display_path} is also in {source_file.display_path}; "
                           f"promote --from-stack copies packages only between endpoints of the same name")
    arns = {}
    for name in shared:
        index = next(i for i, e in enumerate(source.serving.endpoints) if e.name == name)
        arn = source_endpoints[name].model.model_package_arn
        if arn is None:
            raise PromoteError(f"{source_file.display_path}: {CONFIG_KEY}.serving.endpoints[{index}].model: endpoint {name!r} serves no model package "
                               f"in {from_stack}, so there is none to promote to {stack}")
        arns[name] = arn
    return _apply(stack, stack_file, config, arns, from_stack=from_stack)


def _check_peers(target: PlatformConfig, target_display: str, source: PlatformConfig, source_display: str) -> None:
    """Sharing takes both sides: the source grants the target's account, the target trusts the source's."""
    key = f"{CONFIG_KEY}.promotion"
    for display, peer, key_name, expected_environment, expected_account, whose in (
        (target_display, target.promotion.promoted_from, "promotedFrom", source.environment, source.account_id, source_display),
        (source_display, source.promotion.promotes_to, "promotesTo", target.environment, target.account_id, target_display),
    ):
        if peer is None or peer.environment != expected_environment:
            found = f"names {peer.environment}" if peer else "is not set"
            raise PromoteError(f"{display}: {key}.{key_name}: {found}, not {expected_environment}; promote --from-stack needs both stack files "
                               f"to agree that {source.environment} promotes to {target.environment}")
        if peer.account_id != expected_account:
            raise PromoteError(f"{display}: {key}.{key_name}.accountId: {peer.account_id}, but {whose} has accountId {expected_account}; "
                               f"the two stack files must agree")


def _apply(stack: str, stack_file: StackFile, config: PlatformConfig, arns: dict[str, str], from_stack: str | None) -> PromotionResult:
    """Check every (endpoint, ARN), then write all the changed values at once (or none)."""
    display = stack_file.display_path
    promotions, indices = [], {}
    for endpoint_name, arn in arns.items():
        index, endpoint = _endpoint(config, endpoint_name, display)
        key_path = f"{CONFIG_KEY}.serving.endpoints[{index}].model.modelPackageArn"
        if endpoint.model.model_package_arn is None:
            source = "image" if endpoint.model.image else "prebuiltImage"
            raise PromoteError(f"{display}: {key_path.removesuffix('.modelPackageArn')}: endpoint {endpoint_name!r} serves a {source} source, "
                               f"not a model package; promote changes only a modelPackageArn (switch the source by a reviewed edit first)")
        _check_arn(arn, config, endpoint, display, key_path, f"{from_stack}'s package" if from_stack else "--model-package-arn")
        promotions.append(Promotion(stack, endpoint_name, display, key_path, endpoint.model.model_package_arn, arn))
        indices[endpoint_name] = index
    result = PromotionResult(stack, display, config, tuple(promotions), from_stack)
    if not result.changed:
        return result
    path = stack_file.path
    text = path.read_bytes().decode("utf-8")  # the loader above has read it as UTF-8 already
    new_text = text
    for promotion in result.changed:
        new_text = _rewritten(new_text, promotion.endpoint, promotion.new_arn, display, promotion.key_path)
    _check_rewrite(stack, path, text, new_text, {indices[p.endpoint]: p.new_arn for p in result.changed}, display,
                   ", ".join(p.key_path for p in result.changed))
    path.write_bytes(new_text.encode("utf-8"))
    return result


def _endpoint(config: PlatformConfig, name: str, display: str) -> tuple[int, EndpointConfig]:
    endpoints = config.serving.endpoints
    for index, endpoint in enumerate(endpoints):
        if endpoint.name == name:
            return index, endpoint
    known = ", ".join(e.name for e in endpoints) or "none"
    raise PromoteError(f"{display}: {CONFIG_KEY}.serving.endpoints: no endpoint named {name!r}; endpoints: {known}")


def _check_arn(arn: str, config: PlatformConfig, endpoint: EndpointConfig, display: str, key_path: str, given_as: str) -> None:
    """``given_as`` names where the ARN came from: the flag, or the other stack (--from-stack)."""
    match = _PACKAGE_ARN.match(arn)
    if match is None:
        raise PromoteError(f"{given_as}: {arn!r} is not a versioned model package ARN ({ARN_FORMAT})")
    # The account: the stack's own registry, or the one it deploys shared packages from (promotedFrom).
    accounts = {config.account_id: f"the stack's account ({CONFIG_KEY}.accountId)"}
    peer = config.promotion.promoted_from
    if peer is not None:
        accounts[peer.account_id] = f"{peer.environment}'s, which the stack is promoted from ({CONFIG_KEY}.promotion.promotedFrom.accountId)"
    allowed = {"partition": {facts.SUPPORTED_PARTITION: "the partition the platform supports"},
               "region": {config.region: "the stack's region (aws:region)"},
               "account": accounts,
               "group": {endpoint.model_package_group: f"the modelPackageGroup of endpoint {endpoint.name!r}"}}
    for part, values in allowed.items():
        if match.group(part) not in values:
            choices = " or ".join(f"{value}, {why}" for value, why in values.items())
            raise PromoteError(f"{display}: {key_path}: {given_as} {arn} has {part} {match.group(part)}; it must be {choices}")


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


def _check_rewrite(stack: str, path: Path, old_text: str, new_text: str, arns: dict[int, str], display: str, key_path: str) -> None:
    """The new text must read as the old document with only those values (endpoint index -> ARN)
    changed and pass the same checks as any stack file: a safety net under the text edit, whatever
    YAML it met."""
    expected = copy.deepcopy(load_stack_document(old_text, display))
    config_section = expected["config"]
    platform_key = next(k for k in config_section if namespaced_key(str(k), PROJECT) == CONFIG_KEY)
    for index, arn in arns.items():
        config_section[platform_key]["serving"]["endpoints"][index]["model"]["modelPackageArn"] = arn
    try:
        if load_stack_document(new_text, display) != expected:
            what = "these values" if len(arns) > 1 else "this value"
            raise PromoteError(f"{display}: {key_path}: the rewritten file would change more than {what}; left unchanged")
        load_config(parse_stack_text(stack, path, new_text))
    except (StackFileError, ConfigError) as exc:
        first = str(exc).splitlines()[0]
        raise PromoteError(f"{display}: {key_path}: the rewritten file would not load ({first}); left unchanged") from None
