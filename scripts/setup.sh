#!/usr/bin/env bash
# Create .venv (if needed) and install torch==2.13.0 first, then nas-core and every plugin.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${NAS_VENV:-.venv}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
# Re-install only when a pyproject changed since the last successful setup.
STAMP="$VENV/.nas-setup-stamp"
SUM="$(find pyproject.toml plugins -name pyproject.toml -not -path '*/node_modules/*' | sort | xargs cat | sha256sum | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$SUM" ]; then
  exit 0
fi
"${PIP[@]}" install --upgrade pip setuptools wheel
"${PIP[@]}" install "torch==2.13.0"
args=(-e ".[test]")
for p in plugins/*/; do
  [ -f "$p/pyproject.toml" ] || continue
  if grep -q '^test = ' "$p/pyproject.toml"; then
    args+=(-e "${p%/}[test]")  # with its test extra (e.g. the dashboard's playwright and httpx2)
  else
    args+=(-e "$p")
  fi
done
"${PIP[@]}" install --no-build-isolation "${args[@]}"
echo "$SUM" > "$STAMP"
