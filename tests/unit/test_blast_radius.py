"""Replacements and what they drag along, on hand-built previews: labels, blast radius, refusal, verdict, rendering.

The facts are the committed, derived table (mlopsctl/review/data/replace_on_change.json); each case
names the fact it relies on, so a regenerated table that drops it fails here.
"""

from __future__ import annotations

import pytest

from mlopsctl.review.diff.compare import Side, compare
from mlopsctl.review.diff.graph import replacement_graph
from mlopsctl.review.diff.render import render_error_comment, render_markdown, render_text
from mlopsctl.review.diff.replace_rules import Effect, load_replace_table

VPC, SUBNET, CLUSTER = "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:eks/cluster:Cluster"
NODE_GROUP, PROJECT_ = "aws:eks/nodeGroup:NodeGroup", "aws:codebuild/project:Project"
BUCKET, NAMESPACE = "aws:s3/bucket:Bucket", "kubernetes:core/v1:Namespace"


def _urn(type_: str, name: str, project: str = "mlops-platform") -> str:
    return f"urn:pulumi:prod::{project}::{type_}::{name}"


def _res(type_: str, resource_name: str, *, deps: dict[str, list[str]] | None = None, project: str = "mlops-platform",
         protect: bool = False, **inputs) -> dict:
    return {"urn": _urn(type_, resource_name, project), "type": type_, "name": resource_name, "custom": True, "protect": protect,
            "retainOnDelete": False, "deleteBeforeReplace": False, "ignoreChanges": [], "replaceOnChanges": [],
            "additionalSecretOutputs": [], "provider": None, "propertyDependencies": deps or {}, "inputs": inputs}


def _preview(resources: list[dict]) -> dict:
    return {"stack": "prod", "resources": resources, "policy": {"evaluated": True, "violations": []},
            "cost": {"evaluated": True, "monthly": {"idle": 0, "expected": 0, "ceiling": 0}}}


def _network(cidr: str) -> list[dict]:
    vpc = _res(VPC, "vpc", cidrBlock=cidr)
    subnet = _res(SUBNET, "private-1", deps={"vpcId": [vpc["urn"]]}, vpcId="vpc-1", cidrBlock="10.0.0.0/20")
    cluster = _res(CLUSTER, "cluster", deps={"vpcConfig": [subnet["urn"]]}, name="mlops", vpcConfig={"subnetIds": ["subnet-1"]})
    group = _res(NODE_GROUP, "system", deps={"clusterName": [cluster["urn"]], "subnetIds": [subnet["urn"]]},
                 clusterName="mlops", subnetIds=["subnet-1"])
    runner = _res(PROJECT_, "runner", deps={"vpcConfig": [subnet["urn"]]}, vpcConfig={"subnets": ["subnet-1"]})
    namespace = _res(NAMESPACE, "ns-ml-serving", project="mlops-platform-incluster", metadata={"name": "ml-serving"})
    untouched = _res(BUCKET, "artifacts", protect=True, bucket="artifacts")
    return [vpc, subnet, cluster, group, runner, namespace, untouched]


def _vpc_cidr_change(environment: str):
    return compare("prod", Side("main (abc1234)", _preview(_network("10.30.0.0/16")), None),
                   Side("0123456789abcdef0123456789abcdef01234567", _preview(_network("10.31.0.0/16")), None), environment=environment)


def test_the_facts_these_cases_rely_on_are_in_the_table():
    table = load_replace_table()
    assert table.facts(VPC).key_effect("cidrBlock") is Effect.REPLACE
    assert table.facts(SUBNET).key_effect("vpcId") is Effect.REPLACE
    assert table.facts(NODE_GROUP).key_effect("clusterName") is Effect.REPLACE
    assert table.facts(PROJECT_).key_effect("vpcConfig") is Effect.UPDATE
    assert table.facts(CLUSTER).key_effect("vpcConfig") is not Effect.REPLACE  # subnets update in place within one VPC
    assert table.facts(CLUSTER).upstream_rule("vpcConfig", {VPC}) is not None  # ... but a cluster cannot move VPC


def test_a_vpc_cidr_change_replaces_the_vpc_and_drags_subnets_cluster_and_node_groups_along():
    diff = _vpc_cidr_change("prod")
    by_name = {c.name: c for c in diff.changes}
    assert by_name["vpc"].label == "replace" and by_name["vpc"].replace_reasons == ["cidrBlock"]
    assert by_name["private-1"].label == "replace" and [c.name for c in by_name["private-1"].caused_by] == ["vpc"]
    assert by_name["cluster"].label == "replace"
    assert "cannot move to another VPC" in by_name["cluster"].caused_by[0].why
    assert by_name["system"].label == "replace"
    assert by_name["runner"].label == "update"  # CodeBuild moves VPC in place
    assert [(c.name, c.key, c.cause_state) for c in by_name["runner"].caused_by] == [("private-1", "vpcConfig", "replaced")]
    assert by_name["ns-ml-serving"].label == "replace"  # the in-cluster layer lives in the cluster
    assert "artifacts" not in by_name  # no input points at a replaced resource
    assert [r.name for r in diff.roots] == ["vpc"]
    assert {d.name for d in diff.dependents_of(diff.roots[0])} == {"private-1", "cluster", "system", "runner", "ns-ml-serving"}
    assert diff.summary()["replace"] == 5 and diff.summary()["update"] == 1 and diff.summary()["unchanged"] == 1


