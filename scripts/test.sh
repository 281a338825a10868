#!/usr/bin/env bash
# Install everything the tests need on a fresh machine, then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
apt_install() {
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  fi
}
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
# PostgreSQL (tests/postgres.py), nginx in front of four processes (tests/test_deployment.py),
# Sentinel failover and a TLS Redis (tests/test_redis_deployments.py).
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v redis-sentinel >/dev/null || missing+=(redis-sentinel)
command -v openssl >/dev/null || missing+=(openssl)
# The browser tests (tests/test_browser.py) drive Debian's Chromium; they fail without it.
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
bash scripts/bootstrap.sh requirements-dev.txt
# The Socket.IO JavaScript client that tests/test_chat.py drives (tests/node).
command -v node >/dev/null || apt_install nodejs npm
if [ ! -d tests/node/node_modules ] || [ tests/node/package-lock.json -nt tests/node/node_modules ]; then
  npm ci --silent --prefix tests/node
  touch tests/node/node_modules
fi
# Two workers, one test module each at a time (module fixtures stay in one process): most of a
# test is waiting for servers, so two run in about the time of one on a 2-core machine.
exec .venv/bin/python -m pytest -n 2 --dist loadfile "$@"
