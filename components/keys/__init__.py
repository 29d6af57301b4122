"""The platform's customer-managed KMS keys, one per purpose, each with an explicit key policy,
and the one way other components get to use a key (:class:`PlatformKey`)."""

from components.keys.grants import GRANT_ACTIONS, KEY_USE_ACTIONS, KmsAction, PlatformKey
from components.keys.platform_keys import KEY_PURPOSES, PlatformKeys, PlatformKeysArgs, key_policy_statements

__all__ = ["GRANT_ACTIONS", "KEY_PURPOSES", "KEY_USE_ACTIONS", "KmsAction", "PlatformKey", "PlatformKeys", "PlatformKeysArgs", "key_policy_statements"]
