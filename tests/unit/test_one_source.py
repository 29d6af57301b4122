"""Each shared fact has one home: a literal copy elsewhere in the platform's code fails here.

The scan covers tracked ``.py`` and ``.json`` files of components/, mlopsctl/ and policies/ (tests
may spell out expectations). ``endOfStandardSupport`` has its own guard in tests/unit/test_clock.py.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.support.stacks import ROOT

SCANNED = ("components", "mlopsctl", "policies")

# fact -> (pattern of a definition or literal copy, the one file allowed to hold it)
HOMES: dict[str, tuple[re.Pattern[str], str]] = {
    "project name": (re.compile(r"""["']mlops-platform["']"""), "policies/awsfacts/__init__.py"),
    "namePrefix / --name rule": (re.compile(r"\[a-z\]\[a-z0-9-\]\{"), "components/config/base.py"),
    "SageMaker scalable dimension": (re.compile(r"sagemaker:variant:DesiredInstanceCount"), "policies/awsfacts/__init__.py"),
    "GPU taint key": (re.compile(r"""(?:=|:)\s*["']nvidia\.com/gpu["']"""), "components/config/eks.py"),
    "secret placeholder": (re.compile(r"\[secret: not decrypted offline\]"), "mlopsctl/offline/stackfile.py"),
    "not-evaluated note": (re.compile(r"""NOT_EVALUATED\s*=|["']not (?:yet )?evaluated["']"""), "mlopsctl/offline/preview.py"),
    "secure: walker": (re.compile(r"""==\s*\{["']secure["']\}"""), "mlopsctl/offline/stackfile.py"),
    "botocore model reader": (re.compile(r"service-2\.json"), "policies/awsfacts/botocore_models.py"),
    "aws_facts sections": (re.compile(r'"gpuInstanceFamilies"\s*:'), "policies/awsfacts/aws_facts.json"),
    "config entry parser": (re.compile(r"""\.get\(["']enforcementLevel["']"""), "mlopsctl/offline/policycheck/config.py"),
    "runner project name": (re.compile(r"""gha-runner["'}]"""), "components/config/physical_names.py"),
    "state bucket name": (re.compile(r"-pulumi-state-\{"), "components/config/physical_names.py"),
    "GitHub connection name": (re.compile(r"""\}-github["']"""), "components/config/physical_names.py"),
    "image push role name": (re.compile(r"""-push-["'{]"""), "components/config/physical_names.py"),
    "CI role names": (re.compile(r"-(?:deploy|preview)-\{"), "components/config/physical_names.py"),
    "serving role path": (re.compile(r"""/serving/["']"""), "components/config/physical_names.py"),
    "type-token constants": (re.compile(r"""^[A-Z][A-Z0-9_]* = ["'](?:aws|kubernetes):[A-Za-z0-9.]+/[A-Za-z0-9]+:[A-Za-z0-9]+["']""", re.M),
                             "policies/awsfacts/resource_types.py"),
}


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", *SCANNED],
                            cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / line for line in listed.stdout.splitlines() if Path(line).suffix in (".py", ".json") and (ROOT / line).is_file()]


def holders(pattern: re.Pattern[str], files: dict[str, str]) -> list[str]:
    return sorted(path for path, text in files.items() if pattern.search(text))


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in tracked_files()}


@pytest.mark.parametrize("fact", sorted(HOMES))
def test_each_fact_is_defined_in_exactly_its_one_home(sources, fact):
    pattern, home = HOMES[fact]
    assert holders(pattern, sources) == [home], f"{fact}: keep it in {home} and import it from there"


def test_the_scanner_finds_a_copy_that_came_back(sources):
    copies = {
        "project name": 'PROJECT = "mlops-platform"\n',
        "namePrefix / --name rule": 'NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,19}$")\n',
        "SageMaker scalable dimension": 'SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"\n',
        "GPU taint key": 'GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true"}\n',
        "secret placeholder": 'SECRET = "[secret: not decrypted offline]"\n',
        "not-evaluated note": 'NOT_EVALUATED = "not yet evaluated"\n',
        "secure: walker": 'if set(value) == {"secure"}:\n',
        "botocore model reader": 'path = latest / "service-2.json.gz"\n',
        "aws_facts sections": '{"gpuInstanceFamilies": {"ec2": []}}\n',
        "config entry parser": 'level = policy.get("enforcementLevel", "mandatory")\n',
        "runner project name": 'return f"{name}-{environment}-gha-runner"\n',
        "state bucket name": 'bucket = f"{name}-pulumi-state-{account}-{region}"\n',
        "GitHub connection name": 'return f"{self.name}-github"\n',
        "image push role name": 'role = f"{name}-push-{environment}-{pusher}"\n',
        "CI role names": 'role = f"{prefix}-deploy-{environment}"\n',
        "serving role path": 'path = f"/{stem}/serving/"\n',
        "type-token constants": 'EKS_CLUSTER = "aws:eks/cluster:Cluster"\n',
    }
    assert set(copies) == set(HOMES)
    for fact, copy in copies.items():
        pattern, home = HOMES[fact]
        with_copy = {**sources, "mlopsctl/copied.py": copy}
        assert holders(pattern, with_copy) == sorted([home, "mlopsctl/copied.py"]), fact
    # the scan itself reaches the three trees
    assert {p.split("/", 1)[0] for p in sources} == set(SCANNED)
