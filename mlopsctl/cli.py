"""Command-line entry point: ``python -m mlopsctl <command>``.

Exit codes: 0 clean; 1 a mandatory policy violation (or a failed check); 2 bad input, one line,
found before any slow work (an argument that cannot work is refused while parsing); 130 or 143
when stopped by Ctrl-C (SIGINT) or SIGTERM, after cleaning up (mlopsctl/interrupts.py).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from components.config import ConfigError
from mlopsctl import interrupts
from mlopsctl.offline.policycheck.config import PolicyPackError
from mlopsctl.offline.stackfile import STACKS_DIR, StackFileError
from mlopsctl.review.diff.run import DiffError

EXIT_OK, EXIT_VIOLATION, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every other bad input
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def writable_file(value: str) -> Path:
    """An output path (``--out``, ``--json-out``) whose directory exists and can be written, checked before the command runs."""
    path = Path(value)
    directory = path.parent
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{value}: is a directory")
    if not directory.is_dir():
        raise argparse.ArgumentTypeError(f"{value}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise argparse.ArgumentTypeError(f"{value}: not writable")
    return path


def _existing_directory(value: str) -> Path:
    path = Path(value)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{value}: not a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{value}: not writable")
    return path


def endpoint_url(value: str) -> str:
    from mlopsctl.ops import awsclients

    try:
        return awsclients.endpoint_url(value)
    except awsclients.AwsSetupError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--endpoint-url: ")) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mlopsctl", description="Offline tooling for the mlops-platform Pulumi program.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    preview = commands.add_parser("preview", help="Run a stack's program under the mock runtime and show what it registers.")
    preview.add_argument("--stack", required=True, help="Stack name: stacks/Pulumi.<stack>.yaml")
    preview.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    preview.add_argument("--unknowns", action="store_true", help="Model a first preview: computed outputs unknown.")
    preview.add_argument("--stacks-dir", type=Path, default=STACKS_DIR, help="Folder of Pulumi.<stack>.yaml files (default: stacks/).")
    preview.add_argument("--no-policy", action="store_true", help="Skip the policy pack (policies/, config policies/config/<environment>.json).")
    preview.set_defaults(handler=_preview)

    cost = commands.add_parser("cost", help="Price a stack: idle, expected and ceiling monthly cost, and its budget verdict.")
    cost.add_argument("--stack", required=True, help="Stack name: stacks/Pulumi.<stack>.yaml")
    cost.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    cost.add_argument("--stacks-dir", type=Path, default=STACKS_DIR, help="Folder of Pulumi.<stack>.yaml files (default: stacks/).")
    cost.set_defaults(handler=_cost)

    diff = commands.add_parser("diff", help="Compare a stack's offline preview at a git ref with the working tree.")
    diff.add_argument("--stack", required=True, help="Stack name: stacks/Pulumi.<stack>.yaml")
    diff.add_argument("--base", required=True, help="Git ref to compare against, e.g. origin/main or HEAD~1")
    diff.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                      help="markdown is a PR comment that fits GitHub's 65,536-character limit")
    diff.add_argument("--json-out", type=writable_file, metavar="PATH", help="Also write the full JSON document to PATH (one run for both).")
    diff.add_argument("--head-label", default="working tree", metavar="LABEL",
                      help="How the output names the head, e.g. the pull request's head commit SHA (default: working tree).")
    diff.add_argument("--out", type=writable_file, metavar="PATH",
                      help="Write the output to PATH instead of stdout. With --format markdown, a head that cannot be "
                           "previewed writes a one-line error comment there (exit 2), so a PR comment never goes stale.")
    diff.set_defaults(handler=_diff)

    _add_operations_commands(commands)
    return parser


def json_text(document: Any) -> str:
    """The one JSON rendering of every command's ``--format json`` and ``--json-out``: sorted keys."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def emit(fmt: str, *, document: Callable[[], Any], markdown: Callable[[], str], text: Callable[[], str], out: Path | None = None) -> None:
    """Print a result in the chosen format (json, markdown or text), or write it to ``out``."""
    renderers = {"json": lambda: json_text(document()), "markdown": markdown, "text": text}
    if out is None:
        print(renderers[fmt](), end="")
    else:
        out.write_text(renderers[fmt]())


