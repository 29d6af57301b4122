"""Which attributes of a terraform-provider-aws resource force replacement, read from its Go schema.

Two schema styles exist upstream, and both are read from the resource's own file(s):

- terraform-plugin-sdk v2: ``map[string]*schema.Schema{...}`` with ``ForceNew: true`` per
  attribute. The resource's ``Schema`` is that literal, a package variable holding it, or a
  helper returning it, or its ``SchemaFunc`` returns it; nested blocks are
  ``Elem: &schema.Resource{Schema: ...}`` or a helper function (or a closure assigned with
  ``:=``) in the same file(s) that returns one;
- terraform-plugin-framework: the resource's ``Schema(ctx, ...)`` method, where an attribute
  whose ``PlanModifiers`` hold ``RequiresReplace()`` (or ``RequiresReplaceIfConfigured()``)
  forces replacement; nested ``Attributes`` / ``Blocks`` / ``NestedObject`` are followed.

Replacement that depends on values (``customdiff.ForceNewIf*``, ``ResourceDiff.ForceNew``,
``RequiresReplaceIf``, ``ModifyPlan`` appending to ``RequiresReplace``) cannot be expressed as a
path: it is returned as hints for a person to read. Parts built by helpers outside the given
text are returned as unread rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from mlopsctl.review.replacefacts.golex import Element, GoSyntaxError, code_positions, keyed, literal_body, matching, squeezed

# Terraform attributes that never force replacement on their own (the provider's tag handling).
TAG_ATTRIBUTES = frozenset({"tags", "tags_all"})

# Acronyms the ``names.Attr*`` constants spell in capitals (and the one compound word), longest
# first so that ``IDs`` wins over ``ID``.
_WORDS = {"CloudWatch": "cloudwatch", "IPv4": "ipv4", "IPv6": "ipv6"}
_ACRONYMS = sorted(
    [*_WORDS, "ACL", "AMI", "ARNs", "ARN", "AZ", "CIDR", "DNS", "EBS", "EC2", "EKS", "HTTPS", "HTTP", "IAM", "IDs", "ID",
     "IPAM", "IP", "JSON", "KMS", "OIDC", "S3", "SNS", "SQS", "SSL", "TLS", "URI", "URL", "VPC"],
    key=len, reverse=True,
)
_WORD = re.compile(r"[A-Z][a-z]+|[A-Z]+(?=[A-Z][a-z]|\d|$)|\d+|[a-z]+|[A-Z]")
_SCHEMA_MAP = r"map\[string\]\*schema\.Schema\{"  # where an SDKv2 schema map literal opens

# Helper calls whose meaning is known: name -> (is an input, forces replacement).
SDK_HELPERS = {
    "tftags.TagsSchema": (True, False),
    "tftags.TagsSchemaComputed": (False, False),
    "tftags.TagsSchemaForceNew": (True, True),
    "tftags.TagsSchemaComputedDeprecated": (False, False),
    "sdkv2.IAMPolicyDocumentSchemaRequired": (True, False),
    "sdkv2.IAMPolicyDocumentSchemaOptional": (True, False),
    "sdkv2.IAMPolicyDocumentSchemaOptionalComputed": (True, False),
}
FRAMEWORK_HELPERS = {
    "framework.IDAttribute": (False, False),
    "framework.IDAttributeDeprecatedNoReplacement": (False, False),
    "framework.ARNAttributeComputedOnly": (False, False),
    "tftags.TagsAttribute": (True, False),
    "tftags.TagsAttributeComputedOnly": (False, False),
    "timeouts.Block": (True, False),
    "timeouts.Attributes": (True, False),
}


class SchemaNotFound(ValueError):
    """The text holds no schema for the named Terraform resource."""


def attribute_name(constant: str) -> str:
    """The attribute a ``names.Attr<constant>`` stands for: ``VPCID`` -> ``vpc_id``."""
    words, i = [], 0
    while i < len(constant):
        for acronym in _ACRONYMS:
            end = i + len(acronym)
            if constant.startswith(acronym, i) and (end == len(constant) or not constant[end].islower()):
                words.append(_WORDS.get(acronym, acronym.lower()))
                i = end
                break
        else:
            match = _WORD.match(constant, i)
            assert match is not None  # the pattern's last branch takes any single capital
            words.append(match.group().lower())
            i = match.end()
    return "_".join(words)


@dataclass(frozen=True)
class Attribute:
    """One schema attribute or block, by its dotted Terraform path."""

    path: str
    is_input: bool | None  # None: built by a helper the parser does not know
    forces_replacement: bool


@dataclass(frozen=True)
class Hint:
    """Value-dependent replacement found in the code: where (``origin``) and on which attribute."""

    origin: str
    path: str | None  # None: the argument is an expression the parser cannot name
    expression: str


@dataclass
class Schema:
    kind: str  # "sdkv2" | "framework"
    attributes: dict[str, Attribute] = field(default_factory=dict)
    hints: list[Hint] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # "path = expression" built outside the text
    unresolved_keys: list[str] = field(default_factory=list)
    update_changes_only_tags: bool = False

    @property
    def replacing(self) -> list[str]:
        return sorted(p for p, a in self.attributes.items() if a.forces_replacement)

    @property
    def every_input_replaces(self) -> bool:
        """Every top-level input except tags forces replacement (or Update only touches tags)."""
        inputs = [a for p, a in self.attributes.items() if "." not in p and a.is_input is not False and p not in TAG_ATTRIBUTES]
        return bool(inputs) and (self.update_changes_only_tags or all(a.forces_replacement for a in inputs))


class _Reader:
    def __init__(self, text: str, kind: str) -> None:
        self.text = text
        self.schema = Schema(kind)
        self.constants = dict(re.findall(r"\b(\w+)\s*=\s*\"([a-z0-9_]+)\"", text))

    # -- names -------------------------------------------------------------------------------
    def name(self, key: str) -> str | None:
        key = key.strip()
        if key.startswith('"') and key.endswith('"'):
            return key[1:-1]
        if key.startswith("names.Attr"):
            return attribute_name(key.removeprefix("names.Attr"))
        return self.constants.get(key)

    def key(self, key: str) -> str:
        name = self.name(key)
        if name is None:
            self.schema.unresolved_keys.append(key)
            return f"<{key}>"
        return name

    def function_body(self, name: str) -> tuple[int, int] | None:
        """The body span of the local function ``name``: ``func name(...)`` or a closure ``name := func(...)``."""
        if "." in name:
            return None  # another package's helper: not in the text
        quoted = re.escape(name)
        head = re.search(rf"(?:\bfunc\s+{quoted}|\b{quoted}\s*:?=\s*func)\s*\([^)]*\)[^{{]*\{{", self.text)
        return None if head is None else (head.end(), matching(self.text, head.end() - 1) - 1)

    def returned_literal(self, body: tuple[int, int], marker: str) -> int | None:
        """Where the ``marker`` literal the function body returns opens (its ``{``).

        The literal after the body's last top-level ``return`` (a closure defined earlier in the
        body returns its own literal, which is not this function's result); a body without one
        gives its first ``marker`` literal.
        """
        start, end = body
        returns = [i for i, depth in code_positions(self.text, start, end)
                   if depth == 0 and re.match(r"return\b", self.text[i:i + 7]) and not re.match(r"\w", self.text[i - 1])]
        found = re.compile(marker).search(self.text, returns[-1] if returns else start, end)
        return None if found is None else found.end() - 1

    def local_literal(self, call: str, marker: str) -> int | None:
        """Where the ``marker`` literal the local function ``call`` returns opens (its ``{``)."""
        body = self.function_body(call)
        return None if body is None else self.returned_literal(body, marker)

    def resource_schema(self, start: int) -> tuple[int, int] | None:
        """The body of the schema map of the first ``&schema.Resource{...}`` after ``start``.

        None when a schema map opens before that literal (a text of schema sections, or a map
        the resource function builds first: the caller takes the first schema map after
        ``start``) or when the literal names no ``Schema`` or ``SchemaFunc``; SchemaNotFound
        when it names one this text does not define (another package's helper), rather than
        reading some other map in its place.
        """
        resource = re.compile(r"&schema\.Resource\{").search(self.text, start)
        first_map = re.compile(_SCHEMA_MAP).search(self.text, start)
        if resource is None or (first_map is not None and first_map.start() < resource.start()):
            return None
        found = keyed(self.text, resource.end(), matching(self.text, resource.end() - 1) - 1)
        if "Schema" in found:
            element = found["Schema"]
            value = squeezed(self.text[element.start:element.end])
            if value.startswith("map["):
                return literal_body(self.text, element.start, element.end)
            if re.fullmatch(r"\w+", value):  # a package variable
                head = re.search(rf"\b{re.escape(value)}\s*=\s*{_SCHEMA_MAP}", self.text)
                brace = None if head is None else head.end() - 1
            else:
                brace = self.local_literal(_callee(value), _SCHEMA_MAP)
        elif "SchemaFunc" in found:
            element = found["SchemaFunc"]
            value = squeezed(self.text[element.start:element.end])
            if value.startswith("func"):  # a function literal: its body is its first top-level brace
                opening = next(i for i, depth in code_positions(self.text, element.start, element.end)
                               if depth == 0 and self.text[i] == "{")
                body = (opening + 1, matching(self.text, opening) - 1)
            else:
                body = self.function_body(_callee(value))
            brace = None if body is None else self.returned_literal(body, _SCHEMA_MAP)
        else:
            return None
        if brace is None:
            raise SchemaNotFound(f"the resource's schema ({value[:60]}) is not defined in the files read")
        return brace + 1, matching(self.text, brace) - 1

    def record(self, path: str, is_input: bool | None, forces: bool) -> None:
        self.schema.attributes[path] = Attribute(path, is_input, forces)

    def unread(self, path: str, start: int, end: int) -> None:
        self.schema.unread.append(f"{path} = {squeezed(self.text[start:end])[:80]}")
        self.record(path, None, False)

    def fields(self, body: tuple[int, int]) -> tuple[dict[str, Element], Callable[[str], str | None]]:
        found = keyed(self.text, *body)

        def value(name: str) -> str | None:
            return squeezed(self.text[found[name].start:found[name].end]) if name in found else None

        return found, value

    # -- terraform-plugin-sdk v2 ----------------------------------------------------------------
    def sdk_map(self, start: int, end: int, prefix: str) -> None:
        for element in keyed(self.text, start, end).values():
            self.sdk_attribute(element.start, element.end, prefix + self.key(element.key))

    def sdk_attribute(self, start: int, end: int, path: str) -> None:
        body = literal_body(self.text, start, end)
        if body is None:
            call = _callee(squeezed(self.text[start:end]))
            if call in SDK_HELPERS:
                self.record(path, *SDK_HELPERS[call])
                return
            brace = self.local_literal(call, r"&?schema\.Schema\{")
            if brace is None:
                self.unread(path, start, end)
            else:
                self.sdk_attribute(brace, matching(self.text, brace), path)
            return
        found, value = self.fields(body)
        computed_only = value("Computed") == "true" and "true" not in (value("Optional"), value("Required"))
        self.record(path, not computed_only, value("ForceNew") == "true")
        if "Elem" in found:
            self.sdk_elem(found["Elem"].start, found["Elem"].end, path)

    def sdk_elem(self, start: int, end: int, path: str) -> None:
        text = squeezed(self.text[start:end])
        if re.match(r"&?schema\.Schema\{", text):
            return  # a list or set of primitives
        nested = self.sdk_nested_map(start, end)
        if nested is None:
            self.unread(path + ".*", start, end)
        else:
            self.sdk_map(*nested, path + ".")

    def sdk_nested_map(self, start: int, end: int) -> tuple[int, int] | None:
        """The schema map body of a nested block: an inline ``schema.Resource``, or a local helper."""
        text = squeezed(self.text[start:end])
        body = literal_body(self.text, start, end)
        if body is None:
            brace = self.local_literal(_callee(text), _SCHEMA_MAP)
            return None if brace is None else (brace + 1, matching(self.text, brace) - 1)
        if text.startswith("map["):
            return body
        found = keyed(self.text, *body)
        if "Schema" not in found:
            return None
        return self.sdk_nested_map(found["Schema"].start, found["Schema"].end)

    # -- terraform-plugin-framework -------------------------------------------------------------
    def framework_nested(self, body: tuple[int, int], prefix: str) -> None:
        found = keyed(self.text, *body)
        for name, is_block in (("Attributes", False), ("Blocks", True)):
            if name in found:
                inner = literal_body(self.text, found[name].start, found[name].end)
                if inner is None:
                    self.unread(prefix + "*", found[name].start, found[name].end)
                    continue
                for element in keyed(self.text, *inner).values():
                    self.framework_attribute(element.start, element.end, prefix + self.key(element.key), is_block)

    def framework_attribute(self, start: int, end: int, path: str, is_block: bool) -> None:
        text = squeezed(self.text[start:end])
        call = _callee(text)
        if call in FRAMEWORK_HELPERS:
            self.record(path, *FRAMEWORK_HELPERS[call])
            return
        body = literal_body(self.text, start, end)
        if body is None:
            self.unread(path, start, end)
            return
        found, value = self.fields(body)
        computed_only = value("Computed") == "true" and "true" not in (value("Optional"), value("Required"))
        modifiers = value("PlanModifiers") or ""
        conditional = re.findall(r"\bRequiresReplace(If\w*)\(", modifiers)
        forces = bool(re.search(r"\bRequiresReplace\(\)", modifiers)) or "IfConfigured" in conditional
        for variant in conditional:
            if variant != "IfConfigured":
                self.schema.hints.append(Hint(f"plan modifier RequiresReplace{variant}", path, modifiers[:120]))
        self.record(path, is_block or not computed_only, forces)
        self.framework_nested(body, path + ".")
        if "NestedObject" in found:
            nested = literal_body(self.text, found["NestedObject"].start, found["NestedObject"].end)
            if nested is not None:
                self.framework_nested(nested, path + ".")

    # -- value-dependent replacement ------------------------------------------------------------
    def argument_path(self, argument: str) -> str | None:
        """``"a"``, ``names.AttrA``, a constant, or ``path.Root(a).AtName(b)`` as a dotted path."""
        argument = argument.strip()
        steps = re.fullmatch(r"path\.Root\(([^()]+)\)((?:\.AtName\([^()]+\))*)", argument)
        if steps is None:
            return self.name(argument)
        names = [self.name(steps.group(1)), *(self.name(a) for a in re.findall(r"\.AtName\(([^()]+)\)", steps.group(2)))]
        return None if None in names else ".".join(n for n in names if n)

    def conditional_hints(self) -> None:
        patterns = (
            (r"customdiff\.ForceNewIfChange\(\s*([^,]+),", "customdiff.ForceNewIfChange"),
            (r"customdiff\.ForceNewIf\(\s*([^,]+),", "customdiff.ForceNewIf"),
            (r"\.ForceNew\(\s*([^)]+)\)", "ResourceDiff.ForceNew"),
            (r"RequiresReplace\s*=\s*append\(\s*[^,]+,\s*((?:[^()]|\([^()]*\))+)\)", "ModifyPlan RequiresReplace"),
        )
        for pattern, origin in patterns:
            for found in re.finditer(pattern, self.text):
                for argument in _top_level_arguments(found.group(1)):
                    self.schema.hints.append(Hint(origin, self.argument_path(argument), squeezed(argument)))


def _callee(value: str) -> str:
    """The function a value calls (``tftags.TagsSchema`` of ``tftags.TagsSchema()``), or the value itself."""
    call = re.match(r"&?([\w.]+)\s*\(", value)
    return call.group(1) if call else value.lstrip("&")


def _top_level_arguments(arguments: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, c in enumerate(arguments):
        depth += (c == "(") - (c == ")")
        if c == "," and depth == 0:
            parts.append(arguments[start:i])
            start = i + 1
    parts.append(arguments[start:])
    return [p.strip() for p in parts if p.strip()]


def read_schema(text: str, tf_resource: str) -> Schema:
    """The schema of ``tf_resource`` (``aws_vpc``) in ``text``: one or more Go files, concatenated.

    Raises SchemaNotFound when the text has no schema of either style, GoSyntaxError when it is
    not balanced Go.
    """
    quoted = re.escape(tf_resource)
    framework_marker = re.search(rf'@FrameworkResource\("{quoted}"', text)
    sdk_marker = re.search(rf'@SDKResource\("{quoted}"', text)
    if framework_marker or (not sdk_marker and "resource.SchemaResponse" in text):
        reader = _Reader(text, "framework")
        method = re.search(r"\)\s*Schema\(\s*\w*\s*context\.Context[^{]*\{", text)
        if method is None:
            raise SchemaNotFound(f"no framework Schema method for {tf_resource}")
        literal = re.compile(r"schema\.Schema\{").search(text, method.end(), matching(text, method.end() - 1))
        if literal is None:
            raise SchemaNotFound(f"no schema.Schema literal in the Schema method for {tf_resource}")
        reader.framework_nested((literal.end(), matching(text, literal.end() - 1) - 1), "")
    else:
        reader = _Reader(text, "sdkv2")
        start = sdk_marker.end() if sdk_marker else 0
        body = reader.resource_schema(start)
        if body is None:
            schema_map = re.compile(_SCHEMA_MAP).search(text, start)
            if schema_map is None:
                raise SchemaNotFound(f"no map[string]*schema.Schema for {tf_resource}")
            body = (schema_map.end(), matching(text, schema_map.end() - 1) - 1)
        reader.sdk_map(*body, "")
        reader.schema.update_changes_only_tags = _update_changes_only_tags(text, start)
    reader.conditional_hints()
    return reader.schema


def _update_changes_only_tags(text: str, start: int) -> bool:
    """The SDKv2 resource's Update function says it changes tags only (upstream marks it ``// Tags only``)."""
    resource = re.compile(r"&schema\.Resource\{").search(text, start)
    if resource is None:
        return False
    found = keyed(text, resource.end(), matching(text, resource.end() - 1) - 1)
    update = next((found[k] for k in ("UpdateWithoutTimeout", "UpdateContext", "Update") if k in found), None)
    if update is None:
        return False
    name = squeezed(text[update.start:update.end])
    head = re.search(rf"\bfunc\s+{re.escape(name)}\s*\([^)]*\)[^{{]*\{{", text)
    if head is None:
        return False
    return bool(re.search(r"//\s*Tags only", text[head.end():matching(text, head.end() - 1)], re.IGNORECASE))


__all__ = ["Attribute", "GoSyntaxError", "Hint", "Schema", "SchemaNotFound", "TAG_ATTRIBUTES", "attribute_name", "read_schema"]
