"""The day the suite runs on (``tests/conftest.py`` pins ``MLOPS_TODAY`` to it at import).

Every date-dependent decision (EKS support, extended-support pricing, the pack's warnings) reads
the one clock; pinning it makes the suite pass on any machine date.
"""

TEST_TODAY = "2026-12-03"
