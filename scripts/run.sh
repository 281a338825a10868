#!/usr/bin/env bash
# Serve HTTP and Socket.IO on HOST:PORT (default 127.0.0.1:5000), migrating first (SPEC R1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh requirements.txt
export WATCHPARTY_AUTO_MIGRATE="${WATCHPARTY_AUTO_MIGRATE:-1}"
exec .venv/bin/python wsgi.py
