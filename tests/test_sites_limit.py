"""The sites stage's one time budget, the set covering with interchangeable candidates, and the greedy fallbacks."""

from __future__ import annotations

import dataclasses
import time
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from hotspots.errors import HotspotsWarning
from hotspots.sites import mclp as _mclp
from hotspots.sites import target as _target
from hotspots.sites.cover import Deadline
from hotspots.sites.stage import site
from hotspots.sites.target import greedy_target


def _random_model(seed, n=400, m=120, r=60.0):
    rng = np.random.default_rng(seed)
    dxy = rng.uniform(0, 1000, (n, 2))
    cxy = np.vstack([dxy[rng.choice(n, m - 20, replace=False)], rng.uniform(0, 1000, (20, 2))])
    return _mclp.coverage_matrix(dxy, cxy, r), rng.choice([1.0, 1.5, 4.0], n)


def _plain_target_milp(red, target):
    """One binary per candidate (the formulation before the classes): the oracle of the fewest kits."""
    n, m = red.cover.shape
    reach = np.concatenate([red.col_weights, red.weights])
    cons = [LinearConstraint(sp.csr_matrix(reach[None, :]), target, np.inf)]
    if n:
        a = sp.hstack([-red.cover.astype(float), sp.identity(n)], format="csr")
        cons.insert(0, LinearConstraint(a, -np.inf, 0))
    res = milp(
        np.concatenate([np.ones(m), np.zeros(n)]),
        integrality=np.concatenate([np.ones(m), np.zeros(n)]),
        bounds=Bounds(0, 1),
        constraints=cons,
        options={"mip_rel_gap": 1e-9},
    )
    return round(res.fun)


@pytest.mark.parametrize("seed", range(6))
def test_target_with_candidate_classes_equals_the_plain_milp(seed):
    cover, w = _random_model(seed)
    red = _mclp.reduce_model(cover, w, None)
    for share in (0.2, 0.5, 0.8):
        target = share * red.coverable
        sol = _mclp.solve_target(cover, w, target, reduced=red)
        assert sol.optimal
        assert len(sol.sites) == _plain_target_milp(red, target - 1e-9 * max(1, red.coverable))
        assert sol.objective >= target - 1e-6


@pytest.mark.parametrize("seed", range(4))
def test_target_after_lp_bound_fixing_equals_the_plain_milp_with_fixed_sites(seed):
    """The LP bound, the support answer and reduced-cost fixing never change the fewest kits."""
    cover, w = _random_model(seed, n=800, m=260, r=80.0)
    fixed = np.random.default_rng(seed).random(len(w)) < 0.1
    red = _mclp.reduce_model(cover, w, fixed)
    for share in (0.3, 0.6, 0.9):
        target = share * red.coverable
        sol = _mclp.solve_target(cover, w, target, fixed=fixed, reduced=red)
        assert sol.optimal and sol.gap == 0.0
        assert len(sol.sites) == _plain_target_milp(red, target - 1e-9 * max(1, red.coverable))
        assert sol.objective >= target - 1e-6
        assert sol.extra["lp_bound"] <= len(sol.sites) + 1e-6 and len(sol.sites) <= sol.extra["greedy"]


@pytest.mark.parametrize("seed", range(6))
def test_reduced_cost_fixing_from_the_greedy_answer_keeps_the_optimum(seed, monkeypatch):
    """With only the greedy answer as ``U`` (no support solve), the fixed model still finds the fewest kits."""
    monkeypatch.setattr(_target, "_support", lambda model, x, deadline, best: best)
    cover, w = _random_model(seed, n=600, m=200, r=80.0)
    red = _mclp.reduce_model(cover, w, None)
    fixing = 0
    for share in (0.5, 0.8, 0.95):
        target = share * red.coverable
        sol = _mclp.solve_target(cover, w, target, reduced=red)
        assert sol.optimal
        assert len(sol.sites) == _plain_target_milp(red, target - 1e-9 * max(1, red.coverable))
        assert sol.objective >= target - 1e-6
        fixing += sol.status.startswith("optimal (LP-bound fixing")
    assert fixing >= 1


