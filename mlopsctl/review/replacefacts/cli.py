"""``python -m mlopsctl.review.replacefacts``: check the replace table against upstream, list the files it reads.

Exit codes: 0 the table equals what the files say; 1 it differs (the differences are printed);
2 bad input (one line naming the file or option, the key and what is allowed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mlopsctl.review.diff.replace_rules import REPLACE_TABLE_PATH
from mlopsctl.review.replacefacts.check import check_types, report
from mlopsctl.review.replacefacts.derivation import FilesDirectory, GitMirror, SourceError
from mlopsctl.review.replacefacts.sdk_inputs import InputTree, SdkError
from mlopsctl.review.replacefacts.table import TableError, display, load_table, upstream_sources

EXIT_EQUAL, EXIT_DIFFERENT, EXIT_BAD_INPUT = 0, 1, 2
PROG = "python -m mlopsctl.review.replacefacts"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as for every other bad input
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Check the replace table against the upstream files it was derived from.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    table_help = f"The replace table (default: {display(REPLACE_TABLE_PATH)})."

    check = commands.add_parser("check", help="Derive each AWS type's replace facts from its upstream files and compare.")
    where = check.add_mutually_exclusive_group(required=True)
    where.add_argument("--mirror", type=Path, metavar="GITDIR", help="A git mirror of hashicorp/terraform-provider-aws (with --commit).")
    where.add_argument("--files-dir", type=Path, metavar="DIR", help="A directory laid out like the repository (DIR/internal/service/...).")
    check.add_argument("--commit", help="The commit of the mirror to read (the one pulumi-aws's pinned version bridges).")
    check.add_argument("--table", type=Path, default=REPLACE_TABLE_PATH, help=table_help)
    check.add_argument("--only", nargs="+", metavar="TOKEN", help="Check only these type tokens.")
    check.set_defaults(handler=_check)

    files = commands.add_parser("list-files", help="Print, per type, the upstream repository and files its facts were read from.")
    files.add_argument("--table", type=Path, default=REPLACE_TABLE_PATH, help=table_help)
    files.set_defaults(handler=_list_files)
    return parser


def _check(args: argparse.Namespace) -> int:
    if args.mirror is not None and not args.commit:
        raise SourceError("--commit: missing; allowed: a commit of the mirror (git -C <pulumi-aws mirror> ls-tree <tag> upstream)")
    if args.files_dir is not None and args.commit:
        raise SourceError("--commit: only with --mirror; allowed: --files-dir DIR alone")
    table = load_table(args.table)
    sources = upstream_sources(table)
    if args.only:
        unknown = sorted(set(args.only) - {s.token for s in sources})
        if unknown:
            raise TableError(f"--only: {', '.join(unknown)} not in {display(args.table)}; allowed: a type token of the table")
        sources = [s for s in sources if s.token in args.only]
    reader = GitMirror(args.mirror, args.commit) if args.mirror is not None else FilesDirectory(args.files_dir)
    checks = check_types(table, sources, reader, InputTree())
    print("\n".join(report(checks, reader.label)))
    return EXIT_DIFFERENT if any(c.differences for c in checks) else EXIT_EQUAL


def _list_files(args: argparse.Namespace) -> int:
    for source in upstream_sources(load_table(args.table)):
        print(source.token, source.repository, " ".join(source.files), sep="\t")
    return EXIT_EQUAL


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (TableError, SourceError, SdkError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT

