"""Tests of the harm and need axes, the Board tiers and rank_axes (planted answers, oracles, invariants)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.rank.axes import (
    HARM_AXIS_COLUMNS,
    NEED_AXIS_COLUMNS,
    harm_axis,
    national_percentile,
    need_axis,
    reference_percentile,
    tied_ranks,
)
from hotspots.rank.columns import TIER_NAMES
from hotspots.rank.components import place_components
from hotspots.rank.eb import (
    Dispersion,
    GammaPrior,
    eb_posterior,
    estimate_dispersion,
    fit_gamma_prior,
    mark_scale,
)
from hotspots.rank.places import PLACES_COLUMNS, rank_axes
from hotspots.rank.tiers import board_tiers

OLD_MARKET_SQUARE = "E01033400"  # Nottingham 039B: the most harm in the bundled force


@pytest.fixture(scope="module")
def bundled_components(study):
    """The rank stage's components of the place analyses' sources (bundled real data)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return place_components(
            study.lsoa, study.analysis_incidents, venues=study.venues, deprivation=study.deprivation
        )


harm_lists = st.lists(st.integers(0, 60).map(lambda k: k / 2.0), min_size=1, max_size=60)


# --- tie rule ------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 6).map(float), st.just(np.nan)), min_size=1, max_size=40))
def test_tied_ranks_match_scipy_max_rank(values):
    x = np.array(values)
    got = tied_ranks(x)
    ok = ~np.isnan(x)
    # oracle: scipy's "max" rank of -x among the non-missing values
    want = stats.rankdata(-x[ok], method="max")
    np.testing.assert_array_equal(got[ok], want)
    assert np.isnan(got[~ok]).all()


def test_tied_ranks_rows_are_ranked_separately():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 4, size=(9, 30)).astype(float)
    want = np.vstack([stats.rankdata(-r, method="max") for r in x])
    np.testing.assert_array_equal(tied_ranks(x), want)


def test_tied_ranks_zero_places_share_last_rank():
    assert tied_ranks([4.0, 0.0, 0.0, 1.0]).tolist() == [1.0, 4.0, 4.0, 2.0]


def test_tied_ranks_rejects_3d():
    with pytest.raises(InputError, match="1-D or 2-D"):
        tied_ranks(np.zeros((2, 2, 2)))


# --- marks and dispersion ------------------------------------------------------------------------


def test_mark_scale_is_second_over_first_moment():
    assert mark_scale([1.0, 1.5, 4.0]) == pytest.approx((1 + 2.25 + 16) / 6.5)
    assert mark_scale([1.5, 1.5]) == 1.5
    assert mark_scale([]) == 1.0


def test_mark_scale_makes_compound_poisson_harm_quasi_poisson():
    # compound Poisson harm with the bundled mark mix: H / s has variance equal to its mean
    rng = np.random.default_rng(0)
    marks, probs = np.array([1.0, 1.5, 4.0]), np.array([0.88, 0.06, 0.06])
    n = rng.poisson(8.0, size=40_000)
    k = rng.multinomial(1, probs, size=n.sum()) @ marks
    h = np.bincount(np.repeat(np.arange(len(n)), n), weights=k, minlength=len(n))
    s = float((probs * marks**2).sum() / (probs * marks).sum())
    assert np.var(h / s) / np.mean(h / s) == pytest.approx(1.0, abs=0.03)


def test_estimate_dispersion_poisson_is_one():
    rng = np.random.default_rng(1)
    d = estimate_dispersion(rng.poisson(rng.gamma(2.0, 2.0, size=(500, 1)), size=(500, 12)))
    assert d.phi == pytest.approx(1.0, abs=0.06)
    assert d.inv_kappa == pytest.approx(0.0, abs=0.02)
    assert d.pearson == pytest.approx(1.0, abs=0.06)


def test_estimate_dispersion_recovers_planted_nb2_and_nb1():
    rng = np.random.default_rng(2)
    mu = rng.gamma(2.0, 4.0, size=(800, 1)) * np.ones((1, 12))
    nb2 = rng.poisson(rng.gamma(1 / 0.2, mu * 0.2))  # Var = mu + 0.2 mu^2
    d2 = estimate_dispersion(nb2)
    assert d2.inv_kappa == pytest.approx(0.2, abs=0.04)
    assert d2.phi == pytest.approx(1.0, abs=0.15)
    nb1 = rng.poisson(rng.gamma(mu / 1.0, 1.0))  # Var = 2 mu
    d1 = estimate_dispersion(nb1)
    assert d1.phi == pytest.approx(2.0, abs=0.15)
    assert d1.inv_kappa == pytest.approx(0.0, abs=0.02)


def test_estimate_dispersion_ignores_common_month_effects():
    # a lockdown month (x0.3) and a busy month (x2) hit every place alike: not overdispersion
    rng = np.random.default_rng(4)
    month = np.array([1, 1, 1, 0.3, 1, 1, 2, 1, 1, 1, 1, 1.0])
    y = rng.poisson(rng.gamma(2.0, 3.0, size=(600, 1)) * month)
    assert estimate_dispersion(y).phi == pytest.approx(1.0, abs=0.06)


def test_estimate_dispersion_pools_sources_and_skips_single_months():
    rng = np.random.default_rng(5)
    one_month = rng.poisson(3.0, size=(100, 1))
    assert "Poisson assumed" in estimate_dispersion([one_month, one_month]).note
    d = estimate_dispersion([one_month, rng.poisson(3.0, size=(100, 12)) * 1.5], scale=[1.0, 1.5])
    assert d.cells > 0 and d.phi == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize(
    ("monthly", "kwargs", "match"),
    [
        (np.zeros(5), {}, r"must be places x months \(2-D\)"),
        (-np.ones((3, 3)), {}, "negative or non-finite"),
        (np.ones((3, 3)), {"scale": 0.0}, "`scale` must be a positive number"),
        ([np.ones((3, 3)), np.ones((3, 3))], {"scale": [1.0]}, "1 scales for 2 matrices"),
    ],
)
def test_estimate_dispersion_errors(monthly, kwargs, match):
    with pytest.raises(InputError, match=match):
        estimate_dispersion(monthly, **kwargs)


# --- empirical Bayes -----------------------------------------------------------------------------


def test_fit_gamma_prior_recovers_planted_prior():
    rng = np.random.default_rng(6)
    theta = rng.gamma(2.0, 1 / 0.5, size=20_000)  # shape 2, rate 0.5: mean 4, var 8
    y = rng.poisson(theta * 12)
    pr = fit_gamma_prior(y, exposure=12)
    assert pr.mean == pytest.approx(4.0, rel=0.03)
    assert pr.var == pytest.approx(8.0, rel=0.08)


def test_fit_gamma_prior_without_violence_is_a_point_mass_at_zero():
    pr = fit_gamma_prior(np.zeros(5), exposure=1)
    assert pr.shape == 0 and pr.mean == 0
    a, b = eb_posterior(np.zeros(5), exposure=1, prior=pr)
    assert (a / b == 0).all()


def test_fit_gamma_prior_floors_the_between_place_variance():
    pr = fit_gamma_prior(np.full(10, 5.0), exposure=1)
    assert pr.floored and np.isfinite(pr.shape) and pr.shape > 0


@pytest.mark.parametrize(
    ("y", "exposure", "match"),
    [([], 1.0, "there are no places"), ([1.0, -1.0], 1.0, "place 1 has -1.0"), ([1.0], 0.0, "`exposure` must be")],
)
def test_fit_gamma_prior_errors(y, exposure, match):
    with pytest.raises(InputError, match=match):
        fit_gamma_prior(y, exposure=exposure)


def test_eb_posterior_is_the_conjugate_update_under_poisson():
    pr = GammaPrior(shape=2.0, rate=0.5)
    a, b = eb_posterior(np.array([0.0, 3.0, 10.0]), exposure=4.0, prior=pr)
    np.testing.assert_allclose(a, [2.0, 5.0, 12.0])
    np.testing.assert_allclose(b, [4.5, 4.5, 4.5])


def test_eb_posterior_discounts_overdispersed_counts():
    pr = GammaPrior(shape=2.0, rate=0.5)
    a1, b1 = eb_posterior(np.array([30.0]), exposure=3.0, prior=pr)
    a2, b2 = eb_posterior(np.array([30.0]), exposure=3.0, prior=pr, dispersion=Dispersion(phi=2.0, inv_kappa=0.1))
    assert a2 / b2**2 > a1 / b1**2  # less information: a wider posterior


# --- harm axis -----------------------------------------------------------------------------------


def test_harm_axis_keeps_the_order_of_raw_harm_and_puts_the_most_harm_first():
    rng = np.random.default_rng(7)
    harm = rng.poisson(rng.gamma(0.5, 6.0, size=300)) * 1.5
    ax = harm_axis(harm, months=12, dispersion=Dispersion(phi=1.3, inv_kappa=0.1), scale=1.4)
    assert list(ax.columns) == HARM_AXIS_COLUMNS
    np.testing.assert_array_equal(ax["harm_rank"].to_numpy(), tied_ranks(harm))
    assert ax["harm_rank"].iloc[int(np.argmax(harm))] == 1


def test_harm_axis_shrinks_towards_the_mean_and_gives_zero_places_a_positive_value():
    ax = harm_axis([0.0, 2.0, 50.0, 4.0], months=12)
    eb = ax["harm_eb"].to_numpy()
    assert eb[0] > 0 and eb[2] < 50 and eb[0] < eb[1] < eb[3] < eb[2]


def test_harm_axis_rate_per_year_and_population():
    ax = harm_axis([6.0, 6.0, 6.0], months=6, population=[2000.0, 0.0, np.nan])
    np.testing.assert_allclose(ax["harm_per_1000_yr"].to_numpy(), [6.0, np.nan, np.nan])
    ax2 = harm_axis([6.0, 0.0], months=6, population=[1000.0, 1000.0], harm_per_year=[30.0, 0.0])
    assert ax2["harm_per_1000_yr"].iloc[0] == 30.0


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(harm_lists, st.data(), st.floats(1.0, 3.0), st.floats(0.0, 0.5))
def test_more_harm_never_lowers_a_place_on_the_harm_axis(harm, data, phi, ik):
    h = np.array(harm)
    i = data.draw(st.integers(0, len(h) - 1))
    extra = data.draw(st.integers(1, 40)) / 2.0
    d = Dispersion(phi=phi, inv_kappa=ik)
    before = harm_axis(h, months=12, dispersion=d)
    h2 = h.copy()
    h2[i] += extra
    after = harm_axis(h2, months=12, dispersion=d)
    assert after["harm_rank"].iloc[i] <= before["harm_rank"].iloc[i]
    # with the prior held fixed the smoothed value itself rises strictly
    pr = fit_gamma_prior(h, exposure=12, dispersion=d)
    assume(pr.shape > 0)  # a point-mass prior at 0 (no harm anywhere) is not updated by any count
    a1, b1 = eb_posterior(h, exposure=12, prior=pr, dispersion=d)
    a2, b2 = eb_posterior(h2, exposure=12, prior=pr, dispersion=d)
    assert a2[i] / b2[i] > a1[i] / b1[i]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"harm": [1.0, np.inf], "months": 12}, "place 1 has inf"),
        ({"harm": [[1.0]], "months": 12}, r"one value per place \(1-D\)"),
        ({"harm": [1.0], "months": 0}, "`months` must be the positive length"),
        ({"harm": [1.0], "months": 1, "scale": -1.0}, "`scale` must be a positive"),
        ({"harm": [1.0, 2.0], "months": 1, "population": [1.0]}, "`population` has 1 values for 2 places"),
        ({"harm": [1.0, 2.0], "months": 1, "harm_per_year": [1.0]}, "`harm_per_year` has 1 values"),
    ],
)
def test_harm_axis_errors(kwargs, match):
    with pytest.raises(InputError, match=match):
        harm_axis(**kwargs)


# --- need axis -----------------------------------------------------------------------------------


def test_national_and_reference_percentiles():
    assert national_percentile([1, 32_844]).tolist() == pytest.approx([100.0, 100 / 32_844])
    with pytest.raises(InputError, match=r"rank 0\.0 .* outside 1\.\.32844"):
        national_percentile([0])
    assert reference_percentile([0.3, np.nan], [0.1, 0.2, 0.3, 0.4]).tolist()[0] == 75.0
    with pytest.raises(InputError, match="reference distribution has no values"):
        reference_percentile([0.1], [np.nan])


def test_need_axis_handles_missing_idaci_without_ranking_the_place_last():
    need = need_axis(imd_pct=[95.0, 90.0, 10.0], idaci_pct=[np.nan, 88.0, 12.0], cyp_pct=[97.0, 92.0, 8.0])
    assert list(need.columns) == NEED_AXIS_COLUMNS
    assert need["need_score"].tolist() == pytest.approx([96.0, 90.0, 10.0])
    assert need["need_rank"].tolist() == [1.0, 2.0, 3.0]  # the place without IDACI is first, not last
    assert need["need_missing"].tolist() == ["idaci", "", ""]


def test_need_axis_without_any_measure_is_missing_and_never_prevent():
    need = need_axis(imd_pct=[np.nan, 50.0], idaci_pct=[np.nan, 50.0], cyp_pct=[np.nan, 50.0])
    assert np.isnan(need["need_score"].iloc[0]) and np.isnan(need["need_rank"].iloc[0])
    assert need["need_missing"].iloc[0] == "imd;idaci;cyp"
    tier, _ = board_tiers([0.0, 0.0], need["need_score"].to_numpy(), prevent_share=1.0)
    assert tier.tolist() == [3, 2]


def test_need_axis_on_bundled_data_agrees_with_the_first_principal_component(bundled_components):
    c = bundled_components
    idaci = c["idaci_rate_derived"].to_numpy(dtype=float)
    need = need_axis(
        imd_pct=national_percentile(c["imd_nc_rank"]),
        idaci_pct=reference_percentile(idaci, idaci),
        cyp_pct=c["cyp_need"].to_numpy(dtype=float),
    )
    assert int(need["need_score"].isna().sum()) == 0  # 93 suppressed IDACI, all still scored
    assert int((need["need_missing"] == "idaci").sum()) == 93
    m = need[["need_imd_pct", "need_idaci_pct", "need_cyp_pct"]].dropna().to_numpy()
    z = (m - m.mean(0)) / m.std(0)
    pc1 = z @ np.linalg.svd(z, full_matrices=False)[2][0]
    rho = stats.spearmanr(need["need_score"].to_numpy()[need["need_missing"] == ""], pc1)[0]
    assert abs(rho) > 0.999


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"imd_pct": [101.0], "idaci_pct": [1.0], "cyp_pct": [1.0]}, "`imd_pct` must be a percentile in 0-100"),
        ({"imd_pct": [1.0], "idaci_pct": [1.0, 2.0], "cyp_pct": [1.0]}, "different lengths"),
    ],
)
def test_need_axis_errors(kwargs, match):
    with pytest.raises(InputError, match=match):
        need_axis(**kwargs)


# --- Board tiers ---------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    harm_lists.filter(lambda h: max(h) > 0),
    st.lists(st.floats(0, 100), min_size=60, max_size=60),
    st.sampled_from(["places", "harm"]),
    st.floats(0.001, 1.0),
    st.floats(0.0, 1.0),
)
def test_the_place_with_the_most_harm_is_always_act_now(harm, need, rule, share, prevent):
    h = np.array(harm)
    tier, info = board_tiers(
        h, np.array(need[: len(h)]), act_rule=rule, act_share=share, act_harm_share=share, prevent_share=prevent
    )
    assert (tier[h == h.max()] == 1).all()
    assert (tier[h == 0] != 1).all()  # no harm, never act now
    assert sum(info["sizes"].values()) == len(h)


def test_tiers_monitor_is_the_largest_group_and_ties_at_the_cut_off_are_included():
    rng = np.random.default_rng(8)
    h = rng.poisson(rng.gamma(0.5, 6.0, size=679)).astype(float)
    tier, info = board_tiers(h, rng.uniform(0, 100, 679))
    sizes = info["sizes"]
    assert sizes["monitor"] > sizes["act now: high harm"] + sizes["prevent: high need"]
    assert sizes["act now: high harm"] >= math.ceil(0.05 * 679)
    cut = info["act_cutoff_harm"]
    assert (tier[h >= cut] == 1).all() and (tier[h < cut] != 1).all()


def test_tiers_by_harm_share_take_the_fewest_places_holding_it():
    tier, info = board_tiers(
        [50.0, 30.0, 10.0, 10.0], [0.0, 0.0, 0.0, 0.0], act_rule="harm", act_harm_share=0.5, prevent_share=0.0
    )
    assert tier.tolist() == [1, 3, 3, 3] and info["harm_share_act_now"] == 0.5
    tier, _ = board_tiers([0.0, 0.0], [1.0, 2.0])
    assert (tier != 1).all()  # no violence: nobody to act on


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"act_rule": "score"}, "act_rule must be one of 'places', 'harm'"),
        ({"act_share": 0.0}, r"`act_share` must be a share in \(0, 1\]"),
        ({"prevent_share": 1.5}, r"`prevent_share` must be a share in \[0, 1\]"),
        ({"act_harm_share": True}, "`act_harm_share` must be a share"),
    ],
)
def test_board_tiers_errors(kwargs, match):
    with pytest.raises(InputError, match=match):
        board_tiers([1.0, 2.0], [1.0, 2.0], **kwargs)


def test_board_tiers_length_mismatch():
    with pytest.raises(InputError, match="`need_score` has 1 values for 2 places"):
        board_tiers([1.0, 2.0], [1.0])


# --- rank_axes: bundled data and synthetic forces -------------------------------------------------


def test_bundled_market_square_is_first_on_the_harm_axis(bundled_components):
    c = bundled_components
    places = rank_axes(c, months=13.0, dispersion=Dispersion(phi=1.03, inv_kappa=0.12), scale=1.37, draws=200)
    assert list(places.columns) == [*PLACES_COLUMNS, "geometry"]
    assert places.crs == c.crs
    top = c.loc[c["harm"].idxmax(), "lsoa_code"]
    assert top == OLD_MARKET_SQUARE  # 74 incidents, the most in the force
    row = places.set_index(C.LSOA_CODE).loc[OLD_MARKET_SQUARE]
    assert row["harm_rank"] == 1 and row["tier"] == 1 and row["tier_name"] == TIER_NAMES[1]
    assert row["harm_rank_low"] <= 1 <= row["harm_rank_high"]
    assert row["reason"].startswith("Act now: high harm")
    assert sorted(places["order"]) == list(range(1, len(places) + 1))
    assert places["order"].is_monotonic_increasing
    sizes = places.attrs["rank"]["tiers"]["sizes"]
    assert sizes["act now: high harm"] == 34 and sizes["monitor"] > 600 - 100
    # suppressed IDACI is scored on the other two measures, never left without a need
    assert places["need_score"].notna().all()
    assert places.attrs["rank"]["need"]["places_missing_a_need_measure"] == 93


def _synthetic_components(harm: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    p = len(harm)
    return pd.DataFrame(
        {
            "lsoa_code": [f"E{i:08d}" for i in range(p)],
            "lsoa_name": [f"Town {i:03d}" for i in range(p)],
            "district": "Town",
            "n": np.ceil(harm).astype(int),
            "harm": harm,
            "population": rng.integers(50, 3000, p).astype(float),
            "imd_nc_rank": rng.integers(1, 32_845, p).astype(float),
            "idaci_rate_derived": np.where(rng.random(p) < 0.2, np.nan, rng.uniform(0, 0.6, p)),
            "cyp_need": rng.uniform(0, 100, p),
        }
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(harm_lists.filter(lambda h: max(h) > 0), st.integers(0, 2**16))
def test_synthetic_forces_put_the_most_harm_place_in_the_first_tier(harm, seed):
    rng = np.random.default_rng(seed)
    h = np.array(harm)
    places = rank_axes(_synthetic_components(h, rng), months=12.0, draws=20, seed=seed)
    top = places[places["harm"] == h.max()]
    assert (top["tier"] == 1).all() and (top["harm_rank"] == len(top)).all()
    assert (places["harm_rank_low"] <= places["harm_rank"]).all()
    assert (places["harm_rank"] <= places["harm_rank_high"]).all()
    assert places.iloc[0]["harm"] == h.max()  # the Board list opens with it


def test_a_city_centre_with_few_residents_leads_the_harm_axis():
    # the second force: one city-centre LSOA with 384 incidents and 300 residents
    rng = np.random.default_rng(9)
    h = rng.poisson(rng.gamma(0.6, 8.0, size=900)).astype(float)
    h[17] = 384.0
    c = _synthetic_components(h, rng)
    c.loc[17, "population"] = 300.0
    c.loc[17, "imd_nc_rank"] = 25_000.0  # not deprived
    places = rank_axes(c, months=12.0, draws=50)
    row = places.set_index("lsoa_code").loc["E00000017"]
    assert row["harm_rank"] == 1 and row["tier"] == 1 and row["order"] == 1


def test_rank_axes_errors(bundled_components):
    with pytest.raises(InputError, match=r"components lack column.*'imd_nc_rank'"):
        rank_axes(bundled_components.drop(columns="imd_nc_rank"), months=12.0)
    with pytest.raises(InputError, match="`components` is empty"):
        rank_axes(bundled_components.iloc[:0], months=12.0)
    with pytest.raises(InputError, match="`components` must be a DataFrame"):
        rank_axes([1, 2], months=12.0)
