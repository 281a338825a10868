#!/usr/bin/env bash
# Cron as a service: `flask expire-rooms` (R43) every EXPIRE_ROOMS_EVERY_SECONDS (default 300).
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-.venv/bin/python}"
every="${EXPIRE_ROOMS_EVERY_SECONDS:-300}"
trap 'exit 0' TERM INT
while true; do
  "$python" -m flask --app wsgi expire-rooms || echo "expire-rooms failed; trying again in ${every}s" >&2
  sleep "$every" & wait $!
done
