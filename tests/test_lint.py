"""The code passes the project's own lint and type checks (settings in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args], check=False, capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def test_ruff_check():
    res = _run("ruff", "check", "hotspots", "tests", "scripts")
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy(tmp_path):
    res = _run("mypy", "--cache-dir", str(tmp_path / "mypy"), "hotspots")
    assert res.returncode == 0, res.stdout + res.stderr
