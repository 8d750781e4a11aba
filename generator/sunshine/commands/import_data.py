"""``sunshine import``: merge an .xlsx/.csv export with Chinese headers into a data directory."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "import",
        help="import targets, inspectors or results from an .xlsx/.csv export with Chinese headers (dry run first)",
        description=(
            "Read an .xlsx or .csv export (Chinese column headers such as 统一社会信用代码, 企业名称, 登记状态; "
            "see docs/import.md), check every row, and merge it into the data directory. Without --apply "
            "nothing is written: the command prints how many records would be added, updated (with the "
            "changed fields) or left unchanged, and how many are not in the export. Nothing is written when "
            "any row is invalid; every invalid row is reported with its file, row and column."
        ),
    )
    p.add_argument(
        "kind",
        choices=("targets", "inspectors", "results"),
        help="what the export holds: targets (检查对象名录), inspectors (执法检查人员名录) or results (检查结果)",
    )
    p.add_argument("file", metavar="FILE", help="the export: .xlsx (first sheet unless --sheet) or .csv (UTF-8)")
    p.add_argument("--data", default="data", metavar="DIR", help="data directory to merge into (default: data)")
    p.add_argument("--apply", action="store_true", help="write the merged files (atomically); default: dry run")
    p.add_argument("--sheet", metavar="NAME", help="worksheet of an .xlsx workbook (default: the first)")
    p.add_argument(
        "--encoding",
        metavar="ENC",
        help="text encoding of a .csv export that is not UTF-8, e.g. gb18030 (default: UTF-8, with or without BOM)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import importing
    from ..errors import SunshineError

    try:
        plan = importing.plan_import(args.kind, args.file, args.data, sheet=args.sheet, encoding=args.encoding)
    except OSError as exc:
        raise SunshineError(f"{exc.filename or args.file}: cannot read it: {exc.strerror or exc}") from None
    print(plan.report())
    if not plan.changes:
        print("nothing to change")
        return 0
    if not args.apply:
        files = ", ".join(sorted(plan.files))
        print(f"dry run: nothing written; run again with --apply to write {files}")
        return 0
    try:
        written = importing.apply_import(plan, args.data)
    except OSError as exc:
        raise SunshineError(
            f"{exc.filename or args.data}: cannot write: {exc.strerror or exc}; nothing was changed",
        ) from None
    print(f"wrote {', '.join(f'{args.data}/{w}' for w in written)}")
    return 0
