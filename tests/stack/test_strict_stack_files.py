"""Stack files are read as strictly as the Pulumi CLI reads them: each refusal is one line per
problem naming the file as given, the key path (or line) and what is allowed, exit 2, no traceback,
and it comes before any program runs (``Refusal`` replaces the harness with a tripwire)."""

from __future__ import annotations

import runpy

import pulumi
import pytest

from mlopsctl.offline.harness import ProgramError, run_program
from tests.support.cli import mlopsctl
from tests.support.stackfiles import Refusal, edited, line_of, real_stack_text
from tests.support.stacks import ROOT

DEV = real_stack_text("dev")
DEV_INCLUSTER = real_stack_text("dev", "incluster/stacks")
CI_SECTION = "    # The in-VPC GitHub Actions runner"


@pytest.fixture
def refusal(tmp_path, monkeypatch, capsys) -> Refusal:
    return Refusal(tmp_path, monkeypatch, capsys)


# ---------------------------------------------------------------------------------------------
# Duplicate keys, encodings, YAML syntax


DUPLICATES = [
    # (case, edit of the dev stack file: old, new; the repeated key's path; the needle of its lines)
    ("top-level", ("config:\n", "config:\n  aws:region: us-east-1\nconfig:\n"), "config", "config:"),
    ("config key", ("  aws:region: us-east-1\n", "  aws:region: us-east-1\n  aws:region: us-west-2\n"), "aws:region", "aws:region"),
    ("platform key", ("    costCenter: cc-ml-dev\n", "    costCenter: cc-ml-dev\n    owner: someone-else\n"), "mlops-platform:platform.owner", "owner:"),
    ("list item key", ("          maxSize: 2\n", "          maxSize: 2\n          maxSize: 20\n"), "mlops-platform:platform.eks.gpuNodeGroups[0].maxSize", "  maxSize: 2"),
]


@pytest.mark.parametrize("case", DUPLICATES, ids=[c[0] for c in DUPLICATES])
def test_a_duplicate_key_at_any_depth_is_refused(refusal, case):
    _, (old, new), key_path, needle = case
    text = edited(DEV, old, new)
    refusal.write(text)
    first, again = line_of(text, needle, 1), line_of(text, needle, 2)
    assert refusal.lines() == [
        f"stacks/Pulumi.dev.yaml: {key_path}: duplicate key (line {again}; first at line {first}); each key may appear once (the Pulumi CLI refuses duplicates)"
    ]


def test_a_key_with_and_without_its_namespace_is_the_same_key_twice(refusal):
    refusal.write(edited(DEV, "  mlops-platform:platform:\n", "  platform: {}\n  mlops-platform:platform:\n"))
    assert refusal.lines() == [
        "stacks/Pulumi.dev.yaml: mlops-platform:platform: set twice, as platform and as mlops-platform:platform "
        "(a key without a namespace is the project's)"
    ]


def test_a_merge_key_may_be_overridden_and_is_no_duplicate():
    from mlopsctl.offline.stackfile import parse_stack_text

    text = "config:\n  aws:region: us-east-1\n  mlops-platform:platform:\n    <<: {owner: a}\n    owner: b\n"
    stack_file = parse_stack_text("dev", ROOT / "stacks" / "Pulumi.dev.yaml", text)
    assert stack_file.config["mlops-platform:platform"]["owner"] == "b"


def test_a_file_that_is_not_utf8_is_refused_with_its_line(refusal):
    refusal.write(edited(DEV, "owner: ml-platform", "owner: ml-pl\u00e4tform").encode("latin-1"))
    line = line_of(DEV, "owner: ml-platform")
    assert refusal.lines() == [
        f"stacks/Pulumi.dev.yaml: line {line}, column 17: not UTF-8 (byte 0xe4); stack files are UTF-8, as the Pulumi CLI reads them"
    ]


YAML_ERRORS = [
    ("unclosed flow sequence", ("        - 203.0.113.0/24\n", "        - [203.0.113.0/24\n"),
     "line {next}, column 20: not valid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence at line {line})", "- [203.0.113.0/24"),
    ("tab indentation", ("    owner: ml-platform\n", "\towner: ml-platform\n"),
     "line {line}, column 1: not valid YAML: found character '\\t' that cannot start any token", "owner: ml-platform"),
    ("control character", ("owner: ml-platform", "owner: ml-\x07platform"),
     "line {line}: not valid YAML: character #x0007: special characters are not allowed", "owner: ml-"),
]


@pytest.mark.parametrize("case", YAML_ERRORS, ids=[c[0] for c in YAML_ERRORS])
def test_yaml_errors_give_the_reason_the_line_and_the_path_as_given(refusal, case):
    _, (old, new), expected, needle = case
    text = edited(DEV, old, new)
    refusal.write(text)
    line = line_of(text, needle)
    assert refusal.lines() == [f"stacks/Pulumi.dev.yaml: {expected.format(line=line, next=line + 1)}"]


