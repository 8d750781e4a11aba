"""The ``sunshine`` command line. Subcommands live in :mod:`sunshine.commands`.

Errors are printed as ``error: …`` with an optional ``hint: …`` line; exit codes are
documented in :mod:`sunshine.errors`.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from . import __version__
from . import commands as _commands
from .errors import EXIT_FAILED, SunshineError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sunshine",
        description="阳光抽查 Sunshine: verifiable 双随机、一公开 spot checks and their static public portal.",
    )
    parser.add_argument("--version", action="version", version=f"sunshine {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(_commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{_commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def print_error(err: SunshineError) -> None:
    print(f"error: {err.message}", file=sys.stderr)
    if err.hint:
        print(f"hint: {err.hint}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SunshineError as err:
        print_error(err)
        return err.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
