"""Render the CLI reference (``docs/cli.md``) from the parsers' own ``--help`` texts (Datasette style).

``python -m sunshine.cli_reference > docs/cli.md`` regenerates it; a test fails when it is stale.
"""

from __future__ import annotations

import argparse
import os

from .cli import build_parser

HEADER = """# CLI reference

Generated from `sunshine --help` by `python -m sunshine.cli_reference > docs/cli.md`;
`tests/test_cli_reference.py` fails when this file is out of date.
"""


def _walk(parser: argparse.ArgumentParser, path: list[str]):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, [*path, name])


def render() -> str:
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"  # stable wrapping, whatever the terminal
    try:
        parts = [HEADER]
        for path, parser in _walk(build_parser(), ["sunshine"]):
            parts.append(f"\n## `{' '.join(path)}`\n\n```\n{parser.format_help().rstrip()}\n```\n")
        return "".join(parts)
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old


def iter_parsers():
    """Every (command path, parser) pair, the top level included."""
    return list(_walk(build_parser(), ["sunshine"]))


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
