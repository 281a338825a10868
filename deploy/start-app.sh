#!/usr/bin/env bash
# Run one watchparty process in the foreground: `python wsgi.py` (APP_SERVER=wsgi, the
# default) or gunicorn (APP_SERVER=gunicorn). Settings come from the environment (R4).
# SIGTERM drains the process (R184): exec, so the signal reaches it.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-.venv/bin/python}"
case "${APP_SERVER:-wsgi}" in
  wsgi) exec "$python" wsgi.py ;;
  gunicorn) exec "$python" -m gunicorn -c gunicorn.conf.py wsgi:app ;;
  *) echo "APP_SERVER must be wsgi or gunicorn" >&2; exit 2 ;;
esac
