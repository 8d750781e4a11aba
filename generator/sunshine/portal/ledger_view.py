"""The 账本 (ledger) pages, and the draw facts the task and enterprise pages show.

When ``data/ledger/`` does not exist the portal says so ("尚未建立账本") and shows no draw
facts. When it exists it is opened with :class:`sunshine.ledger_store.Ledger` and must pass
:mod:`sunshine.verify` first: a ledger that fails verification stops the build with the
verifier's message (the portal never publishes pages from a ledger it could not verify).
"""

from __future__ import annotations

from pathlib import Path

from .. import model
from ..errors import BuildError
from .views import Page, _page_path, _pager, _paginate

ENTRIES_PER_PAGE = 200


def load(path: Path, ds: model.Dataset) -> dict | None:
    """The public ledger view, or ``None`` when there is no ledger directory."""
    if not path.exists():
        return None
    try:
        from ..ledger_store import Ledger  # noqa: F401
        from .. import verify  # noqa: F401
    except ImportError as exc:
        raise BuildError(
            f"{path} exists, but this installation has no ledger reader ({exc.name} is missing)",
            hint="install a version of sunshine with sunshine.ledger_store and sunshine.verify, "
            "or build from a data directory without ledger/",
        ) from None
    return _view(path, ds)


def _view(path: Path, ds: model.Dataset) -> dict:  # pragma: no cover - wired when the ledger lands
    raise BuildError(f"{path}: reading the ledger is not wired into the portal yet")


def pages(ledger: dict | None, ds: model.Dataset) -> list[Page]:
    if ledger is None:
        return [Page(path="ledger/index.html", template="ledger.html", ctx={"ledger": None},
                     title="抽查账本", section="ledger")]
    entries = ledger["entries"]
    chunks = _paginate(entries[::-1], ENTRIES_PER_PAGE)
    out = [Page(path="ledger/index.html", template="ledger.html", ctx={"ledger": ledger["head"]},
                title="抽查账本", section="ledger")]
    base = "ledger/entries/"
    for n, chunk in enumerate(chunks, 1):
        out.append(Page(path=_page_path(base, n), template="ledger_entries.html",
                        ctx={"entries": chunk, "pager": _pager(base, n, len(chunks)), "count": len(entries)},
                        title="账本条目" + (f"（第{n}页）" if n > 1 else ""), section="ledger"))
    return out
