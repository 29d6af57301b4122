"""The committed replace table against the installed SDKs and the pins, and the check command on synthetic upstream files."""

from __future__ import annotations

import copy
import datetime
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlopsctl.review.diff.replace_rules import EVERY_INPUT, REPLACE_TABLE_PATH
from mlopsctl.review.replacefacts.cli import main
from mlopsctl.review.replacefacts.sdk_inputs import InputTree, installed_version
from mlopsctl.review.replacefacts.table import KUBERNETES_REASON, load_table
from tests.support.stacks import ROOT

TABLE = json.loads(REPLACE_TABLE_PATH.read_text())
AWS_TYPES = sorted(t for t in TABLE["types"] if t.startswith("aws:"))
KUBERNETES_TYPES = sorted(t for t in TABLE["types"] if t.startswith("kubernetes:"))
PROVIDER_TYPES = sorted(t for t in TABLE["types"] if t.startswith("pulumi:providers:"))
NOT_DERIVED_KUBERNETES = f"not derived, read by hand (docs/replace-facts.md): 1 type ({KUBERNETES_REASON})"


@pytest.fixture(scope="module")
def sdk() -> InputTree:
    return InputTree()


def _pin(distribution: str) -> str:
    pins = dict(line.split("==") for line in (ROOT / "requirements.txt").read_text().splitlines() if "==" in line)
    return pins[distribution]


def _entry_paths(entry: dict) -> dict[str, list[str]]:
    paths = {
        "replacePaths": entry["replacePaths"],
        "except": entry.get("except", []),
        "conditional.paths": [p for rule in entry.get("conditional", []) for p in rule["paths"]],
        "unverifiedInputs": entry.get("unverifiedInputs", []),
        "replacedWithUpstream.input": [r["input"] for r in entry.get("replacedWithUpstream", [])],
    }
    return {field: [p for p in values if p != EVERY_INPUT] for field, values in paths.items()}


# ---------------------------------------------------------------------------------------------
# The committed table


@pytest.mark.parametrize("token", AWS_TYPES + KUBERNETES_TYPES + PROVIDER_TYPES)
def test_every_path_of_the_table_is_an_input_of_the_installed_sdk(sdk, token):
    inputs = sdk.paths(token)
    wrong = {field: sorted(set(paths) - inputs) for field, paths in _entry_paths(TABLE["types"][token]).items() if set(paths) - inputs}
    assert not wrong, f"{token}: not inputs of the installed SDK: {wrong}"


def test_every_kubernetes_type_is_replaced_when_its_name_changes(sdk):
    for token in KUBERNETES_TYPES:
        name = "name" if token.startswith("kubernetes:helm.sh/") else "metadata.name"
        assert name in sdk.paths(token) and name in TABLE["types"][token]["replacePaths"], token


def test_the_sdk_reader_sees_nested_and_cross_module_inputs(sdk):
    assert {"vpcConfig.subnetIds", "accessConfig.bootstrapClusterCreatorAdminPermissions", "region"} <= sdk.paths("aws:eks/cluster:Cluster")
    assert "metadata.namespace" in sdk.paths("kubernetes:core/v1:ServiceAccount")  # ObjectMeta lives in meta/v1
    assert "region" not in sdk.paths("aws:iam/role:Role")  # global: no region input
    assert "vpcConfig.notAnInput" not in sdk.paths("aws:eks/cluster:Cluster")
    assert {"defaultTags.tags", "ignoreTags.keyPrefixes", "region"} <= sdk.paths("pulumi:providers:aws")  # ProviderArgs