def _diff(args: argparse.Namespace) -> int:
    from mlopsctl.review.diff.render import render_error_comment, render_markdown, render_text
    from mlopsctl.review.diff.run import run_diff

    try:
        result = run_diff(args.stack, args.base, args.head_label)
    except (ConfigError, StackFileError, PolicyPackError, DiffError) as exc:
        if args.out and args.format == "markdown":
            args.out.write_text(render_error_comment(args.stack, args.head_label, str(exc)))
        raise
    if args.json_out:
        args.json_out.write_text(json_text(result.to_json()))
    emit(args.format, document=result.to_json, markdown=lambda: render_markdown(result), text=lambda: render_text(result), out=args.out)
    for problem in result.blocking_problems():
        print(f"error: {problem}", file=sys.stderr)
    return EXIT_VIOLATION if result.head_mandatory_violations() or result.blocking_problems() else EXIT_OK


def _preview(args: argparse.Namespace) -> int:
    from mlopsctl.offline.preview import preview_stack, render_markdown, render_text

    result = preview_stack(args.stack, stacks_dir=args.stacks_dir, unknowns=args.unknowns, policy=not args.no_policy)
    emit(args.format, document=result.to_json, markdown=lambda: render_markdown(result), text=lambda: render_text(result))
    return EXIT_VIOLATION if result.mandatory_violations() else EXIT_OK


def _cost(args: argparse.Namespace) -> int:
    """Exit 1 when the ceiling is not within a budget whose policy is mandatory (as the pack would block)."""
    from mlopsctl.offline.cost_report import blocks, budget_config, render_markdown, render_text
    from mlopsctl.offline.preview import preview_stack

    result = preview_stack(args.stack, stacks_dir=args.stacks_dir)
    cost = result.cost
    emit(args.format, document=lambda: {"stack": result.stack, "cost": cost},
         markdown=lambda: render_markdown(cost, result.stack), text=lambda: render_text(cost, result.stack))
    return EXIT_VIOLATION if blocks(cost, budget_config(result.config.environment)[1]) else EXIT_OK


# ---------------------------------------------------------------------------------------------
# Operations with boto3: bootstrap an account, verify a deployed stack, set the dispatch token.


def _add_operations_commands(commands) -> None:
    bootstrap = commands.add_parser(
        "bootstrap", help="Create or confirm the state bucket, secrets key and GitHub CI roles of one environment's AWS account.")
    bootstrap.add_argument("--environment", required=True, metavar="dev|staging|prod",
                           help="The environment this account is for (one AWS account per environment).")
    bootstrap.add_argument("--region", required=True, help="AWS region of the state bucket and secrets key.")
    bootstrap.add_argument("--name", required=True, help="Name prefix (e.g. mlops): the stacks' namePrefix, same rule.")
    bootstrap.add_argument("--github-repo", metavar="ORG/REPO",
                           help="Also create GitHub OIDC trust and this environment's deploy and preview roles for this repository.")
    bootstrap.add_argument("--github-connection", action="store_true",
                           help="Also create (or find) the CodeConnections GitHub connection <name>-github of the CodeBuild runner.")
    bootstrap.add_argument("--image-pushers", action="store_true",
                           help="Also create the image push roles <name>-push-<env>-<pusher> of images.pushers in stacks/Pulumi.<env>.yaml "
                                "(needs --github-repo).")
    bootstrap.add_argument("--stacks-dir", type=Path, default=STACKS_DIR, help="Folder of Pulumi.<stack>.yaml files (default: stacks/).")
    _add_aws_arguments(bootstrap)
    bootstrap.add_argument("--fix", action="store_true", help="Correct reported differences (never deletes data).")
    bootstrap.add_argument("--format", choices=("text", "json"), default="text")
    bootstrap.set_defaults(handler=_bootstrap)

    verify = commands.add_parser("verify", help="Check a deployed stack's live resources against its config.")
    verify.add_argument("--stack", required=True, help="Stack name: stacks/Pulumi.<stack>.yaml")
    verify.add_argument("--outputs", metavar="FILE", help="`pulumi stack output --json` file; '-' or absent: stdin.")
    verify.add_argument("--before-deploy", action="store_true",
                        help="Before `pulumi up`: check only that every model package the stack deploys exists and is Approved (no outputs).")
    _add_aws_arguments(verify)
    verify.add_argument("--format", choices=("text", "json"), default="text")
    verify.add_argument("--stacks-dir", type=Path, default=STACKS_DIR, help="Folder of Pulumi.<stack>.yaml files (default: stacks/).")
    verify.set_defaults(handler=_verify)

    promote = commands.add_parser("promote", help="Point endpoints of a stack at other model package versions (only those values of the stack file).")
    promote.add_argument("--stack", required=True, help="Stack name: stacks/Pulumi.<stack>.yaml")
    promote.add_argument("--endpoint", help="The endpoint's name (serving.endpoints[].name); required with --model-package-arn, "
                                            "with --from-stack only this endpoint.")
    source = promote.add_mutually_exclusive_group(required=True)
    source.add_argument("--model-package-arn", metavar="ARN",
                        help="arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>, in the stack's region and "
                             "its account or its promotion.promotedFrom account.")
    source.add_argument("--from-stack", metavar="STACK",
                        help="Each endpoint both stacks declare gets this stack's model package (staging -> prod); the two stack files' "
                             "promotion.promotesTo and promotedFrom must agree.")
    promote.add_argument("--pr-dir", type=_existing_directory, metavar="DIR",
                         help="When the stack file changed, write the pull request's branch, title, body.md and path into DIR "
                              "(the promote workflow opens it); when it did not, leave none of them there.")
    promote.add_argument("--pr-event", metavar="TEXT", default="mlopsctl promote run by hand",
                         help="What asked for the promotion, quoted in the pull request body (with --pr-dir).")
    promote.add_argument("--stacks-dir", type=Path, default=STACKS_DIR, help="Folder of Pulumi.<stack>.yaml files (default: stacks/).")
    promote.set_defaults(handler=_promote)

    dispatch_token = commands.add_parser(
        "dispatch-token", help="Set the GitHub token of a stack's approval dispatch connection; the token is read from stdin only.")
    dispatch_token.add_argument("--stack", required=True, help="Stack name: stacks/Pulumi.<stack>.yaml (promotion.dispatch on).")
    _add_aws_arguments(dispatch_token)
    dispatch_token.add_argument("--stacks-dir", type=Path, default=STACKS_DIR, help="Folder of Pulumi.<stack>.yaml files (default: stacks/).")
    dispatch_token.set_defaults(handler=_dispatch_token)


