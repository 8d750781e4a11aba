"""``sunshine build``: build the public portal from a data directory, atomically.

The site is built by Pelican (:mod:`sunshine.portal` is the plugin that writes the record pages)
into a fresh sibling directory ``<output>.new-XXXX``; only when the whole build succeeded is it
swapped into place (``output`` → ``output.old-XXXX``, ``output.new-XXXX`` → ``output``, then
the old tree is deleted). A failed build leaves the previous ``output/`` untouched. When only data
changed, the build is incremental instead (:mod:`sunshine.portal.build`: changed pages only, moved
into place under a journal).
"""

from __future__ import annotations

import argparse
from pathlib import Path

# The repository root (generator/sunshine/commands/build.py → ../../..): default theme and content.
REPO_ROOT = Path(__file__).resolve().parents[3]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "build",
        help="build the public portal (static HTML) from a data directory, atomically",
        description=(
            "Build the public portal from DATA into OUTPUT with Pelican and the sunshine.portal plugin. "
            "A full build (the first one, --full, or after a change of code, theme, content or settings) "
            "is built in a sibling temporary directory and swapped into place only when it succeeded; when "
            "only data changed, only the changed pages are rendered (into OUTPUT.cache/) and moved into "
            "OUTPUT under a journal that the next build completes after a crash. Either way a failed build "
            "leaves the previous OUTPUT untouched. Guide: docs/deploy.md."
        ),
    )
    p.add_argument("--data", required=True, type=Path, help="the data directory (see docs/data-format.md)")
    p.add_argument("--output", required=True, type=Path, help="where the site goes (replaced atomically)")
    p.add_argument(
        "--settings",
        type=Path,
        default=None,
        help="a Pelican settings file (default: pelicanconf.py in the current directory, else the "
        "repository's); use publishconf.py for the published site",
    )
    p.add_argument(
        "--content",
        type=Path,
        default=None,
        help="the editorial Markdown pages (default: the settings' PATH, else content/ at the repository root)",
    )
    p.add_argument(
        "--theme",
        type=Path,
        default=None,
        help="the theme directory (default: the settings' THEME, else theme/ at the repository root)",
    )
    p.add_argument(
        "--no-search",
        action="store_true",
        help="skip the Pagefind search index (loud warning); without it the build fails when Pagefind "
        "cannot run",
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="a full build: render every page again into a fresh tree swapped into place, and re-index "
        "search (by default, when only data changed, only changed pages are rendered and moved into "
        "OUTPUT, and the search index is kept)",
    )
    p.add_argument("--quiet", action="store_true", help="print only errors and the final summary line")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..portal.build import build_site

    stats = build_site(
        data=args.data,
        output=args.output,
        settings_file=args.settings,
        content=args.content,
        theme=args.theme,
        search=not args.no_search,
        incremental=not args.full,
        quiet=args.quiet,
    )
    print(stats.summary())
    return 0
