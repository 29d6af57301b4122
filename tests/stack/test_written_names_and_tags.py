"""What the config checks assume about the program, checked against what the real stacks register:
the tag keys components write on single resources (which ``extraTags`` may not use), the tags
themselves (AWS's rules), and the stems of the buckets whose names ``namePrefix`` makes."""

from __future__ import annotations

from collections.abc import Iterator

from components import facts
from components.config import BUCKET_STEMS, PLATFORM_TAG_KEYS, RESOURCE_TAG_KEYS, RESOURCE_TAG_PREFIXES
from components.config.tags import reserved_by_platform
from tests.support.stacks import stack_preview


def _written_tags(each_stack) -> Iterator[tuple[str, str, str]]:
    """(resource type, key, value) of every tag in the stack's registrations (tag maps and Auto Scaling tags)."""

    def walk(value, resource_type):
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "tags" and isinstance(inner, dict):
                    yield from ((resource_type, k, v) for k, v in inner.items())
                else:
                    yield from walk(inner, resource_type)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item, resource_type)

    for resource in each_stack.recording.resources:
        yield from walk(resource.inputs, resource.type)
        if resource.type == "aws:autoscaling/tag:Tag":
            yield resource.type, resource.inputs["tag"]["key"], resource.inputs["tag"]["value"]


def test_every_tag_key_a_component_writes_is_one_extra_tags_may_not_use(each_stack):
    keys = {key for _, key, _ in _written_tags(each_stack)}
    assert keys >= set(PLATFORM_TAG_KEYS)
    assert sorted(k for k in keys if reserved_by_platform(k) is None) == []
    assert all(any(k.startswith(p) for k in keys) for p in RESOURCE_TAG_PREFIXES)


def test_every_reserved_resource_tag_is_written_by_some_stack():
    # Not every stack writes every one (dev has no approval dispatch), but a reserved key nobody writes is stale.
    keys = {key for stack in ("dev", "staging", "prod") for _, key, _ in _written_tags(stack_preview(stack))}
    assert set(RESOURCE_TAG_KEYS) <= keys


def test_every_tag_written_passes_aws_tag_rules(each_stack):
    rules = facts.tag_rules()
    for resource_type, key, value in _written_tags(each_stack):
        assert rules["key"]["min"] <= len(key) <= rules["key"]["max"], (resource_type, key)
        assert len(value) <= rules["value"]["max"], (resource_type, key)
        if resource_type != "aws:autoscaling/tag:Tag":  # Auto Scaling allows more; default tags never reach it
            assert all(facts.matches_botocore_pattern(p, key) for p in rules["key"]["patterns"].values()), (resource_type, key)
            assert all(facts.matches_botocore_pattern(p, value) for p in rules["value"]["patterns"].values()), (resource_type, key, value)
        assert not key.lower().startswith(rules["reservedPrefix"]), (resource_type, key)


def test_every_bucket_is_named_from_a_stem_the_config_checks():
    prod = stack_preview("prod")  # the one stack with every bucket: replication adds the replica and its logs
    prefixes = sorted(r.inputs["bucketPrefix"] for r in prod.recording.of_type("aws:s3/bucket:Bucket"))
    assert prefixes == sorted(f"{prod.config.resource_name(stem)}-" for stem in BUCKET_STEMS)