def _add_aws_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--endpoint-url", type=endpoint_url, metavar="URL",
                         help="Send every AWS call to this endpoint, http(s)://host[:port] (e.g. moto_server).")
    command.add_argument("--profile", help="AWS profile of the config files (default: AWS_PROFILE, else the default chain).")


def _bootstrap(args: argparse.Namespace) -> int:
    from components import facts
    from mlopsctl.ops.awsclients import AWS_ERRORS, AwsClients, AwsSetupError, describe_aws_error
    from mlopsctl.ops.bootstrap.names import BootstrapInputError, validate_environment
    from mlopsctl.ops.bootstrap.report import render_text
    from mlopsctl.ops.bootstrap.run import Bootstrapper

    if args.region not in facts.known_regions():
        print(f"error: --region: {args.region!r} is not an AWS region known to botocore", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        stack = None
        if args.image_pushers:
            from mlopsctl.offline.preview import load_config
            from mlopsctl.offline.stackfile import load_stack_file

            # A bad stack file or config is bad input too (exit 2, in main).
            stack = load_config(load_stack_file(validate_environment(args.environment), args.stacks_dir))
        clients = AwsClients(args.region, args.endpoint_url, profile=args.profile)
        bootstrapper = Bootstrapper(clients, args.name, args.environment, args.github_repo, fix=args.fix,
                                    github_connection=args.github_connection, stack=stack)
    except (BootstrapInputError, AwsSetupError) as exc:  # arguments, profile, credentials: before any change
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except AWS_ERRORS as exc:
        print(f"error: cannot identify the AWS account: {describe_aws_error(exc)}", file=sys.stderr)
        return EXIT_VIOLATION
    report = bootstrapper.run()
    if args.format == "json":
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(render_text(report, args.fix), end="")
    return EXIT_VIOLATION if report.error or report.outstanding else EXIT_OK


def _promote(args: argparse.Namespace) -> int:
    from mlopsctl.offline.promote import PromoteError, promote, promote_from
    from mlopsctl.offline.promotion_pr import pull_request, write_pull_request

    if args.model_package_arn is not None and args.endpoint is None:
        print("error: --endpoint: required with --model-package-arn (which endpoint gets the package)", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.pr_dir is not None:
        write_pull_request(args.pr_dir, None)  # a refused run leaves no earlier run's pull request behind
    try:
        if args.from_stack is not None:
            result = promote_from(args.stack, args.from_stack, args.endpoint, args.stacks_dir)
        else:
            result = promote(args.stack, args.endpoint, args.model_package_arn, args.stacks_dir)
    except PromoteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for promotion in result.promotions:
        print(promotion.summary())
    if args.pr_dir is not None:
        write_pull_request(args.pr_dir, pull_request(result, args.pr_event))
    return EXIT_OK


def _dispatch_token(args: argparse.Namespace) -> int:
    """Bad input first (stack file, dispatch off, the token), then the account, the connection and the update."""
    from mlopsctl.offline.preview import load_config
    from mlopsctl.offline.stackfile import load_stack_file
    from mlopsctl.ops.awsclients import AWS_ERRORS, AwsClients, AwsSetupError, describe_aws_error
    from mlopsctl.ops.dispatch_token import HOURLY_NOTE, DispatchTokenFailed, TokenRefused, read_token, set_dispatch_token

    stack_file = load_stack_file(args.stack, args.stacks_dir)
    config = load_config(stack_file)
    if not config.promotion.dispatch:
        print(f"error: {stack_file.display_path}: promotion.dispatch is off, so the stack has no dispatch connection to hold a token",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        token = read_token(sys.stdin)
        clients = AwsClients(config.region, args.endpoint_url, profile=args.profile)
        result = set_dispatch_token(clients, config, stack_file.display_path, token)
    except (TokenRefused, AwsSetupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except DispatchTokenFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_VIOLATION
    except AWS_ERRORS as exc:  # sts:GetCallerIdentity failed for another reason than the credentials
        print(f"error: cannot identify the AWS account: {describe_aws_error(exc)}", file=sys.stderr)
        return EXIT_VIOLATION
    for line in result.lines():
        print(line)
    if token.expires_hourly:
        print(f"warning: {HOURLY_NOTE}", file=sys.stderr)
    problem = result.problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_VIOLATION
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    """Bad input first (stack file, profile, outputs, whose stack, whose credentials), then the checks."""
    from mlopsctl.offline.preview import load_config
    from mlopsctl.offline.stackfile import load_stack_file
    from mlopsctl.ops.awsclients import AWS_ERRORS, AwsClients, AwsSetupError, describe_aws_error
    from mlopsctl.ops.verify import OutputsError, Verifier, failed, read_outputs, render_text, to_json

    if args.before_deploy and (args.outputs is not None or args.format != "text"):
        print("error: --before-deploy: checks the stack file's model packages only; it takes no --outputs and prints text", file=sys.stderr)
        return EXIT_BAD_INPUT
    stack_file = load_stack_file(args.stack, args.stacks_dir)
    config = load_config(stack_file)
    if args.before_deploy:
        return _verify_before_deploy(config, stack_file.display_path, args)
    try:
        clients = AwsClients(config.region, args.endpoint_url, profile=args.profile)
        verifier = Verifier(config, read_outputs(args.outputs, sys.stdin), clients, stack_path=stack_file.display_path)
        try:
            verifier.preflight()
        except AWS_ERRORS as exc:
            print(f"error: cannot identify the AWS account: {describe_aws_error(exc)}", file=sys.stderr)
            return EXIT_VIOLATION
        results = verifier.run()  # stops at the first call refused for unusable credentials
    except (OutputsError, AwsSetupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.format == "json":
        print(json.dumps(to_json(args.stack, config, results), indent=2))
    else:
        print(render_text(args.stack, config, results), end="")
    return EXIT_VIOLATION if failed(results) else EXIT_OK


def _verify_before_deploy(config: Any, stack_path: str, args: argparse.Namespace) -> int:
    """Every model package the stack deploys is Approved: one line each; exit 1 when one is not."""
    from mlopsctl.ops.awsclients import AWS_ERRORS, AwsClients, AwsSetupError, check_account, describe_aws_error
    from mlopsctl.ops.verify.packages import check_packages

    try:
        clients = AwsClients(config.region, args.endpoint_url, profile=args.profile)
        check_account(clients, config, stack_path)
        statuses = check_packages(clients, config)
    except AwsSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except AWS_ERRORS as exc:
        print(f"error: cannot identify the AWS account: {describe_aws_error(exc)}", file=sys.stderr)
        return EXIT_VIOLATION
    for status in statuses:
        print(status.line())
    problems = sum(1 for s in statuses if s.problem)
    if not statuses:
        print(f"{stack_path}: no endpoint serves a model package; nothing to approve")
    elif problems:
        print(f"{problems} of {len(statuses)} model packages are not deployable; nothing was deployed")
    return EXIT_VIOLATION if problems else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["dispatch-token"]:
        from mlopsctl.ops.dispatch_token import ARGUMENT_REFUSED, token_in_arguments

        if token_in_arguments(argv[1:]):
            print(f"error: {ARGUMENT_REFUSED}", file=sys.stderr)
            return EXIT_BAD_INPUT
    args = build_parser().parse_args(argv)
    with interrupts.handled():
        try:
            return args.handler(args)
        except (ConfigError, StackFileError, PolicyPackError, DiffError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM, after every cleanup has run on the way out
            stopped = exc if isinstance(exc, interrupts.Interrupted) else interrupts.Interrupted(signal.SIGINT)
            print(f"error: interrupted by {stopped.signal_name}; stopped after cleaning up", file=sys.stderr)
            return stopped.exit_code
