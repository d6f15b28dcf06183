"""Checks that need both the configuration and the loaded study.

``hotspots check`` and ``hotspots run`` call them right after loading:

- :func:`check_needs`: every weighted component has its input, so a configuration whose ranking
  or outreach weights use a measure the inputs cannot give (youth need without the IDACI
  numerator, per-resident rates without a population, venue exposure without venues) stops at
  once with one line saying what to add or which weight to set to 0, instead of failing in a
  later stage or silently dropping the measure;
- :func:`check_change_section`: a configured ``[change]`` section's periods and the
  ``[[intervention]]`` register fit the data (periods inside the data, sources with data in both
  periods, known districts, intervention areas and periods), with the change stage's own checks,
  so ``run`` does not stop in its change stage after the others have run.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from hotspots import columns as C
from hotspots.config import Config
from hotspots.errors import ConfigError, HotspotsWarning, InputError
from hotspots.evaluate.change_extras import check_intervention
from hotspots.evaluate.change_stage import ChangeCheck, check_change
from hotspots.prepare.deprivation import idaci_rate
from hotspots.prepare.study import Study

ENGLAND_IOD = "data/iod2019/"
"""Where the bundled England-wide IoD2019 files are (relative to the repository)."""


@dataclass(frozen=True)
class Need:
    """An input a weighted component needs: how to tell it is there, and how to provide it."""

    what: str
    available: Callable[[Study], bool]
    provide: str


def _has_values(study: Study, column: str) -> bool:
    return column in study.lsoa.columns and bool(pd.to_numeric(study.lsoa[column], errors="coerce").notna().any())


def _has_idaci(study: Study) -> bool:
    return bool(idaci_rate(study.lsoa, required=False).notna().any())


def _has_deprivation(study: Study) -> bool:
    return _has_values(study, C.IMD_RANK)


POPULATION = Need(
    "a resident population",
    lambda s: _has_values(s, C.POPULATION),
    "add [deprivation] with domains and population (IoD2019 Files 2 and 6, bundled in "
    f"{ENGLAND_IOD}; or IoD2025 File 7)",
)
VENUES = Need(
    "night-time-economy venues",
    lambda s: s.venues is not None and len(s.venues) > 0,
    'add a [venues] section (bundled: path = "data/nte/open_pubs_2017-08_uk.csv.gz" with clip_to_area = true)',
)
DEPRIVATION = Need(
    "deprivation ranks",
    _has_deprivation,
    f"add [deprivation] (England only: IoD2019 Files 2 and 6 bundled in {ENGLAND_IOD}; or IoD2025 File 7)",
)
IDACI = Need(
    "youth income deprivation (IDACI)",
    _has_idaci,
    "add [deprivation] indicators = the England-wide IoD2019 indicators file (bundled: "
    f"{ENGLAND_IOD}humaniverse_imd2019_england_lsoa11_indicators.csv.gz) with population, or use IoD2025 File 7",
)
CYP = Need(
    "the Children and Young People sub-domain",
    lambda s: _has_values(s, C.CYP_RANK),
    "add [deprivation] subdomains = the England-wide IoD2019 sub-domains file (bundled: "
    f"{ENGLAND_IOD}humaniverse_imd2019_england_lsoa11_subdomains.csv.gz), or use IoD2025 File 7",
)

RANK_NEEDS: dict[str, Need] = {
    "harm_rate": POPULATION,
    "venue_density": VENUES,
    "near_venue_share": VENUES,
    "deprivation": DEPRIVATION,
    "idaci": IDACI,
    "cyp": CYP,
}
"""``[rank] weights`` components that need an input beyond the incidents (the others always have one)."""

OUTREACH_NEEDS: dict[str, Need] = {"idaci": IDACI, "cyp": CYP}
"""``[outreach] weights`` components that need an input beyond the incidents."""


def check_needs(cfg: Config, study: Study, *, stages: list[str] | None = None) -> None:
    """Check that every weighted ranking and outreach component has its input.

    Parameters
    ----------
    cfg
        The configuration (``[rank] weights``, ``[outreach] weights``).
    study
        The loaded study.
    stages
        The stages that will run (default all): ranking needs are checked when ``rank``
        runs, outreach needs when ``sites`` runs.

    Raises
    ------
    ConfigError
        Weights written in the config give weight to a component whose input the study
        lacks: one line naming the components and both fixes (provide the input, or the
        weights to write without them).

    Warns
    -----
    HotspotsWarning
        The same for the default weights (no ``weights`` key in the section): those
        components are left out of the score, and the warning says which and how to keep
        them (or to write the weights explicitly).
    """
    checks: list[tuple[str, dict[str, float], dict[str, Need]]] = []
    if (stages is None or "rank" in stages) and cfg.rank.method == "composite":  # the axes use no weights
        checks.append(("rank", cfg.rank.weights, RANK_NEEDS))
    if stages is None or "sites" in stages:
        checks.append(("outreach", cfg.outreach.weights, OUTREACH_NEEDS))
    for section, weights, needs in checks:
        lacking = [k for k, w in weights.items() if w > 0 and k in needs and not needs[k].available(study)]
        if not lacking:
            continue
        keep = {k: w for k, w in weights.items() if w > 0 and k not in lacking}
        table = "{ " + ", ".join(f"{k} = {w:g}" for k, w in keep.items()) + " }"
        named = ", ".join(f"{k!r} ({weights[k]:g})" for k in lacking)
        what = "; ".join(dict.fromkeys(needs[k].what for k in lacking))
        provide = "; ".join(dict.fromkeys(needs[k].provide for k in lacking))
        explicit = isinstance(cfg.raw.get(section), dict) and "weights" in cfg.raw[section]
        if explicit:
            raise ConfigError(
                f"[{section}] weights give weight to {named}, which need {what}, and the inputs have none for this "
                f"area. Either {provide}; or set weights = {table} in [{section}]."
            )
        warnings.warn(
            f"the default [{section}] weights include {named}, which need {what}, and the inputs have none for this "
            f"area: they are left out and the other weights re-normalised. To use them, {provide}; to say so in the "
            f"config, set weights = {table} in [{section}].",
            HotspotsWarning,
            stacklevel=2,
        )


def check_change_section(cfg: Config, study: Study, *, stages: list[str] | None = None) -> ChangeCheck | None:
    """Check ``[change]`` and the intervention register against the data, as the change stage would.

    Parameters
    ----------
    cfg
        The configuration (``[change]``, ``[[intervention]]``).
    study
        The loaded study.
    stages
        The stages that will run (default all): checked when ``change`` runs.

    Returns
    -------
    ChangeCheck or None
        What the change stage will use (periods, sources, districts, interventions); None
        without a ``[change]`` section (or when the change stage does not run).

    Raises
    ------
    InputError
        Whatever would stop the change stage: periods outside the data, no source with data in
        both periods, unknown districts, intervention areas or periods that do not fit the data
        (see :func:`hotspots.evaluate.change_stage.check_change`).

    Warns
    -----
    HotspotsWarning
        Without ``[change]``, an ``[[intervention]]`` entry that ``hotspots change`` could not use
        (``run`` uses the register only with ``[change]``).
    """
    if stages is not None and "change" not in stages:
        return None
    if cfg.change is None:
        for entry in cfg.intervention:
            try:
                check_intervention(study, entry)
            except InputError as exc:
                warnings.warn(
                    f"{exc} (`hotspots run` uses the register only with a [change] section; `hotspots change` "
                    f"would stop here.)",
                    HotspotsWarning,
                    stacklevel=2,
                )
        return None
    return check_change(study, cfg.change, interventions=cfg.intervention)
