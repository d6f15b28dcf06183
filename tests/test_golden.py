"""The golden test: the default run's output tables equal the recorded digest.

Recorded before the package was restructured, so that the move is proven neutral; every
deliberate change of behaviour since re-records ``tests/golden/digest.json`` in the same
commit and lists the table diff (``python scripts/golden.py diff OLD NEW``) in its message.
"""

from __future__ import annotations

import importlib.util
import json
import sys

from conftest import ROOT

_spec = importlib.util.spec_from_file_location("golden", ROOT / "scripts" / "golden.py")
assert _spec is not None and _spec.loader is not None
golden = importlib.util.module_from_spec(_spec)
sys.modules["golden"] = golden
_spec.loader.exec_module(golden)


def test_default_run_tables_equal_the_golden_digest(tmp_path):
    out = golden.run_default(tmp_path / "run")
    expected = json.loads(golden.DIGEST.read_text(encoding="utf-8"))
    actual = golden.digest(out)
    problems = golden.compare(expected, actual)
    assert not problems, (
        "the default run's tables differ from tests/golden/digest.json:\n  "
        + "\n  ".join(problems)
        + "\nIf the change is deliberate, show it with `python scripts/golden.py diff OLD_RUN NEW_RUN`, "
        "re-record with `python scripts/golden.py record NEW_RUN` and list the diff in the commit message."
    )


def test_canonical_form_ignores_last_bit_float_noise():
    import pandas as pd

    a = golden.canonical(pd.DataFrame({"x": [0.1 + 0.2, 1.0, float("nan")], "s": ["a", None, "c"]}))
    b = golden.canonical(pd.DataFrame({"x": [0.3, 1.0 + 1e-15, float("nan")], "s": ["a", None, "c"]}))
    assert a.equals(b)
    c = golden.canonical(pd.DataFrame({"x": [0.3001, 1.0, float("nan")], "s": ["a", None, "c"]}))
    assert not a.equals(c)
