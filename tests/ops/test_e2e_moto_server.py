"""End to end: the real ``mlopsctl`` CLI, as a subprocess, against ``moto_server`` on 127.0.0.1.

moto_server runs as its own process on a free port; readiness is polled with a bounded loop
(HTTP GET until a deadline, waiting on the server process between attempts), never a sleep.
The gaps of moto listed in test_bootstrap.py and test_verify.py apply here too: the staging stack
is used because it has no cross-region replication, which moto cannot represent faithfully.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time

import boto3
import pytest

from mlopsctl.offline.preview import load_config
from mlopsctl.offline.stackfile import load_stack_file
from tests.support.aws_seed import BUCKET, MOTO_SETTINGS, REGION, Seed, seed_stack
from tests.support.stacks import ROOT

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
               "AWS_DEFAULT_REGION": REGION}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(process: subprocess.Popen, port: int, deadline_seconds: float = 30.0) -> None:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/moto-api/")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        try:
            process.wait(timeout=0.05)  # waits on the server; returns only if it died
        except subprocess.TimeoutExpired:
            continue
        raise RuntimeError(f"moto_server exited with {process.returncode}: {process.stderr.read().decode(errors='replace')[-2000:]}")
    raise RuntimeError(f"moto_server did not answer on 127.0.0.1:{port} within {deadline_seconds}s")


@pytest.fixture(scope="module")
def moto_server():
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **CREDENTIALS, **MOTO_SETTINGS})
    try:
        _wait_until_serving(process, port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        process.stderr.close()


def mlopsctl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **CREDENTIALS}
    return subprocess.run([sys.executable, "-m", "mlopsctl", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_bootstrap_then_verify_through_the_cli(moto_server, monkeypatch, tmp_path):
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    bootstrap = ["bootstrap", "--environment", "prod", "--region", REGION, "--name", "mlops", "--github-repo", "acme/ml-platform",
                 "--endpoint-url", moto_server]

    first = mlopsctl(*bootstrap)
    assert (first.returncode, first.stderr) == (0, ""), first.stdout + first.stderr
    bucket = "mlops-pulumi-state-123456789012-us-east-1"
    assert f"  pulumi login 's3://{bucket}?region=us-east-1&awssdk=v2'\n" in first.stdout
    assert "  pulumi stack init organization/mlops-platform/prod --secrets-provider 'awskms://alias/mlops-pulumi-secrets?region=us-east-1'\n" in first.stdout
    assert "  environment prod    AWS_ROLE_ARN                 arn:aws:iam::123456789012:role/mlops-deploy-prod\n" in first.stdout
    assert "  repository          AWS_PREVIEW_ROLE_ARN_PROD    arn:aws:iam::123456789012:role/mlops-preview-prod\n" in first.stdout
    assert "mlops-deploy-dev" not in first.stdout and "mlops-preview-staging" not in first.stdout

    second = mlopsctl(*bootstrap, "--format", "json")
    report = json.loads(second.stdout)
    assert (second.returncode, report["changed"], report["ok"], report["environment"]) == (0, False, True, "prod")
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=moto_server)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"

    # A deployed staging stack, then verify it from a file and from stdin.
    outputs = seed_stack(load_config(load_stack_file("staging")), Seed(autoscaling_min=1), endpoint_url=moto_server)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    passing = mlopsctl("verify", "--stack", "staging", "--outputs", str(path), "--endpoint-url", moto_server, "--format", "json")
    document = json.loads(passing.stdout)
    assert (passing.returncode, passing.stderr) == (0, ""), passing.stdout
    assert document["summary"] == {"pass": 22, "fail": 0, "error": 0, "skip": 1}

    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    failing = mlopsctl("verify", "--stack", "staging", "--endpoint-url", moto_server, stdin=json.dumps(outputs))
    assert failing.returncode == 1
    [line] = [x for x in failing.stdout.splitlines() if x.lstrip().startswith("FAIL")]
    assert line.split() == ["FAIL", "artifactStore.versioning", f"s3://{BUCKET}:", "versioning", "is", "Suspended,", "want", "Enabled"]
    assert failing.stdout.endswith("21 passed, 1 failed, 0 errors, 1 skipped\n")

    bad = mlopsctl("verify", "--stack", "staging", "--endpoint-url", moto_server, stdin="{oops")
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr.startswith("error: outputs (stdin): not valid JSON") and bad.stderr.count("\n") == 1