# ---------------------------------------------------------------------------------------------
# Keys nobody reads: a misspelt config, the project's namespace, both layers


def test_a_misspelt_config_is_named_as_such(refusal):
    refusal.write(edited(DEV, "\nconfig:\n", "\nconfg:\n"))
    assert refusal.lines() == [
        "stacks/Pulumi.dev.yaml: confg: not a stack-file key: did you mean config? (a stack file's keys are config, environment, "
        "secretsprovider, encryptedkey, encryptionsalt; without config the stack has no settings)"
    ]


def test_a_misspelt_config_of_layer_2_is_named_as_such(refusal):
    refusal.write(DEV)
    refusal.incluster(edited(DEV_INCLUSTER, "\nconfig:\n", "\nconifg:\n"))
    assert refusal.lines() == [
        f"{refusal.root}/incluster/Pulumi.dev.yaml: conifg: not a stack-file key: did you mean config? (a stack file's keys are config, "
        "environment, secretsprovider, encryptedkey, encryptionsalt; without config the stack has no settings)"
    ]


def test_keys_of_the_project_namespace_that_the_program_does_not_read_are_refused(refusal):
    extra = "  mlops-platform:extra: 1\n  network:\n    azCount: 2\n  mlops-platform:region: us-west-2\n"
    refusal.write(DEV + extra)
    assert refusal.lines() == [
        "stacks/Pulumi.dev.yaml: mlops-platform:extra: unknown key; mlops-platform reads only mlops-platform:platform",
        "stacks/Pulumi.dev.yaml: mlops-platform:network: unknown key; mlops-platform reads only mlops-platform:platform "
        "(network is a key of mlops-platform:platform: indent it under platform)",
        "stacks/Pulumi.dev.yaml: mlops-platform:region: unknown key; mlops-platform reads only mlops-platform:platform (set the region with aws:region)",
    ]


def test_keys_of_layer_2s_namespace_that_its_program_does_not_read_are_refused(refusal):
    refusal.write(DEV)
    refusal.incluster(DEV_INCLUSTER + "  mlops-platform-incluster:gpuQuota: 4\n")
    assert refusal.lines() == [
        f"{refusal.root}/incluster/Pulumi.dev.yaml: mlops-platform-incluster:gpuQuota: unknown key; mlops-platform-incluster reads only "
        "mlops-platform-incluster:platformStack (configure the environment in stacks/Pulumi.dev.yaml)"
    ]


def test_other_namespaces_are_not_the_projects_to_police():
    from mlopsctl.offline.stackfile import parse_stack_text

    stack_file = parse_stack_text("dev", ROOT / "stacks" / "Pulumi.dev.yaml", DEV + "  kubernetes:context: dev\n")
    assert stack_file.config["kubernetes:context"] == "dev"


def test_an_unquoted_date_elsewhere_reaches_the_program_as_its_text():
    from mlopsctl.offline.stackfile import parse_stack_text

    stack_file = parse_stack_text("dev", ROOT / "stacks" / "Pulumi.dev.yaml", DEV + "  other:since: 2026-01-31\n  other:dates: [2026-02-01]\n")
    assert stack_file.runtime_config()["other:since"] == "2026-01-31"
    assert stack_file.runtime_config()["other:dates"] == '["2026-02-01"]'


def test_a_stack_file_declaring_another_environment_is_refused(refusal):
    refusal.write(edited(DEV, "environment: dev", "environment: staging"))
    assert refusal.lines() == [
        "stacks/Pulumi.dev.yaml: mlops-platform:platform.environment: 'staging' in the stack file of stack 'dev'; a stack deploys the environment "
        "it is named after: set environment: dev, or configure staging in stacks/Pulumi.staging.yaml"
    ]


# ---------------------------------------------------------------------------------------------
# --stacks-dir: the folder actually searched


def test_a_stacks_dir_that_does_not_exist_is_named(refusal):
    assert refusal.lines("--stacks-dir", "no-such-folder") == ["no-such-folder: no such directory; looked there for the stack file Pulumi.dev.yaml"]


def test_a_stacks_dir_that_is_a_file_is_named(refusal):
    (refusal.root / "a-file").write_text("")
    assert refusal.lines("--stacks-dir", "a-file") == ["a-file: not a directory; looked there for the stack file Pulumi.dev.yaml"]


def test_a_missing_stack_names_the_stacks_dir_as_given(refusal):
    refusal.write(DEV)
    assert refusal.lines(stack="qa") == ["stacks/Pulumi.qa.yaml: no such stack 'qa' in stacks; available stacks: dev"]


def test_the_default_stacks_dir_seen_from_another_folder_is_named_absolute(tmp_path, monkeypatch, capsys):
    from mlopsctl import cli

    monkeypatch.chdir(tmp_path)
    assert cli.main(["preview", "--stack", "qa"]) == 2
    assert capsys.readouterr().err == (
        f"error: {ROOT}/stacks/Pulumi.qa.yaml: no such stack 'qa' in {ROOT}/stacks; available stacks: dev, prod, staging\n"
    )