def test_prod_refuses_replacing_what_holds_data_and_dev_only_asks_for_care():
    prod = _vpc_cidr_change("prod")
    problems = prod.blocking_problems()
    assert [p.split(" (")[0] for p in problems] == [
        "prod: this change replaces aws:eks/cluster:Cluster cluster",
        "prod: this change replaces kubernetes:core/v1:Namespace ns-ml-serving",
    ]
    assert "losing its etcd" in problems[0]
    assert prod.verdict()[0] == "blocked"
    dev = _vpc_cidr_change("dev")
    assert dev.blocking_problems() == []
    assert dev.verdict() == ("needs care", "needs care: 5 replacement(s), 2 data store(s) touched, 0 deletion(s)")


def test_a_protected_dependent_is_refused_in_staging():
    key = _res("aws:kms/key:Key", "key", protect=True, description="artifacts")
    alias_old = _res("aws:kms/alias:Alias", "alias", deps={"targetKeyId": [key["urn"]]}, name="alias/a", targetKeyId="k")
    bucket_old = _res(BUCKET, "data", bucket="data-v1")
    policy = _res("aws:s3/bucketPolicy:BucketPolicy", "data-policy", deps={"bucket": [bucket_old["urn"]]}, bucket="data-v1")
    bucket_new = {**bucket_old, "inputs": {"bucket": "data-v2"}}
    diff = compare("staging", Side("b", _preview([key, alias_old, bucket_old, policy]), None),
                   Side("h", _preview([key, alias_old, bucket_new, {**policy, "inputs": {"bucket": "data-v2"}}]), None), environment="staging")
    (problem,) = diff.blocking_problems()
    assert problem.startswith("staging: this change replaces aws:s3/bucket:Bucket data (bucket), losing its objects")
    assert {c.name: c.label for c in diff.changes} == {"data": "replace", "data-policy": "replace"}


@pytest.mark.parametrize(
    ("type_", "old", "new", "label", "reason"),
    [
        (VPC, {"instanceTenancy": "default"}, {"instanceTenancy": "dedicated"}, "update (may replace)", "instanceTenancy (conditional: "),
        (CLUSTER, {"kubeApiServerConfig": {}}, {"kubeApiServerConfig": {"x": 1}}, "update (may replace)", "kubeApiServerConfig.x (unverified: "),
        ("pulumi:providers:aws", {"region": "us-east-1"}, {"region": "us-west-2"}, "update (may replace)", "region (unverified: "),
        ("pulumi:providers:aws", {"defaultTags": {"tags": {"a": "1"}}}, {"defaultTags": {"tags": {"a": "2"}}}, "update", None),
        ("aws:dynamodb/table:Table", {"name": "a"}, {"name": "b"}, "update (may replace)", "name (no replace facts for aws:dynamodb/table:Table)"),
        (BUCKET, {"forceDestroy": False}, {"forceDestroy": True}, "update", None),
    ],
)
def test_what_the_facts_cannot_settle_is_a_may(type_, old, new, label, reason):
    diff = compare("dev", Side("b", _preview([_res(type_, "r", **old)]), None), Side("h", _preview([_res(type_, "r", **new)]), None))
    (change,) = diff.changes
    assert change.label == label
    assert (reason is None and change.reasons() == []) or change.reasons()[0].startswith(reason)


def test_tag_only_updates_are_one_line():
    old = [_res(BUCKET, f"b{i}", bucket=f"b{i}", tags={"owner": "a"}) for i in range(3)]
    new = [{**r, "inputs": {**r["inputs"], "tags": {"owner": "b"}}} for r in old]
    new[2]["inputs"]["forceDestroy"] = True  # not tag-only
    diff = compare("dev", Side("b", _preview(old), None), Side("h", _preview(new), None))
    assert [c.name for c in diff.changes if c.tag_only] == ["b0", "b1"]
    markdown = render_markdown(diff)
    assert "**2** tag-only update(s), in place: <code>b0</code>, <code>b1</code>" in markdown
    assert "<b>b0</b>" not in markdown and "<b>b2</b>: update" in markdown
    assert "~ 2 tag-only update(s), in place: b0, b1" in render_text(diff)
    assert diff.verdict()[0] == "safe"


