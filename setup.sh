#!/usr/bin/env bash
# Set up hotspots in ./.venv: the package, its dependencies, and the offline map assets.
#   bash setup.sh          # to run the toolkit
#   bash setup.sh --test   # also the test tools (pytest, playwright, ruff, mypy)
# Needs Python 3.11 and pip; reaches only the package registries (PyPI, npm).
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if command -v python3.11 >/dev/null 2>&1; then PY=python3.11; else PY=python3; fi
fi
"$PY" -c 'import sys; assert sys.version_info >= (3, 11), "hotspots needs Python 3.11 or newer"'
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "${1:-}" = "--test" ]; then
  .venv/bin/python -m pip install --quiet -e ".[test]"
else
  .venv/bin/python -m pip install --quiet -e .
fi
# offline map assets: pinned npm packages, integrity-checked, vendored into hotspots/_vendor (idempotent)
.venv/bin/python -m hotspots.assets install
echo "hotspots installed in .venv ($(.venv/bin/hotspots --version))"
