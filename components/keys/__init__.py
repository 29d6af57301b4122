"""The platform's customer-managed KMS keys, one per purpose, each with an explicit key policy."""

from components.keys.platform_keys import KEY_PURPOSES, PlatformKeys, PlatformKeysArgs, key_policy_statements

__all__ = ["KEY_PURPOSES", "PlatformKeys", "PlatformKeysArgs", "key_policy_statements"]