def test_a_refusal_is_one_line_and_exit_2_from_a_fresh_process(tmp_path):
    """The same contract as the in-process cases, as a user's shell sees it."""
    (tmp_path / "Pulumi.dev.yaml").write_text(edited(DEV, "    costCenter: cc-ml-dev\n", "    costCenter: cc-ml-dev\n    costCenter: again\n"))
    result = mlopsctl("preview", "--stack", "dev", "--stacks-dir", str(tmp_path))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: {tmp_path}/Pulumi.dev.yaml: mlops-platform:platform.costCenter: duplicate key (line 13; first at line 12); "
        "each key may appear once (the Pulumi CLI refuses duplicates)\n"
    )


# ---------------------------------------------------------------------------------------------
# pulumi up: the projects' own entry points under the SDK's mock runtime


def _run_entry_point(path, *, stack: str, project: str, config: dict[str, str]) -> ProgramError:
    """``path`` (a Pulumi.yaml project's __main__.py) as ``pulumi up`` runs it: the whole file, with the stack's config."""
    with pytest.raises(ProgramError) as caught:
        run_program(lambda: runpy.run_path(str(path), run_name="__main__"), stack=stack, project=project, config=config)
    return caught.value


def _assert_alone(error: ProgramError, message: str) -> None:
    """A RunError (the CLI prints its message alone, no traceback), with no chained cause, before any resource."""
    assert isinstance(error.cause, pulumi.RunError)
    assert str(error.cause) == message
    assert error.cause.__cause__ is None and error.cause.__suppress_context__
    assert error.recording.resources == []


def test_pulumi_up_of_layer_1_refuses_unread_keys_and_another_environment_alone():
    from mlopsctl.offline.stackfile import parse_stack_text

    config = parse_stack_text("dev", ROOT / "stacks" / "Pulumi.dev.yaml", DEV).runtime_config()
    platform = config["mlops-platform:platform"].replace('"environment": "dev"', '"environment": "staging"')
    error = _run_entry_point(ROOT / "__main__.py", stack="dev", project="mlops-platform",
                             config={**config, "mlops-platform:platform": platform, "mlops-platform:extra": "1"})
    _assert_alone(error, "\n".join([
        "stacks/Pulumi.dev.yaml: mlops-platform:extra: unknown key; mlops-platform reads only mlops-platform:platform",
        "stacks/Pulumi.dev.yaml: mlops-platform:platform.environment: 'staging' in the stack file of stack 'dev'; a stack deploys the environment "
        "it is named after: set environment: dev, or configure staging in stacks/Pulumi.staging.yaml",
    ]))


def test_pulumi_up_of_layer_1_reads_the_keys_the_cli_passes_in_its_environment(monkeypatch):
    """The language host hands the program its config as PULUMI_CONFIG; unread keys there are refused too."""
    from mlopsctl.offline.stackfile import parse_stack_text

    config = parse_stack_text("dev", ROOT / "stacks" / "Pulumi.dev.yaml", DEV).runtime_config()
    monkeypatch.setenv("PULUMI_CONFIG", '{"mlops-platform:eks": "{}"}')
    error = _run_entry_point(ROOT / "__main__.py", stack="dev", project="mlops-platform", config=config)
    _assert_alone(error, "stacks/Pulumi.dev.yaml: mlops-platform:eks: unknown key; mlops-platform reads only mlops-platform:platform "
                         "(eks is a key of mlops-platform:platform: indent it under platform)")


def test_pulumi_up_of_layer_1_shows_every_value_error_alone():
    from mlopsctl.offline.stackfile import parse_stack_text

    config = parse_stack_text("dev", ROOT / "stacks" / "Pulumi.dev.yaml", DEV).runtime_config()
    platform = config["mlops-platform:platform"].replace('"version": "1.35"', '"version": 1.3').replace('"owner": "ml-platform"', '"owner": "aws:ml"')
    error = _run_entry_point(ROOT / "__main__.py", stack="dev", project="mlops-platform", config={**config, "mlops-platform:platform": platform})
    _assert_alone(error, (
        'stacks/Pulumi.dev.yaml: mlops-platform:platform.eks.version: must be a string, got the number 1.3; quote it in the stack file, '
        'e.g. "1.30" (YAML reads an unquoted 1.30 as the number 1.3)'
    ))


def test_pulumi_up_of_layer_2_refuses_unread_keys_alone():
    error = _run_entry_point(ROOT / "incluster" / "__main__.py", stack="dev", project="mlops-platform-incluster",
                             config={"mlops-platform-incluster:platformStack": "organization/mlops-platform/dev", "mlops-platform-incluster:extra": "x"})
    _assert_alone(error, "incluster/stacks/Pulumi.dev.yaml: mlops-platform-incluster:extra: unknown key; mlops-platform-incluster reads only "
                         "mlops-platform-incluster:platformStack (configure the environment in stacks/Pulumi.dev.yaml)")
