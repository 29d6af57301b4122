"""Bad AWS arguments of bootstrap and verify are one line and exit 2, before any AWS call.

``--endpoint-url`` must be http(s)://host[:port]; ``--profile`` (or ``AWS_PROFILE``) must name a
profile of the AWS config files. Each case runs without credentials and with no profiles at all:
had the command reached AWS, it would have ended in a credentials error instead.
"""

from __future__ import annotations

import pytest

from mlopsctl.cli import main
from tests.support.aws_seed import without_credentials

BOOTSTRAP = ["bootstrap", "--environment", "dev", "--region", "us-east-1", "--name", "mlops"]
VERIFY = ["verify", "--stack", "dev", "--outputs", "/nonexistent/outputs.json"]  # outputs are read after the AWS arguments


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch, tmp_path):
    without_credentials(monkeypatch, tmp_path)


def run(args, capsys):
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own errors exit through _Parser.error
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", [BOOTSTRAP, VERIFY], ids=["bootstrap", "verify"])
@pytest.mark.parametrize("url", ["notaurl", "ftp://127.0.0.1:5000", "http://", "http://127.0.0.1:99999", "http://127.0.0.1:5000/?x=1",
                                 "127.0.0.1:5000"])
def test_an_endpoint_that_is_not_a_url_is_refused_while_parsing(capsys, command, url):
    code, out, err = run([*command, "--endpoint-url", url], capsys)
    assert (code, out) == (2, "")
    assert err == f"mlopsctl {command[0]}: error: argument --endpoint-url: {url!r} is not http(s)://host[:port]\n"


@pytest.mark.parametrize("url", ["http://127.0.0.1:5000", "https://s3.eu-west-1.amazonaws.com", "http://[::1]:4566/", "http://moto"])
def test_endpoints_that_are_urls_pass(capsys, url):
    code, _, err = run([*VERIFY, "--endpoint-url", url], capsys)
    assert (code, err) == (2, "error: --outputs /nonexistent/outputs.json: No such file or directory\n")  # got past the URL


@pytest.mark.parametrize("command", [BOOTSTRAP, VERIFY], ids=["bootstrap", "verify"])
def test_a_missing_profile_is_one_line(capsys, command):
    code, out, err = run([*command, "--profile", "nope"], capsys)
    assert (code, out, err) == (2, "", "error: --profile: The config profile (nope) could not be found\n")


@pytest.mark.parametrize("command", [BOOTSTRAP, VERIFY], ids=["bootstrap", "verify"])
def test_a_missing_aws_profile_variable_is_one_line(capsys, monkeypatch, command):
    monkeypatch.setenv("AWS_PROFILE", "nope")
    code, out, err = run(command, capsys)
    assert (code, out, err) == (2, "", "error: AWS_PROFILE: The config profile (nope) could not be found\n")


def test_an_existing_profile_is_used(capsys, monkeypatch, tmp_path):
    (tmp_path / "config").write_text("[profile ci]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    code, out, err = run([*BOOTSTRAP, "--profile", "ci"], capsys)
    # The profile exists but holds no credentials: the first AWS call says so, in one line.
    assert (code, out) == (2, "")
    assert err.startswith("error: no usable AWS credentials: Unable to locate credentials") and err.count("\n") == 1
