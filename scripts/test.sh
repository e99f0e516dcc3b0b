#!/usr/bin/env bash
# Set up the environment, then run the whole test suite (all markers included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV="${NAS_VENV:-.venv}"
# The core's types: the configuration is [tool.mypy] in pyproject.toml; any error fails the run.
"$VENV/bin/python" -m mypy nas_core
set +e
"$VENV/bin/python" -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "error: pytest collected no tests" >&2
  exit 1
fi
exit "$rc"