def test_the_sdk_reader_imports_nothing_of_the_sdk():
    code = ("import sys; from mlopsctl.review.replacefacts.sdk_inputs import InputTree; InputTree().paths('aws:ec2/vpc:Vpc'); "
            "print(sorted(m for m in sys.modules if m.startswith(('pulumi_aws', 'pulumi_kubernetes'))))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


@pytest.mark.parametrize(("provider", "source", "distribution"), [("aws", "pulumi-aws", "pulumi-aws"), ("kubernetes", "pulumi-kubernetes", "pulumi-kubernetes")])
def test_the_installed_sdk_is_the_pinned_one_the_table_was_derived_for(provider, source, distribution):
    assert installed_version(provider) == _pin(distribution) == TABLE["sources"][source]["version"]


def test_every_entry_names_its_upstream_file_and_the_version_read():
    assert datetime.date.fromisoformat(TABLE["asOf"])
    for token, entry in TABLE["types"].items():
        assert entry["source"]["file"].strip() and entry["source"]["read"], token
        assert entry["replacePaths"] or entry.get("unverifiedInputs"), f"{token}: says nothing replaces it, not even a may"
    assert load_table() == TABLE  # the loader's shape check accepts the committed table


# ---------------------------------------------------------------------------------------------
# The check command on a synthetic upstream directory and table (hand-written Go, real SDK types)

ALIAS_GO = '''
// @SDKResource("aws_kms_alias", name="Alias")
func resourceAlias() *schema.Resource {
	return &schema.Resource{
		UpdateWithoutTimeout: resourceAliasUpdate,
		Schema: map[string]*schema.Schema{
			names.AttrARN:        {Type: schema.TypeString, Computed: true},
			names.AttrName:       {Type: schema.TypeString, Optional: true, Computed: true, ForceNew: true},
			names.AttrNamePrefix: {Type: schema.TypeString, Optional: true, Computed: true, ForceNew: true},
			"target_key_id":      {Type: schema.TypeString, Required: true},
		},
	}
}
'''
ASSOCIATION_GO = '''
// @FrameworkResource("aws_eks_access_policy_association", name="Access Policy Association")
func (r *associationResource) Schema(ctx context.Context, request resource.SchemaRequest, response *resource.SchemaResponse) {
	response.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			names.AttrClusterName: schema.StringAttribute{Required: true, PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			names.AttrPolicyARN:   schema.StringAttribute{Required: true, PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"principal_arn":       schema.StringAttribute{Required: true, PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
		},
		Blocks: map[string]schema.Block{
			"access_scope": schema.ListNestedBlock{
				PlanModifiers: []planmodifier.List{listplanmodifier.RequiresReplace()},
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						names.AttrType: schema.StringAttribute{Required: true},
						"namespaces":   schema.SetAttribute{Optional: true, PlanModifiers: []planmodifier.Set{setplanmodifier.RequiresReplace()}},
					},
				},
			},
		},
	}
}
'''
ATTACHMENT_GO = '''
// @SDKResource("aws_iam_role_policy_attachment", name="Role Policy Attachment")
func resourceRolePolicyAttachment() *schema.Resource {
	return &schema.Resource{
		Schema: map[string]*schema.Schema{
			"policy_arn": {Type: schema.TypeString, Required: true, ForceNew: true},
			names.AttrRole: attachedRoleSchema(),
		},
	}
}
'''
ATTACHMENT_HELPER_GO = '''
func attachedRoleSchema() *schema.Schema {
	return &schema.Schema{Type: schema.TypeString, Required: true, ForceNew: true}
}
'''
FILES = {
    "internal/service/kms/alias.go": ALIAS_GO,
    "internal/service/eks/access_policy_association.go": ASSOCIATION_GO,
    "internal/service/iam/role_policy_attachment.go": ATTACHMENT_GO,
    "internal/service/iam/attached_role.go": ATTACHMENT_HELPER_GO,
}


def _synthetic_table() -> dict:
    def aws(tf_resource: str, file: str, paths: list[str], **source) -> dict:
        return {"replacePaths": paths, "source": {"tfResource": tf_resource, "file": file, **source, "read": {"commit": "synthetic"}}}

    return {
        "asOf": "2026-12-06",
        "sources": {"terraform-provider-aws": {"repository": "hashicorp/terraform-provider-aws"}},
        "types": {
            "aws:kms/alias:Alias": aws("aws_kms_alias", "internal/service/kms/alias.go", ["name", "namePrefix", "region"]),
            "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": aws(
                "aws_eks_access_policy_association", "internal/service/eks/access_policy_association.go",
                ["accessScope", "accessScope.namespaces", "clusterName", "policyArn", "principalArn", "region"]),
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment": aws(
                "aws_iam_role_policy_attachment", "internal/service/iam/role_policy_attachment.go", ["policyArn", "role"],
                alsoReads=["internal/service/iam/attached_role.go"]),
            "kubernetes:core/v1:Namespace": {"replacePaths": ["metadata.name"], "source": {"kind": "Namespace", "file": "provider/pkg/provider/diff.go",
                                                                                          "read": {"commit": "synthetic"}}},
        },
    }


