"""views.Index: its look-ups equal the straightforward ones (groups, by task/target/month, targets by code)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from portal_site import make_data
from sunshine.loading import load_dataset
from sunshine.portal import views


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    return load_dataset(make_data(tmp_path_factory.mktemp("index")))


def test_groups_and_their_indexes_equal_the_straightforward_ones(ds):
    ix = views.Index(ds)
    groups = defaultdict(list)
    for r in ds.results:
        groups[(r.task, r.target, r.department)].append(r)
    expected = sorted(((k, sorted(v, key=lambda r: r.version)) for k, v in groups.items()),
                      key=lambda kv: (kv[1][-1].published, *kv[0]), reverse=True)
    assert [((g.task, g.target, g.department), g.versions) for g in ix.groups] == expected
    assert any(g.corrected for g in ix.groups)  # the fixture has a correction
    for attr, key in (("by_task", lambda g: g.task), ("by_target", lambda g: g.target),
                      ("by_month", lambda g: views.month_of(g.current.published))):
        want = defaultdict(list)
        for g in ix.groups:
            want[key(g)].append(g)
        assert dict(getattr(ix, attr)) == dict(want), attr


def test_targets_by_code_indexes_the_rest_of_the_directory_on_the_first_other_code(ds):
    with_results = {r.target for r in ds.results}
    others = [t for t in ds.targets if t.code not in with_results]
    assert with_results and others
    targets = views.TargetsByCode(ds, with_results)
    for code in with_results:
        assert targets[code] is ds.target_index()[code] and code in targets
    assert targets._all is None  # only the targets with results so far
    assert targets.get(others[0].code) is others[0] and targets._all is not None
    assert all(targets[t.code] is t for t in ds.targets)
    assert "no such code" not in targets and targets.get("no such code") is None and 7 not in targets
    with pytest.raises(KeyError):
        targets["no such code"]


def test_enterprise_codes_of_a_delta_equal_filtering_every_code_by_its_slug(ds):
    from sunshine.portal import privacy

    ix = views.Index(ds)
    every = sorted(set(ix.by_target))
    odd = "P-示例/a.b%"  # not URL-safe: its slug is percent-quoted
    draws = {odd: [{}], every[0]: [{}]}
    slugs = frozenset({privacy.target_slug(c) for c in every[::7]} | {privacy.target_slug(odd), "no-such", "%E4"})
    only = views.Delta(targets=slugs, tasks=frozenset(), months=frozenset())
    want = sorted(c for c in set(ix.by_target) | set(draws) if privacy.target_slug(c) in only.targets)
    assert views.enterprise_codes(ix, draws, only) == want and odd in want
    assert views.enterprise_codes(ix, draws) == sorted(set(ix.by_target) | set(draws))
