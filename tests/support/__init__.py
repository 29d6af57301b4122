"""Helpers the tests import: real stacks and their previews, single components under the mock
monitor, the policy pack's small programs, moto seeds and an IAM evaluator. Fixtures live in
``tests/conftest.py``; nothing here is collected as a test."""
