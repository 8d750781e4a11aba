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
from . import privacy
from .views import Page, _page_path, _pager, _paginate

ENTRIES_PER_PAGE = 200


def load(path: Path, ds: model.Dataset) -> dict | None:
    """The public ledger view, or ``None`` when there is no ledger directory."""
    if not path.exists():
        return None
    try:
        from .. import verify  # noqa: F401
        from ..ledger_store import Ledger  # noqa: F401
    except ImportError as exc:
        raise BuildError(
            f"{path} exists, but this installation has no ledger reader ({exc.name} is missing)",
            hint="install a version of sunshine with sunshine.ledger_store and sunshine.verify, "
            "or build from a data directory without ledger/",
        ) from None
    return _view(path, ds)


def _view(path: Path, ds: model.Dataset) -> dict:
    from .. import canonical, verify
    from ..entries import ENTRY_TYPES
    from ..errors import IntegrityError
    from ..ledger_store import DirectoryFiles, Ledger

    files = DirectoryFiles(path)
    listing = files.listing()
    rep = verify.verify_files(files, listing=listing)
    if not rep.integrity_ok:
        bad = [str(f) for f in rep.findings if f.kind == "integrity"]
        raise IntegrityError(
            f"{path}: the ledger fails verification, the portal is not built: " + "; ".join(bad[:5]),
            hint=f"run `sunshine verify {path}` for the full report; never publish a ledger that does not verify",
        )
    led = Ledger.open(path)
    entries = led.entries()
    tasks = {t.id: t for t in ds.tasks()}
    targets = ds.target_index()
    inspector_dept = {i.id: i.department for i in ds.inspectors}

    def target_pub(code: str) -> dict:
        t = targets.get(code)
        return privacy.public_target(t) if t else privacy.unknown_target(code)

    def blob_json(ref: str):
        try:
            return canonical.decode(led.get_blob(ref))
        except Exception:  # noqa: BLE001 - an unrevealed (no-notice) outcome is simply not shown
            return None

    rows = []
    draws: dict[str, dict] = {}
    for e in entries:
        b = e.body
        task_id = b.get("task") if isinstance(b.get("task"), str) else None
        url = ""
        summary = ""
        if e.type.startswith("draw.") and task_id:
            url = f"tasks/{task_id}/#draw" if task_id in tasks else ""
            summary = f"任务 {task_id}"
            d = draws.setdefault(task_id, {"locked": False, "selected": [], "strata": {}, "pool_size": "",
                                           "pool_root": "", "commit_seq": "", "commit_time": "",
                                           "commit_url": "", "randomness": "", "lock_seq": "", "lock_time": "",
                                           "lock_url": "", "entries": []})
            d["entries"].append(e.seq)
            if e.type == "draw.commit":
                d.update(pool_size=_dig(b, "pool", "size"), pool_root=_dig(b, "pool", "root"), commit_seq=e.seq,
                         commit_time=e.time, commit_url=_entry_url(e.seq, len(entries)), locked=False,
                         selected=[])
                d["strata"] = {s.get("id"): {"size": s.get("size"), "sample": s.get("sample"), "label": s.get("label")}
                               for s in (b.get("strata") if isinstance(b.get("strata"), list) else [])
                               if isinstance(s, dict)}
                if _dig(b, "randomness", "drand") is None:  # docs/spec/draw.md §3.5: no public beacon
                    n = len(_dig(b, "randomness", "contributions") or [])
                    d["randomness"] = f"未使用公共随机信标（drand）：由{n}个部门事先承诺的随机数贡献生成"
                else:
                    d["randomness"] = f"drand quicknet 第{_dig(b, 'randomness', 'drand', 'round') or '?'}轮（承诺时尚未产生）"
            elif e.type == "draw.randomness":
                if b.get("drand") is None:
                    d["randomness"] = f"未使用公共随机信标（drand）：各部门的随机数贡献已于账本第{e.seq}条公开"
                else:
                    d["randomness"] = (f"drand quicknet 第{_dig(b, 'drand', 'round') or '?'}轮，"
                                       f"信标原文已记入账本第{e.seq}条")
            elif e.type in ("draw.lock", "draw.list_reveal"):
                if e.type == "draw.lock":
                    d.update(locked=True, lock_seq=e.seq, lock_time=e.time, lock_url=_entry_url(e.seq, len(entries)))
                doc = blob_json(b["outcome"]) if isinstance(b.get("outcome"), str) else None
                if isinstance(doc, dict) and isinstance(doc.get("selected"), list):
                    teams = {t.get("target"): t for t in doc.get("teams", []) if isinstance(t, dict)}
                    sel = []
                    for code in doc["selected"]:
                        t = teams.get(code, {})
                        members = [{"id": i, "department": inspector_dept.get(i, ""), "leader": i == t.get("leader")}
                                   for i in (t.get("officers") or []) + (t.get("experts") or [])]
                        sel.append({"target": target_pub(code), "team": members})
                    d["selected"] = sel
                    d["ranks"] = _ranks(doc)
            elif e.type == "draw.void":
                d.update(locked=False, selected=[])
        elif e.type.startswith("result.") and task_id:
            code = b.get("target", "")
            url = target_pub(code)["url"] if code in targets else ""
            summary = f"任务 {task_id}，第{b.get('version', 1)}版"
        elif e.type.startswith("key."):
            summary = str(b.get("department", "") or b.get("name", ""))
        elif e.type == "plan.publish":
            summary = f"{b.get('year', '')}年度"
            url = f"plans/{b.get('year')}/" if any(p.year == b.get("year") for p in ds.plans) else ""
        rows.append({"seq": e.seq, "time": e.time, "type": e.type,
                     "type_label": ENTRY_TYPES[e.type].label if e.type in ENTRY_TYPES else e.type,
                     "signer": e.signer, "summary": summary, "url": url})
    by_target: dict[str, list[dict]] = {}
    for task_id, d in draws.items():
        task = tasks.get(task_id)
        ranks = d.get("ranks", {})
        for n, s in enumerate(d["selected"], 1):
            code = s["target"]["code"]
            r = ranks.get(code)
            text = f"被抽中（第{n}位），账本第{d['lock_seq']}条锁定"
            if r:  # a public stratum: its name, the rank, the ticket and the cut-off can be shown
                label = (d["strata"].get(r["stratum"]) or {}).get("label") or r["stratum"]
                text += (f"；分层“{label}”第{r['rank']}名（本层抽取{r['sample']}名），"
                         f"签值 {r['ticket']}，入选分界 {r['cutoff']}（签值不大于分界即入选）")
            by_target.setdefault(code, []).append(
                {"task_url": f"tasks/{task_id}/" if task else "", "task_name": task.name if task else task_id,
                 "text": text})
        verdict = rep.tasks.get(task_id)
        d["verified"] = verdict.get("state", "") if isinstance(verdict, dict) else ""
        d["verify_note"] = verdict.get("note", "") if isinstance(verdict, dict) else ""
    keys = []
    summary = rep.keys or led.keys_summary()
    for k in (summary.get("keys", []) if isinstance(summary, dict) else []):
        if isinstance(k, dict):
            keys.append({"holder": privacy.dept_label(ds, k.get("department", "")) if k.get("department") else "",
                         "name": k.get("name", ""), "role": k.get("role", ""),
                         "key": f"{k.get('alg', '')}:{k.get('public_key', '')}",
                         "status": k.get("status", ""),
                         "valid": f"{k.get('valid_from') or ''} 起" + (f"，至 {k['valid_until']}" if k.get("valid_until") else "")})
    published = {rel: files[rel] for rel in listing}
    head = {"origin": rep.origin or led.origin, "size": rep.size, "root": rep.root,
            "log_key": summary.get("log_key", "") if isinstance(summary, dict) else "",
            "checkpoint": led.checkpoint_bytes().decode("utf-8"), "keys": keys,
            "verdict": rep.verdict, "findings": [str(f) for f in rep.findings][:50],
            "downloads": [{"url": LOG_PREFIX + "checkpoint", "title": "最新检查点（checkpoint，C2SP signed note）"},
                          {"url": "ledger/keys.json", "title": "公钥及其历史（keys.json）"},
                          {"url": "ledger/report.json", "title": "本站生成时的验证报告（JSON）"},
                          {"url": "ledger/" + STANDALONE_VERIFIER.name,
                           "title": "独立验证程序（单个 Python 文件，只需 cryptography；用法见文件开头）"}]}
    extra = {"ledger/keys.json": (canonical.encode(summary) if isinstance(summary, dict) else b"{}"),
             "ledger/report.json": canonical.encode(rep.to_json()),
             "ledger/" + STANDALONE_VERIFIER.name: STANDALONE_VERIFIER.read_bytes()}
    return {"head": head, "entries": rows, "draws": draws, "by_target": by_target,
            "files": {LOG_PREFIX + rel: data for rel, data in published.items()} | extra}


