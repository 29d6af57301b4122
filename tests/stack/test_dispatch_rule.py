"""The approval dispatch end to end in moto: the pattern and transformer the staging stack
registers, AWS's sample model-package event through ``PutEvents``, and the body an SQS queue in the
API destination's place receives, checked against GitHub's published request schema and then fed
to ``mlopsctl promote`` as the promote workflow does.

The rule and target are read from the recorded RegisterResourceRequests of the staging preview,
never rebuilt here. moto cannot call GitHub (its API-destination delivery sends no body), so an SQS
queue receives exactly what the transformer wrote instead; the request GitHub would get is that
body.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from mlopsctl.cli import main
from tests.support import sagemaker_events as events
from tests.support.aws_seed import moto_account
from tests.support.eventbridge import rule_into_queue
from tests.support.stackfiles import real_stack_text
from tests.support.stacks import ROOT, STACK_ACCOUNTS, stack_preview

STACK = "staging"
ACCOUNT = STACK_ACCOUNTS[STACK]
REGION = "us-east-1"
GITHUB = json.loads((ROOT / "components" / "data" / "github_dispatch.json").read_text())


@pytest.fixture(scope="module")
def registered() -> tuple[dict, dict]:
    rec = stack_preview(STACK).recording
    [rule] = [r for r in rec.of_type("aws:cloudwatch/eventRule:EventRule") if "mlops:promotion:ApprovalDispatch" in r.urn]
    [target] = [t for t in rec.of_type("aws:cloudwatch/eventTarget:EventTarget") if t.inputs["rule"] == rule.inputs["name"]]
    return rule.inputs, target.inputs


@pytest.fixture
def deliver(monkeypatch, registered):
    """``deliver(sample)``: the request bodies the approval rule writes for ``sample``."""
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)
    with moto_account(monkeypatch, REGION):
        rule, target = registered
        yield rule_into_queue(REGION, rule, target)


def test_an_approval_becomes_a_request_github_accepts(deliver):
    [body] = deliver(events.model_package(ACCOUNT, REGION, "churn", "Approved", version=9))
    jsonschema.validate(body, GITHUB["requestBodySchema"])
    assert len(json.dumps(body["client_payload"]).encode()) < GITHUB["clientPayloadMaxBytes"]
    assert body == {"event_type": "mlops-model-approved", "client_payload": {
        "environment": "staging", "endpoint": "churn", "group": "churn", "version": "9",
        "modelPackageArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/churn/9"}}


def test_rejections_pending_packages_and_other_groups_dispatch_nothing(deliver):
    assert deliver(events.model_package(ACCOUNT, REGION, "churn", "Rejected")) == []
    assert deliver(events.model_package(ACCOUNT, REGION, "churn", "PendingManualApproval")) == []
    assert deliver(events.model_package(ACCOUNT, REGION, "fraud", "Approved")) == []


def test_the_dispatched_payload_is_all_promote_needs(deliver, tmp_path, capsys):
    [body] = deliver(events.model_package(ACCOUNT, REGION, "churn", "Approved", version=9))
    payload = body["client_payload"]
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    before = real_stack_text(STACK)
    (stacks / f"Pulumi.{STACK}.yaml").write_text(before)
    code = main(["promote", "--stack", payload["environment"], "--endpoint", payload["endpoint"],
                 "--model-package-arn", payload["modelPackageArn"], "--stacks-dir", str(stacks)])
    assert code == 0, capsys.readouterr().err
    after = Path(stacks / f"Pulumi.{STACK}.yaml").read_text()
    assert after == before.replace("model-package/churn/7\n", "model-package/churn/9\n", 1)
