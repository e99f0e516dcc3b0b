#!/usr/bin/env bash
# Set up the environment, then run the whole test suite (all markers included).
#
# Two pytest runs, each test once: the core's tests (tests/) with NAS_CORE_PLUGINS set to
# empty, so that they pass with no plugin distribution loaded (a test that needs a plugin
# lives in that plugin's tests/ folder), then every plugin's tests (plugins/) with all
# plugins. Extra arguments go to both runs (`bash scripts/test.sh -k registry`); a run
# that selects no test is fine as long as the other one selects some.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV="${NAS_VENV:-.venv}"
# The core's types: the configuration is [tool.mypy] in pyproject.toml; any error fails the run.
"$VENV/bin/python" -m mypy nas_core
set +e
NAS_CORE_PLUGINS= "$VENV/bin/python" -m pytest tests "$@"
core=$?
"$VENV/bin/python" -m pytest plugins "$@"
plugins=$?
set -e
if [ "$core" -eq 5 ] && [ "$plugins" -eq 5 ]; then
  echo "error: pytest collected no tests" >&2
  exit 1
fi
if [ "$core" -ne 0 ] && [ "$core" -ne 5 ]; then
  echo "error: the core's tests failed (tests/, run with NAS_CORE_PLUGINS= : no plugin loaded)" >&2
  exit "$core"
fi
if [ "$plugins" -ne 0 ] && [ "$plugins" -ne 5 ]; then
  echo "error: the plugins' tests failed (plugins/)" >&2
  exit "$plugins"
fi