LOG_PREFIX = "ledger/log/"
# The auditors' one-file verifier (docs/spec/ledger.md §15), published as a download beside the ledger.
STANDALONE_VERIFIER = Path(__file__).resolve().parent.parent / "standalone" / "sunshine_verify.py"


def _ranks(doc: dict) -> dict[str, dict]:
    """Rank, ticket and cut-off of each selected target of a *public* stratum (outcome document).

    Sealed strata (built on credit classes) list no members in the outcome: nothing is shown, so
    a page never reveals which stratum — hence which credit class — a target belongs to.
    """
    from .. import draw

    try:
        prk = bytes.fromhex(doc["seed"])
    except (KeyError, TypeError, ValueError):
        return {}
    out: dict[str, dict] = {}
    for s in doc.get("strata", []):
        if not isinstance(s, dict) or not isinstance(s.get("selected"), list) or not s.get("cutoff"):
            continue
        for n, code in enumerate(s["selected"], 1):
            out[code] = {"stratum": s.get("id", ""), "rank": n, "sample": s.get("sample", ""),
                         "ticket": draw.ticket(prk, s.get("id", ""), code).hex()[:16] + "…",
                         "cutoff": str(s["cutoff"])[:16] + "…"}
    return out


def _dig(obj, *keys):
    """``obj[k1][k2]…`` or ``""`` when a level is missing or not an object (bodies are checked by
    :mod:`sunshine.entries`; the portal only displays them)."""
    for k in keys:
        if not isinstance(obj, dict) or k not in obj:
            return ""
        obj = obj[k]
    return obj


def _entry_url(seq: int, total: int) -> str:
    """The entries page holding *seq* (newest first, ENTRIES_PER_PAGE a page) with its anchor."""
    n = (total - 1 - seq) // ENTRIES_PER_PAGE + 1
    return ("ledger/entries/" if n == 1 else f"ledger/entries/{n}/") + f"#e{seq}"


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