def test_the_comment_leads_with_the_verdict_then_cost_policy_and_changes_and_names_the_head():
    markdown = render_markdown(_vpc_cidr_change("prod"))
    lines = markdown.splitlines()
    assert lines[3].startswith(":no_entry: **Blocked**: 2 problem(s): prod: this change replaces aws:eks/cluster:Cluster cluster")
    order = [markdown.index(s) for s in ("**Blocked**", "**Monthly cost", "#### Policy", "#### Changes", "#### Replacements")]
    assert order == sorted(order)
    assert "head `0123456789abcdef0123456789abcdef01234567`" in markdown
    assert "```mermaid" in markdown


def test_the_mermaid_graph_draws_replaced_resources_and_marks_data():
    lines = replacement_graph(_vpc_cidr_change("prod"))
    assert lines[:2] == ["```mermaid", "flowchart LR"] and lines[-1] == "```"
    nodes = {line.split("[", 1)[0].strip(): line.split("[", 1)[1] for line in lines if '["' in line}
    ids = {label.strip('"]'): node for node, label in nodes.items()}
    assert set(ids) == {"ec2 Vpc: vpc", "ec2 Subnet: private-1", "eks Cluster: cluster", "eks NodeGroup: system", "core Namespace: ns-ml-serving"}
    assert f"  {ids['ec2 Vpc: vpc']} --> {ids['ec2 Subnet: private-1']}" in lines
    assert f"  {ids['eks Cluster: cluster']} --> {ids['core Namespace: ns-ml-serving']}" in lines
    assert lines[-2] == f"  class {','.join(sorted([ids['eks Cluster: cluster'], ids['core Namespace: ns-ml-serving']]))} data"


def test_a_graph_only_where_a_replacement_drags_another_along():
    old, new = _res(BUCKET, "solo", bucket="a"), _res(BUCKET, "solo", bucket="b")
    assert replacement_graph(compare("dev", Side("b", _preview([old]), None), Side("h", _preview([new]), None))) == []


def test_policy_messages_are_escaped_for_markdown_and_html():
    violation = {"policy": "monthly-budget", "level": "mandatory", "urn": None,
                 "message": "raise it in policies/config/<stack>.json | or `lower` *max* sizes"}
    base, head = _preview([]), _preview([])
    head["policy"]["violations"] = [violation]
    markdown = render_markdown(compare("dev", Side("b", base, None), Side("h", head, None)))
    assert r"policies/config/&lt;stack&gt;.json &#124; or \`lower\` \*max\* sizes" in markdown
    assert "<stack>" not in markdown


def test_the_error_comment_replaces_the_diff_with_one_line_naming_the_head():
    comment = render_error_comment("prod", "abc123", "stacks/Pulumi.prod.yaml: platform.network.vpcCidr: <bad> is not a CIDR")
    assert comment.splitlines()[0] == "<!-- mlopsctl-diff stack=prod -->"
    assert comment.splitlines()[-1] == (":no_entry: **Cannot preview** head <code>abc123</code>: "
                                        "stacks/Pulumi.prod.yaml: platform.network.vpcCidr: &lt;bad&gt; is not a CIDR")


# --- Inputs set outside Pulumi: the dispatch connection's token -------------------------------

CONNECTION = "aws:cloudwatch/eventConnection:EventConnection"


def _connection(description: str, token: str = "Bearer unset-run-mlopsctl-dispatch-token") -> dict:
    resource = _res(CONNECTION, "dispatch", name="mlops-prod-github-dispatch", description=description,
                    authParameters={"apiKey": {"key": "Authorization", "value": token}})
    return {**resource, "ignoreChanges": ["authParameters.apiKey.value"]}


def _diff(base: list[dict], head: list[dict]):
    return compare("prod", Side("b", _preview(base), None), Side("h", _preview(head), None))


def test_updating_the_dispatch_connection_asks_for_the_token_right_after_the_deploy():
    diff = _diff([_connection("old")], [_connection("new")])
    [step] = diff.after_deploy()
    assert "mlopsctl dispatch-token --stack prod" in step and "updating dispatch" in step
    assert diff.verdict() == ("needs care", "needs care: 0 replacement(s), 0 data store(s) touched, 0 deletion(s), 1 step(s) after the deploy")
    assert f"AFTER DEPLOY: {step}" in render_text(diff)
    assert "> [!IMPORTANT]" in render_markdown(diff) and diff.to_json()["afterDeploy"] == [step]


def test_a_new_connection_needs_its_token_and_an_unchanged_or_deleted_one_needs_nothing():
    [step] = _diff([], [_connection("new")]).after_deploy()
    assert "creating dispatch" in step
    # The token's own path is ignored: Pulumi sends nothing, so there is nothing to redo.
    assert _diff([_connection("same")], [_connection("same", token="Bearer other")]).after_deploy() == []
    assert _diff([_connection("gone")], []).after_deploy() == []
