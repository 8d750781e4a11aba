"""The CLI is documented: docs/cli.md is generated from --help and every option has help text."""

import argparse
from pathlib import Path

from sunshine import cli_reference

DOC = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def test_cli_reference_is_up_to_date():
    assert DOC.read_text(encoding="utf-8") == cli_reference.render(), (
        "docs/cli.md is stale: run `.venv/bin/python -m sunshine.cli_reference > docs/cli.md`"
    )


def test_every_command_and_option_has_help_text():
    missing = []
    for path, parser in cli_reference.iter_parsers():
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
                continue
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    if not choice.help:
                        missing.append(f"{' '.join(path)} {choice.dest}")
                continue
            if not action.help:
                missing.append(f"{' '.join(path)} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []
