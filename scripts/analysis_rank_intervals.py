"""Do the rank intervals hold? BEFORE (the composite's Monte Carlo) and AFTER (the axes' predictive intervals).

Bundled REAL data, 2020 (12 months), rolling origin (train on months 1..k, k >= 3; test on the
next month and the next quarter), 90 % intervals, 1,000 draws:

* ``city_violence_2020`` on the 182 LSOAs of the City district (every LSOA, zero-count ones
  included; the source covers the City only);
* ``county_weapons_2020`` on all 679 LSOAs of the force area.

Rows:

* BEFORE: :func:`hotspots.rank.composite.rank_places` (default weights, Poisson resampling and
  Dirichlet weights; Gi* and KDE recomputed from the training months) against the composite
  rank of the test window (the tool's own ranking next period);
* plug-in Poisson: the composite's data model (Poisson(observed x h / k), zero places stay at
  zero) on the harm axis, with the axes' tie rule;
* EB + Poisson: the empirical-Bayes posterior without month-to-month overdispersion;
* AFTER: the default intervals (EB + negative binomial, overdispersion from the training months).

Run: ``.venv/bin/python scripts/analysis_rank_intervals.py [--draws 1000] [--quick] [--exclude-institutions]``
(``--quick`` skips the slow BEFORE rows).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.evaluate.rank_backtest import rank_interval_backtest, summarise_rank_backtest
from hotspots.rank.axes import tied_ranks
from hotspots.rank.eb import Dispersion
from hotspots.rank.intervals import simulate_rank_draws, summarise_draws
from hotspots.rank.monthly import monthly_harm

MONTHS = [f"2020-{i:02d}" for i in range(1, 13)]
HORIZONS = (1, 3)
MIN_TRAIN = 3


def _score(rows: list[dict], h: int, fold: int, lo, hi, obs, point) -> None:
    inside = (obs >= lo) & (obs <= hi)
    top = point <= np.ceil(0.1 * len(point))
    rows.append(
        {
            "horizon": h,
            "fold": fold,
            "coverage": float(inside.mean()),
            "median_width": float(np.median(hi - lo)),
            "coverage_top_decile": float(inside[top].mean()),
            "width_top_decile": float(np.median((hi - lo)[top])),
        }
    )


def plugin_poisson(m: np.ndarray, draws: int) -> pd.DataFrame:
    """The composite's data model on the harm axis: Poisson(observed x h / k); zero places stay at zero."""
    rows: list[dict] = []
    for h in HORIZONS:
        for fold, k in enumerate(range(MIN_TRAIN, m.shape[1] - h + 1), start=1):
            y, test = m[:, :k].sum(axis=1), m[:, k : k + h].sum(axis=1)
            lo, hi, _ = summarise_draws(simulate_rank_draws(y * h / k, np.zeros_like(y), draws=draws, seed=fold))
            point = tied_ranks(y)
            _score(rows, h, fold, np.minimum(lo, point), np.maximum(hi, point), tied_ranks(test), point)
    return pd.DataFrame(rows)


def composite_before(study, inc: pd.DataFrame, lsoa, draws: int) -> pd.DataFrame:
    """The composite's Monte Carlo intervals against the composite rank of the test window."""
    import shapely

    from hotspots.detect.gistar import hotspot_gistar
    from hotspots.detect.kde import hotspot_kde
    from hotspots.rank.components import place_components
    from hotspots.rank.composite import rank_places
    from hotspots.units import lsoa_units, make_grid

    grid = make_grid(shapely.union_all(lsoa.geometry.values), cell_size=200.0)

    def comps(a: int, b: int) -> pd.DataFrame:
        sel = inc[inc[C.MONTH].isin(MONTHS[a:b])]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            det = hotspot_gistar(lsoa_units(sel, lsoa), value="harm")
            kde = hotspot_kde(sel, grid)
            return place_components(
                lsoa, sel, venues=study.venues, deprivation=study.deprivation, detect_lsoa=det,
                grid=grid.assign(kde=kde.to_numpy()),
            )  # fmt: skip

    rows: list[dict] = []
    for h in HORIZONS:
        for fold, k in enumerate(range(MIN_TRAIN, len(MONTHS) - h + 1), start=1):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tr = rank_places(comps(0, k), draws=draws, seed=0)
                te = rank_places(comps(k, k + h), draws=0)
            obs = te.set_index(C.LSOA_CODE)["rank"].reindex(tr[C.LSOA_CODE]).to_numpy()
            lo, hi = tr["rank_low"].to_numpy(), tr["rank_high"].to_numpy()
            _score(rows, h, fold, lo, hi, obs, tr["rank"].to_numpy())
    return pd.DataFrame(rows)


def _per_horizon(df: pd.DataFrame) -> pd.DataFrame:
    return (
        df.groupby("horizon")
        .agg(
            folds=("fold", "nunique"),
            coverage=("coverage", "mean"),
            median_width=("median_width", "median"),
            coverage_top_decile=("coverage_top_decile", "mean"),
            width_top_decile=("width_top_decile", "median"),
        )
        .reset_index()
    )


def main() -> None:
    """Print the BEFORE / AFTER coverage table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--quick", action="store_true", help="skip the slow BEFORE (composite) rows")
    ap.add_argument("--exclude-institutions", action="store_true", help="leave institutional snap points out")
    args = ap.parse_args()
    from hotspots.config import load_config
    from hotspots.prepare.study import load_study

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = load_study(load_config())
    table = []
    for src, area in (("city_violence_2020", "City district"), ("county_weapons_2020", "force area")):
        lsoa = study.lsoa if area == "force area" else study.lsoa[study.lsoa[C.DISTRICT] == "Nottingham"]
        codes = lsoa[C.LSOA_CODE].astype(str).tolist()
        inc = study.incidents[(study.incidents[C.SOURCE] == src) & study.incidents[C.LSOA_CODE].isin(codes)]
        if args.exclude_institutions:
            inc = inc[inc[C.INSTITUTION] == ""]
        m = monthly_harm(inc, codes, MONTHS)
        marks = inc[C.HARM].to_numpy(dtype=float)
        runs: list[tuple[str, pd.DataFrame]] = []
        if not args.quick:
            runs.append(("BEFORE: composite Monte Carlo", _per_horizon(composite_before(study, inc, lsoa, args.draws))))
        runs.append(("plug-in Poisson, harm axis", _per_horizon(plugin_poisson(m, args.draws))))
        for name, disp in (("EB + Poisson, harm axis", Dispersion()), ("AFTER: EB + NB, harm axis", "estimate")):
            res = rank_interval_backtest(m, months=MONTHS, marks=marks, draws=args.draws, dispersion=disp)
            s = summarise_rank_backtest(res).rename(
                columns={"rank_interval_coverage": "coverage", "median_width_top_decile": "width_top_decile"}
            )
            runs.append((name, s))
        for name, s in runs:
            for r in s.itertuples(index=False):
                table.append(
                    {
                        "source": f"{src} ({len(codes)} LSOAs, {len(inc):,} incidents)",
                        "method": name,
                        "window": "next month" if r.horizon == 1 else "next quarter",
                        "folds": r.folds,
                        "coverage": r.coverage,
                        "median_width": r.median_width,
                        "coverage_top_decile": r.coverage_top_decile,
                        "width_top_decile": r.width_top_decile,
                    }
                )
    pd.set_option("display.width", 220)
    t = time.strftime("%Y-%m-%d %H:%M")
    print(f"rank interval coverage (nominal 0.90) and median width (ranks), mean over folds ({t})")
    print(pd.DataFrame(table).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