@pytest.fixture
def upstream(tmp_path) -> Path:
    root = tmp_path / "upstream"
    for path, text in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def _write(tmp_path: Path, table: dict) -> Path:
    path = tmp_path / "table.json"
    path.write_text(json.dumps(table))
    return path


def _check(capsys, *args: str) -> tuple[int, list[str], str]:
    code = main(["check", *args])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def test_check_reproduces_the_synthetic_table(tmp_path, upstream, capsys):
    code, out, err = _check(capsys, "--files-dir", str(upstream), "--table", str(_write(tmp_path, _synthetic_table())))
    assert (code, err) == (0, "")
    assert out == [f"checked 3 types against {upstream}: 3 equal, 0 differ; {NOT_DERIVED_KUBERNETES}"]


def test_check_prints_each_difference_and_exits_1(tmp_path, upstream, capsys):
    table = _synthetic_table()
    alias = table["types"]["aws:kms/alias:Alias"]
    alias["replacePaths"] = ["name", "region", "targetKeyId"]
    alias["unverifiedInputs"] = ["targetKeyId"]
    (upstream / "internal/service/iam/attached_role.go").unlink()
    (upstream / "internal/service/eks/access_policy_association.go").write_text(ASSOCIATION_GO.replace(
        '"principal_arn":       schema.StringAttribute{Required: true, PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},',
        '"principal_arn": schema.StringAttribute{Required: true, PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIf(f, "", "")}},'))
    code, out, _ = _check(capsys, "--files-dir", str(upstream), "--table", str(_write(tmp_path, table)))
    assert code == 1
    assert out == [
        "aws:eks/accessPolicyAssociation:AccessPolicyAssociation  (internal/service/eks/access_policy_association.go; framework)",
        "  replacePaths only in the table: principalArn",  # upstream: only conditionally (RequiresReplaceIf)
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment  (internal/service/iam/role_policy_attachment.go, internal/service/iam/attached_role.go)",
        f"  not in {upstream}: internal/service/iam/attached_role.go",
        "aws:kms/alias:Alias  (internal/service/kms/alias.go; sdkv2)",
        "  replacePaths only upstream: namePrefix",
        "  replacePaths only in the table: targetKeyId",
        "  unverifiedInputs the files do have (read their rule, then drop them): targetKeyId",
        f"checked 3 types against {upstream}: 0 equal, 3 differ; {NOT_DERIVED_KUBERNETES}",
    ]


def test_a_conditional_rule_in_the_table_covers_the_hint(tmp_path, upstream, capsys):
    (upstream / "internal/service/kms/alias.go").write_text(ALIAS_GO.replace(
        "UpdateWithoutTimeout: resourceAliasUpdate,",
        'UpdateWithoutTimeout: resourceAliasUpdate,\n\t\tCustomizeDiff: customdiff.ForceNewIfChange("target_key_id", keyMovedAccount),'))
    table = _synthetic_table()
    args = ("--files-dir", str(upstream), "--only", "aws:kms/alias:Alias")
    code, out, _ = _check(capsys, *args, "--table", str(_write(tmp_path, table)))
    assert (code, out[1]) == (1, "  conditional replacement not in the table: customdiff.ForceNewIfChange(targetKeyId)")
    table["types"]["aws:kms/alias:Alias"]["conditional"] = [{"paths": ["targetKeyId"], "rule": "replaced when the key moves account"}]
    code, out, _ = _check(capsys, *args, "--table", str(_write(tmp_path, table)))
    assert (code, out) == (0, [f"checked 1 type against {upstream}: 1 equal, 0 differ"])


