"""`hotspots evaluate` with the forecasts: evaluation.json, the calibration figure and an honest verdict.

Both runs use the default ``[forecast]`` settings on the bundled data, with fewer existing methods
(and, for the force-wide weapons data, 200 m cells and the next quarter only) to keep the suite fast.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CONFIG, DATA

from hotspots.errors import ConfigError
from hotspots.evaluate.forecast import choice as CH
from hotspots.evaluate.forecast.evaluation import CALIBRATION_FIGURE


def config_with(tmp_path: Path, evaluate: str) -> Path:
    """The bundled config with absolute input paths and this ``[evaluate]`` section."""
    text = CONFIG.read_text(encoding="utf-8")
    text = re.sub(
        r'= "((?:boundaries|iod2019|nte|crime)/[^"]+)"', lambda m: f'= "{(DATA / m.group(1)).as_posix()}"', text
    )
    path = tmp_path / "evaluate.toml"
    path.write_text(text + "\n[evaluate]\n" + evaluate, encoding="utf-8")
    return path


def run_evaluate(tmp_path: Path, evaluate: str) -> tuple[str, dict, Path]:
    from hotspots.cli import main

    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["evaluate", "--config", str(config_with(tmp_path, evaluate)), "--out", str(out)])
    assert r.exit_code == 0, r.output
    return r.output, json.loads((out / "evaluation.json").read_text(encoding="utf-8")), out


def test_city_violence_forecast_is_as_good_as_counts_not_reliably_better(tmp_path):
    output, rep, out = run_evaluate(
        tmp_path, 'methods = ["counts", "composite", "random"]\nkit_methods = ["mclp", "busiest_venues"]\n'
    )
    f = rep["forecast"]
    # the existing tables are left as they were; the new methods live in the forecast section
    assert {m["method"] for m in rep["mean"]} == {"counts", "composite", "random"}
    assert {m["method"] for m in f["mean"]} == {"ensemble", "poisson"}
    assert len(f["metrics"]) == 16 * 2 * 3  # 9 + 7 folds x 2 methods x 3 coverages
    paired = {(p["horizon"], p["method"], p["baseline"]) for p in f["paired_differences"] if p["coverage"] == 0.05}
    assert {(3, "ensemble", "counts"), (3, "poisson", "composite")} <= paired
    assert f["best_existing"] == {"1": "counts", "3": "counts"}
    assert {n["horizon"] for n in f["nested_choice"]["summary"]} == {1, 3}
    # the honest verdict: measured +0.006 +- 0.004 (next quarter), +0.003 +- 0.004 (next month)
    for v in f["verdicts"]:
        assert v["baseline"] == "counts" and v["claim"] in (CH.AS_GOOD, CH.NOT_BETTER, CH.SAME), v
        if v["claim"] != CH.SAME:
            assert v["ci_low"] < 0 < v["ci_high"] and abs(v["difference"]) < 0.02
    assert "as good as, not reliably better than counts" in output
    assert "95 % interval" in output and "chosen on earlier folds and scored on later ones" in output
    # calibration by decile: table and figure
    cal = [c for c in f["calibration"] if c["horizon"] == 3 and c["method"] == f["recommended"]["3"]["method"]]
    assert [c["decile"] for c in cal] == list(range(1, 11))
    total = sum(c["predicted_total"] for c in cal) / sum(c["observed_total"] for c in cal)
    assert 0.7 < total < 1.3  # measured 0.93 for the ensemble
    assert cal[-1]["observed_mean"] > 10 * cal[0]["observed_mean"]  # the deciles separate busy from quiet cells
    assert (out / CALIBRATION_FIGURE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # kits tested on the future: out of sample below in sample, below the hindsight ceiling
    k = f["kits_backtest"]["mean"]
    assert {r["method"] for r in k} == {"mclp", "busiest_venues"}
    for r in k:
        assert r["out_of_sample_pct"] < r["in_sample_pct"] and r["out_of_sample_pct"] <= r["best_possible_pct"]
    assert "kits chosen on months 1..k and scored on the months after" in output


def test_weapons_forecast_beats_the_best_existing_method(tmp_path):
    output, rep, _ = run_evaluate(
        tmp_path,
        'source = "county_weapons_2020"\ncell_size = 200\nmethods = ["counts", "composite", "random"]\n'
        'horizons = [3]\ncoverages = [0.05]\nforecast_methods = ["poisson"]\nkit_methods = []\n',
    )
    f = rep["forecast"]
    assert f["best_existing"] == {"3": "composite"} and f["recommended"]["3"]["method"] == "poisson"
    (v,) = [v for v in f["verdicts"] if v["baseline"] == "composite"]
    # measured at 200 m: +0.067 +- 0.024 over 7 folds, nested +0.020 +- 0.014 over 4
    assert v["claim"] == CH.BEATS and v["ci_low"] > 0 and v["nested_difference"] > 0
    assert "poisson beats composite" in output and "kits_backtest" not in f


def test_evaluate_forecast_keys_are_checked():
    from hotspots.evaluate.config import EvaluateConfig

    with pytest.raises(ConfigError, match=r"\[evaluate\] key 'forecast_methods' has unknown method 'kde'"):
        EvaluateConfig(forecast_methods=["kde"])
    with pytest.raises(ConfigError, match=r"\[evaluate\] key 'kit_methods' has unknown method 'random'"):
        EvaluateConfig(kit_methods=["random"])


def test_explicit_folds_are_followed_and_gaps_are_said(study):
    """With --train/--test the forecasts and kits run that one fold; a fold with a gap in training is skipped."""
    from hotspots.evaluate.config import EvaluateConfig
    from hotspots.evaluate.forecast.config import FAST_CONFIG
    from hotspots.evaluate.forecast.evaluation import evaluate_forecasts
    from hotspots.evaluate.rolling import evaluate_study

    ecfg = EvaluateConfig(
        source="city_violence_2020",
        methods=["counts"],
        coverages=[0.05],
        forecast_methods=["poisson"],
        kit_methods=["greedy"],
        rank_draws=0,
    )
    ev = evaluate_study(study, ecfg, train="2020-01..2020-09", test="2020-10..2020-12")
    fe = evaluate_forecasts(study, ev, ecfg=ecfg, fcfg=FAST_CONFIG)
    assert fe is not None and fe.notes == []
    assert len(fe.backtest.results) == 1 and fe.backtest.results["train_end"].iloc[0] == "2020-09"
    assert fe.kits is not None and len(fe.kits) == 1 and fe.kits["test_end"].iloc[0] == "2020-12"
    ev = evaluate_study(study, ecfg, train="2020-01..2020-05,2020-07..2020-09", test="2020-10..2020-12")
    fe = evaluate_forecasts(study, ev, ecfg=ecfg, fcfg=FAST_CONFIG)
    assert fe is not None and len(fe.backtest.results) == 0
    assert "is not an expanding window over consecutive months" in fe.notes[0]
    assert "kits were not tested on the future" in fe.notes[1]
