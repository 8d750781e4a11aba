"""Privacy of the built portal: only allow-listed fields, never personal data (淄博 第二十一条).

Scans every file the build wrote (HTML, XML, CSV, JSON, text) for 18-digit ID-card numbers
(GB 11643 pattern), mainland mobile numbers, the inspectors' names and certificate numbers from
the directory, and credit-class labels on enterprise pages and in the enterprise downloads; and
checks that content/pages/privacy.md states exactly the allow-list the code applies.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from portal_site import ID_CARD, MOBILE, sample_site
from sunshine.portal import privacy
from sunshine.vocabulary import CreditClass

REPO = Path(__file__).resolve().parent.parent
TEXT_SUFFIXES = {".html", ".xml", ".csv", ".json", ".txt", ".js", ".css"}


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    return sample_site(tmp_path_factory)


def published_files(site: Path):
    for p in sorted(site.rglob("*")):
        rel = p.relative_to(site)
        if not p.is_file() or p.suffix not in TEXT_SUFFIXES:
            continue
        if rel.parts[0] == "pagefind" or rel.parts[:2] == ("theme", "js"):
            continue  # the search index (compressed fragments of the pages scanned here) and vendored code
        yield rel, p.read_text(encoding="utf-8-sig")


def test_patterns_catch_what_they_should():
    assert ID_CARD.search("身份证 110105199003071234 号")
    assert ID_CARD.search("11010519900307123X")
    assert not ID_CARD.search("91379904MAQYRPNP11")  # a USCC is not an ID-card number
    assert MOBILE.search("电话 13812345678")
    assert not MOBILE.search("0000-00000000")


def test_no_id_card_or_mobile_numbers_anywhere(built):
    _, site = built
    hits = []
    for rel, text in published_files(site):
        for rx in (ID_CARD, MOBILE):
            hits += [(str(rel), m.group()) for m in rx.finditer(text)]
    assert hits == []


def test_no_inspector_names_or_certificate_numbers(built):
    data, site = built
    inspectors = list(csv.DictReader((data / "inspectors.csv").open(encoding="utf-8-sig")))
    assert inspectors
    names = {r["name"] for r in inspectors if len(r["name"]) >= 2}
    certs = {r["certificate_no"] for r in inspectors if r["certificate_no"]}
    hits = []
    for rel, text in published_files(site):
        hits += [(str(rel), n) for n in names if n in text]
        hits += [(str(rel), c) for c in certs if c in text]
    assert hits == []


def test_no_credit_class_next_to_enterprises(built):
    data, site = built
    classes = {r["code"]: r["credit_class"] for r in
               csv.DictReader((data / "targets.csv").open(encoding="utf-8-sig"))}
    labels = [c.label for c in CreditClass] + [f"{c.value}类" for c in CreditClass]
    pages = list((site / "enterprises").glob("*/index.html"))
    assert pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for label in labels:
            assert label not in text, (page, label)
        assert "credit" not in text.lower()
    for name in ("enterprises", "results"):
        raw = (site / "data" / f"{name}.csv").read_text(encoding="utf-8-sig")
        header = raw.splitlines()[0]
        assert "credit" not in header
        for row in csv.DictReader(raw.splitlines()):
            assert classes.get(row.get("code") or row.get("target")) not in row.values() or not classes.get(
                row.get("code") or row.get("target"))
        rows = json.loads((site / "data" / f"{name}.json").read_text(encoding="utf-8"))
        assert all("credit_class" not in r for r in rows)


def test_downloads_hold_only_allow_listed_fields(built):
    _, site = built
    enterprises = json.loads((site / "data/enterprises.json").read_text(encoding="utf-8"))
    assert enterprises and all(set(r) == set(privacy.PUBLIC_TARGET_FIELDS) for r in enterprises)
    results = json.loads((site / "data/results.json").read_text(encoding="utf-8"))
    assert results and all(set(r) == set(privacy.PUBLIC_RESULT_FIELDS) for r in results)


def test_projections_copy_only_allow_listed_fields():
    from sunshine import model, vocabulary as v

    t = model.Target(code="91379902MA00000019", name="某店", kind=v.TargetKind.INDIVIDUAL, division="379902",
                     industries=("H6210",), status=v.RegistrationStatus.ACTIVE,
                     flags=frozenset({v.TargetFlag.ABNORMAL}), credit_class=v.CreditClass.D)
    pub = privacy.public_target(t)
    assert set(pub) == set(privacy.PUBLIC_TARGET_FIELDS) | {"url"}
    assert "D" not in pub.values() and v.CreditClass.D.label not in repr(pub)
    for forbidden in privacy.NEVER_PUBLISHED["Target"]:
        assert forbidden not in pub


def _privacy_md_groups() -> dict[str, list[str]]:
    text = (REPO / "content/pages/privacy.md").read_text(encoding="utf-8")
    groups = {}
    for m in re.finditer(r"^(\S[^\n]*)\n:\s+(.+?)。$", text, re.M):
        groups[m.group(1).strip()] = re.split(r"、(?![^（]*）)", m.group(2))  # not inside （…）
    return groups


def test_privacy_page_states_the_allow_list_the_code_applies():
    groups = _privacy_md_groups()
    expected = {
        "检查对象": privacy.PUBLIC_TARGET_FIELDS,
        "执法检查人员": privacy.PUBLIC_INSPECTOR_FIELDS,
        "抽查事项": privacy.PUBLIC_ITEM_FIELDS,
        "抽查任务": privacy.PUBLIC_TASK_FIELDS,
        "检查结果": privacy.PUBLIC_RESULT_FIELDS,
    }
    assert set(groups) == set(expected)
    for name, fields in expected.items():
        assert groups[name] == list(fields.values()), name


def test_target_slugs_are_safe_path_segments():
    assert privacy.target_slug("91379904MAQYRPNP11") == "91379904MAQYRPNP11"
    assert privacy.target_slug("P-2025/../x") == "P-2025%2F%2E%2E%2Fx"
    assert privacy.target_slug("..") == "%2E%2E"
    assert privacy.target_slug("P-食品") == "P-%E9%A3%9F%E5%93%81"