def test_check_reads_the_files_at_a_commit_of_a_git_mirror(tmp_path, upstream, capsys):
    git = ["git", "-C", str(upstream), "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "synthetic"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    (upstream / "internal/service/kms/alias.go").unlink()  # the working tree is not what is read
    table = str(_write(tmp_path, _synthetic_table()))
    code, out, _ = _check(capsys, "--mirror", str(upstream / ".git"), "--commit", commit[:12], "--table", table)
    assert (code, out[-1].split(":", 1)[0]) == (0, f"checked 3 types against {upstream / '.git'} at {commit}")


def _broken(table: dict, token: str, key: str, value) -> dict:
    broken = copy.deepcopy(table)
    entry = broken["types"][token]
    *parents, last = key.split(".")
    for parent in parents:
        entry = entry[parent]
    if value is None:
        del entry[last]
    else:
        entry[last] = value
    return broken


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: _broken(t, "aws:kms/alias:Alias", "source.file", None),
     'table.json: types["aws:kms/alias:Alias"].source.file: missing; allowed: the upstream file the facts were read from'),
    (lambda t: _broken(t, "aws:kms/alias:Alias", "source.read", {}),
     'table.json: types["aws:kms/alias:Alias"].source.read: missing or empty; allowed: an object with the commit and/or indexId read'),
    (lambda t: _broken(t, "aws:kms/alias:Alias", "replacePaths", "name"),
     'table.json: types["aws:kms/alias:Alias"].replacePaths: missing or not a list of paths; allowed: a list of input paths, or ["*"]'),
    (lambda t: {**t, "asOf": "December"}, "table.json: asOf: 'December' is not a date; allowed: YYYY-MM-DD"),
])
def test_a_malformed_table_is_one_line_and_exit_2(tmp_path, upstream, capsys, change, message):
    code, out, err = _check(capsys, "--files-dir", str(upstream), "--table", str(_write(tmp_path, change(_synthetic_table()))))
    assert (code, out) == (2, [])
    assert err == f"python -m mlopsctl.review.replacefacts: error: {tmp_path}/{message}\n"


def test_bad_options_are_one_line_and_exit_2(tmp_path, upstream, capsys):
    table = str(_write(tmp_path, _synthetic_table()))
    cases = {
        ("--files-dir", str(tmp_path / "absent"), "--table", table): "--files-dir: ",
        ("--mirror", str(upstream), "--table", table): "--commit: missing",
        ("--mirror", str(upstream), "--commit", "0" * 40, "--table", table): "--commit: ",
        ("--files-dir", str(upstream), "--only", "aws:no/such:Type", "--table", table): "--only: aws:no/such:Type not in ",
        ("--files-dir", str(upstream), "--table", str(tmp_path / "absent.json")): f"{tmp_path}/absent.json: no such file",
    }
    for args, start in cases.items():
        code, out, err = _check(capsys, *args)
        assert (code, out, err.count("\n")) == (2, [], 1), args
        assert err.startswith(f"python -m mlopsctl.review.replacefacts: error: {start}"), err


def test_the_module_runs_as_a_command_and_refuses_conflicting_sources_in_one_line(tmp_path):
    ran = subprocess.run([sys.executable, "-m", "mlopsctl.review.replacefacts", "check", "--mirror", "m", "--files-dir", "d"],
                         cwd=ROOT, capture_output=True, text=True)
    assert (ran.returncode, ran.stdout) == (2, "")
    assert ran.stderr.count("\n") == 1 and "not allowed with argument" in ran.stderr and "Traceback" not in ran.stderr


def test_list_files_prints_each_types_repository_and_files(tmp_path, capsys):
    assert main(["list-files", "--table", str(_write(tmp_path, _synthetic_table()))]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "aws:eks/accessPolicyAssociation:AccessPolicyAssociation\thashicorp/terraform-provider-aws\tinternal/service/eks/access_policy_association.go",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment\thashicorp/terraform-provider-aws\t"
        "internal/service/iam/role_policy_attachment.go internal/service/iam/attached_role.go",
        "aws:kms/alias:Alias\thashicorp/terraform-provider-aws\tinternal/service/kms/alias.go",
        "kubernetes:core/v1:Namespace\tpulumi-kubernetes\tprovider/pkg/provider/diff.go",
    ]


def test_list_files_of_the_committed_table_names_every_type_once(capsys):
    assert main(["list-files"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [r[0] for r in rows] == sorted(TABLE["types"])
    assert rows[[r[0] for r in rows].index("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")][2] == (
        "internal/service/ec2/vpc_default_security_group.go internal/service/ec2/vpc_security_group.go")


def test_the_docs_list_the_files_each_type_was_read_from(capsys):
    """docs/replace-facts.md's per-type table is list-files' output, so it cannot go stale."""
    doc = (ROOT / "docs" / "replace-facts.md").read_text()
    rows = [line for line in doc.split("## Files read per type", 1)[1].splitlines() if line.startswith("| `")]
    documented = [(cells[0].strip("` "), " ".join(f.strip("` ") for f in cells[2].split(", ")))
                  for cells in (row.strip("|").split(" | ") for row in rows)]
    assert main(["list-files"]) == 0
    listed = [(token, files) for token, _, files in (line.split("\t") for line in capsys.readouterr().out.splitlines())]
    assert documented == listed