@pytest.mark.parametrize("seed", range(4))
def test_greedy_target_reaches_the_target_and_drops_what_it_does_not_need(seed):
    cover, w = _random_model(seed, n=800, m=300, r=80.0)
    red = _mclp.reduce_model(cover, w, None)
    target = 0.6 * red.coverable
    sel = greedy_target(red, target)
    got = red.col_weights[sel].sum() + red.weights[(red.cover @ sel.astype(int)) > 0].sum()
    assert got >= target - 1e-9
    for j in np.flatnonzero(sel):  # no chosen candidate can be dropped
        less = sel.copy()
        less[j] = False
        assert red.col_weights[less].sum() + red.weights[(red.cover @ less.astype(int)) > 0].sum() < target


def test_mclp_with_no_time_returns_the_flagged_heuristic():
    cover, w = _random_model(7, n=2000, m=600, r=80.0)
    sol = _mclp.solve_mclp(cover, w, 15, time_limit=0.0)
    exact = _mclp.solve_mclp(cover, w, 15)
    assert len(sol.sites) == 15 and sol.objective > 0
    assert exact.optimal and exact.objective >= sol.objective - 1e-9
    assert not sol.optimal and sol.status == "time limit: heuristic solution returned"


def test_target_with_no_time_is_the_greedy_answer_and_still_reaches_it():
    cover, w = _random_model(8, n=2000, m=600, r=80.0)
    red = _mclp.reduce_model(cover, w, None)
    target = 0.6 * red.coverable
    sol = _mclp.solve_target(cover, w, target, time_limit=0.0)
    assert not sol.optimal and sol.status == "time limit: greedy solution returned" and sol.gap is None
    assert sol.objective >= target - 1e-6
    best = _mclp.solve_target(cover, w, target)
    assert best.optimal and len(best.sites) <= len(sol.sites)


def test_deadline():
    assert Deadline.after(None).left() is None and not Deadline.after(None).spent()
    assert Deadline.after(-5).left() == 0.0 and Deadline.after(0).spent()
    d = Deadline.after(60)
    assert 59 < d.left() <= 60 and not d.spent()


@pytest.fixture(scope="module")
def detected(study, config):
    from hotspots.detect.stage import detect

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return detect(study, config.detect)


def test_a_tiny_stage_budget_returns_flagged_answers_never_unreachable(study, config, detected):
    tight = dataclasses.replace(config.sites, time_limit_s=1e-6)
    t = time.perf_counter()
    with pytest.warns(HotspotsWarning, match=r"stage time limit \(1e-06 s, \[sites\] time_limit_s\) was reached"):
        res = site(study, detected, tight, config.outreach)
    assert time.perf_counter() - t < 60  # building the models and the outreach zones come on top
    limit = res.summary["time_limit"]
    assert limit["reached"] and limit["seconds"] == 1e-6
    assert {"bleed_kits", "coverage_curve", "kits_for_target"} <= set(limit["not_proven_optimal"])
    assert len(res.kits) == config.sites.p  # always an answer: the greedy kits
    assert res.summary["bleed_kits"]["optimal"] is False
    target = res.target
    assert target.get("reachable", True) and target["optimal"] is False  # reachable: never "unreachable"
    assert target["coverage_pct"] >= config.sites.target_pct  # the greedy answer still meets it
    assert not res.coverage_curve.attrs["optimal"]
    assert res.coverage_curve["covered_harm"].is_monotonic_increasing


def test_the_default_budget_proves_every_answer(study, config, detected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = site(study, detected, config.sites, config.outreach)
    limit = res.summary["time_limit"]
    assert limit["reached"] is False and limit["not_proven_optimal"] == []
    assert res.summary["bleed_kits"]["optimal"] and res.target["optimal"]
    assert res.summary["kit_alternatives"]["most_different_set"]["optimal"]


def test_the_report_says_which_answers_the_time_limit_left_unproven():
    from hotspots.present.report.sections.kits import time_limit_words

    info = {"time_limit": {"seconds": 120.0, "reached": True, "not_proven_optimal": ["kits_for_target"]}}
    (sentence,) = time_limit_words(info)
    assert "(120 s) ran out" in sentence and "the number of kits for the target is the best found" in sentence
    assert time_limit_words({"time_limit": {"seconds": 120.0, "reached": False, "not_proven_optimal": []}}) == []
    assert time_limit_words({}) == []
