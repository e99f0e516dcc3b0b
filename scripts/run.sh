#!/usr/bin/env bash
# Set up the environment, then run the main job: a hardware-aware search on the digits data set
# (a small CNN space, RegularizedEvolution under a FLOPs bound, 2 worker processes, under 3 minutes).
# Extra arguments go to `nas search` (e.g. --overwrite to start over, --max-trials 10).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV="${NAS_VENV:-.venv}"
"$VENV/bin/nas" search examples/digits.toml "$@"
exec "$VENV/bin/nas" results examples/runs/digits --limit 10
