"""mlopsctl: the platform's command-line companion (offline preview, cost, diff, bootstrap, verify).

Three sub-packages, one per concern; ``cli.py`` is the one entry point over them:

- ``offline``: the Pulumi program under the SDK's mock runtime, the policy pack driven over gRPC
  as the engine drives it, and the preview's cost section (no AWS, no Pulumi CLI);
- ``review``: what a pull request shows and checks on top of offline previews (the diff against a
  git ref, Kubernetes upgrade rules, generated docs and pack data);
- ``ops``: boto3 operations on a real account (bootstrap, post-deploy verify).

``review`` builds on ``offline``, ``ops`` reads stack files through it, and ``offline`` imports
neither of the others (tests/unit/test_import_graph.py keeps these directions).
"""

from pathlib import Path

# The repository root: the platform's Pulumi project, stacks/, policies/ and docs/.
ROOT = Path(__file__).resolve().parent.parent
