#!/usr/bin/env bash
# Set up the environment, then run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV="${NAS_VENV:-.venv}"
exec "$VENV/bin/nas" plugins "$@"
