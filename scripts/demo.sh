#!/usr/bin/env bash
# README command 1: set everything up on a fresh machine, then render the demo video and print its path.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
exec .venv/bin/draw-to-video demo "$@"
