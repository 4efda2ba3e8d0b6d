#!/usr/bin/env bash
# One step for a newcomer: install the Debian packages, then build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
