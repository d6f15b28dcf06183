"""The VRU's scope: which recorded crimes count as serious violence, and how much harm each carries.

The default scope follows a VRU's published definition of serious violence (that of the VRU
of the bundled example area: Nottingham City and Nottinghamshire VRU, Policy Committee report,
November 2020, para. 9); ``[scope]`` overrides it for another VRU. It focuses on:

1. weapon-enabled violent offences in public spaces and domestic addresses;
2. assaults, from actual bodily harm (ABH) up to homicide;
3. weapon-enabled robbery;
4. county lines, as it relates to violence and/or gang conflict;
5. serious night-time-economy (NTE) violence such as GBH, rather than general disorder;
6. serious sexual violence, specifically rape;
7. knife possession.

What police.uk can and cannot separate
--------------------------------------
police.uk street-level files carry only 14 broad categories and the month. So:

* ``Violence and sexual offences`` mixes common assault, harassment and stalking with
  ABH, GBH, homicide and rape. It **cannot separate** scope items 1, 2, 5 and 6 from
  less serious violence, nor weapon-enabled from other violence, nor domestic from
  public. It is used whole as the ``violence_sexual`` proxy.
* ``Robbery`` cannot separate **weapon-enabled** robbery (item 3): ``robbery`` proxy.
* ``Possession of weapons`` mixes knives, firearms and other offensive weapons; it
  cannot isolate **knife possession** (item 7): ``weapons_possession`` proxy.
* ``Drugs`` is mostly possession; **county lines** (item 4) cannot be identified from
  it. It is out of scope by default; map it to ``drugs_supply_proxy`` to include it.
* **NTE violence** (item 5) cannot be identified by time (police.uk has no time of day);
  it is approximated in the pipeline by proximity to NTE venues.
* ``Public order`` is "general disorder", which the VRU scope excludes.

Local force data with Home Office offence codes can separate them: the default
:data:`OFFENCE_CODE_SCOPE` maps common codes to the fine categories (``homicide``,
``gbh_serious_wounding``, ``abh``, ``rape``, ``robbery_personal``, ...). Check the codes
against the Home Office Counting Rules edition your force uses and override in
``[scope.offence_codes]``.

Harm weights
------------
A harm weight per category lets hotspots weigh a homicide above a common assault. The
defaults are **category-level proxies in relative units** (``violence_sexual`` = 1),
drawn from the ONS Crime Severity Score (CSS) offence weights (the average sentence
days, in the spirit of the Cambridge Crime Harm Index) for the offence mix of each
police.uk category:

* ``violence_sexual`` 1.0: the category is roughly one third violence without injury,
  one quarter violence with injury, one third stalking and harassment and under a tenth
  sexual offences; its mix-weighted CSS weight is of the order of 100.
* ``robbery`` 4.0: mostly robbery of personal property, CSS weight of the order of 400-500.
* ``weapons_possession`` 1.5: possession of an article with a blade or point and of
  other weapons, CSS weight of the order of 150.
* ``drugs_supply_proxy`` 0.3: mostly possession, which carries little weight.

The fine (offence-code) categories use the same scale: homicide 70, rape 18,
GBH/serious wounding 10, ABH 1.5, robbery of personal property 4.5, of business
property 5, knife possession 1.8, drug trafficking 2.5. These are approximate and
documented as such; override any of them in ``[scope.harm]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

OUT_OF_SCOPE = "out"

# Coarse categories (police.uk) and fine categories (Home Office offence codes).
SCOPE_CATEGORIES: dict[str, str] = {
    "violence_sexual": "Violence and sexual offences (police.uk): proxy for scope items 1, 2, 5, 6",
    "robbery": "Robbery (police.uk): proxy for weapon-enabled robbery",
    "weapons_possession": "Possession of weapons (police.uk): proxy for knife possession",
    "drugs_supply_proxy": "Drugs (police.uk): weak proxy for county lines; off by default",
    "homicide": "Murder, manslaughter, infanticide",
    "attempted_murder": "Attempted murder",
    "gbh_serious_wounding": "Wounding with intent / GBH, endangering life",
    "abh": "Assault with injury (ABH)",
    "rape": "Rape (all ages and sexes)",
    "robbery_personal": "Robbery of personal property",
    "robbery_business": "Robbery of business property",
    "knife_possession": "Possession of article with blade or point",
    "weapons_other": "Possession of other weapons and firearms",
    "drug_trafficking": "Trafficking in controlled drugs (county-lines proxy)",
}
"""Every scope category with a one-line description."""

CRIME_TYPE_SCOPE: dict[str, str] = {
    "Violence and sexual offences": "violence_sexual",
    "Robbery": "robbery",
    "Possession of weapons": "weapons_possession",
    "Drugs": OUT_OF_SCOPE,
    "Public order": OUT_OF_SCOPE,
    "Anti-social behaviour": OUT_OF_SCOPE,
    "Bicycle theft": OUT_OF_SCOPE,
    "Burglary": OUT_OF_SCOPE,
    "Criminal damage and arson": OUT_OF_SCOPE,
    "Other crime": OUT_OF_SCOPE,
    "Other theft": OUT_OF_SCOPE,
    "Shoplifting": OUT_OF_SCOPE,
    "Theft from the person": OUT_OF_SCOPE,
    "Vehicle crime": OUT_OF_SCOPE,
}
"""Default mapping of police.uk ``Crime type`` to scope category. Unknown types are out of scope."""

OFFENCE_CODE_SCOPE: dict[str, str] = {
    "1": "homicide",
    "4.1": "homicide",
    "4.2": "homicide",
    "2": "attempted_murder",
    "5D": "gbh_serious_wounding",
    "5E": "gbh_serious_wounding",
    "8N": "abh",
    "8P": "abh",
    "19C": "rape",
    "19D": "rape",
    "19E": "rape",
    "19F": "rape",
    "19G": "rape",
    "19H": "rape",
    "34A": "robbery_business",
    "34B": "robbery_personal",
    "10D": "knife_possession",
    "10A": "weapons_other",
    "10C": "weapons_other",
    "92A": "drug_trafficking",
}
"""Default mapping of Home Office offence codes to fine scope categories (takes precedence
over the crime type when a source has codes). Codes not listed fall back to the crime type."""

HARM_WEIGHTS: dict[str, float] = {
    "violence_sexual": 1.0,
    "robbery": 4.0,
    "weapons_possession": 1.5,
    "drugs_supply_proxy": 0.3,
    "homicide": 70.0,
    "attempted_murder": 30.0,
    "gbh_serious_wounding": 10.0,
    "abh": 1.5,
    "rape": 18.0,
    "robbery_personal": 4.5,
    "robbery_business": 5.0,
    "knife_possession": 1.8,
    "weapons_other": 1.5,
    "drug_trafficking": 2.5,
}
"""Default harm weight per category (relative units, ``violence_sexual`` = 1; basis above)."""

YOUTH_CATEGORIES = (
    "robbery",
    "robbery_personal",
    "weapons_possession",
    "knife_possession",
    "violence_sexual",
    "gbh_serious_wounding",
    "abh",
)
"""Categories counted as youth-relevant violence by default (outreach)."""


def resolve(
    crime_types: dict[str, str] | None = None,
    offence_codes: dict[str, str] | None = None,
    harm: dict[str, float] | None = None,
) -> tuple[dict[str, str], dict[str, str], dict[str, float]]:
    """Merge user overrides over the defaults; returns (crime_types, offence_codes, harm)."""
    return (
        {**CRIME_TYPE_SCOPE, **(crime_types or {})},
        {**OFFENCE_CODE_SCOPE, **(offence_codes or {})},
        {**HARM_WEIGHTS, **(harm or {})},
    )


def assign_scope(
    crime_type: pd.Series,
    offence_code: pd.Series | None = None,
    *,
    crime_types: dict[str, str] | None = None,
    offence_codes: dict[str, str] | None = None,
    harm: dict[str, float] | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Map categories (and offence codes) to VRU scope categories and harm weights.

    Parameters
    ----------
    crime_type
        The source's category per row (police.uk ``Crime type``).
    offence_code
        Home Office offence codes per row, or None. A known code wins over the crime type.
    crime_types, offence_codes, harm
        Overrides merged over :data:`CRIME_TYPE_SCOPE`, :data:`OFFENCE_CODE_SCOPE`,
        :data:`HARM_WEIGHTS`.

    Returns
    -------
    scope : Series of str
        Scope category, or ``"out"`` for rows outside the VRU scope.
    harm : Series of float
        Harm weight (0 for out-of-scope rows).

    Examples
    --------
    >>> s, h = assign_scope(pd.Series(["Robbery", "Shoplifting"]))
    >>> list(s), list(h)
    (['robbery', 'out'], [4.0, 0.0])
    """
    ct_map, oc_map, weights = resolve(crime_types, offence_codes, harm)
    # map the few distinct categories (and a missing one), then spread them over the rows:
    # the same answer as mapping every row, without hashing every row's string
    rows, uniq = pd.factorize(crime_type)
    rows = np.where(rows >= 0, rows, len(uniq))
    types = pd.Series([*uniq, np.nan], dtype=object).map(ct_map).fillna(OUT_OF_SCOPE).astype(object)
    scope = pd.Series(types.to_numpy()[rows], index=crime_type.index, dtype=object, name=crime_type.name)
    if offence_code is None:
        weight_of_type = types.map(weights).fillna(0.0).astype(float).to_numpy()
        return scope, pd.Series(weight_of_type[rows], index=crime_type.index, name=crime_type.name)
    codes = offence_code.astype("string").str.strip().str.upper()
    by_code = codes.map({k.upper(): v for k, v in oc_map.items()})
    scope = by_code.where(by_code.notna(), scope).astype(object)
    weight = scope.map(weights).fillna(0.0).astype(float)
    return scope, weight
