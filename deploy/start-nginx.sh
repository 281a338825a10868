#!/usr/bin/env bash
# Render deploy/nginx.conf from the environment and run nginx in the foreground.
#   NGINX_UPSTREAMS  "host:port host:port …" of the app processes (required)
#   NGINX_LISTEN          what nginx listens on (default 0.0.0.0:8080)
#   NGINX_RUN_DIR         pid file, temp files and the rendered config (default /tmp/watchparty-nginx)
#   NGINX_ACCESS_LOG / NGINX_ERROR_LOG  (default /dev/stdout, /dev/stderr)
#   WATCHPARTY_MAX_CONTENT_LENGTH  bytes, the app's request body limit (default 1048576)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${NGINX_UPSTREAMS:?set NGINX_UPSTREAMS to the app processes, e.g. \"app1:5000 app2:5000\"}"
listen="${NGINX_LISTEN:-0.0.0.0:8080}"
run_dir="${NGINX_RUN_DIR:-/tmp/watchparty-nginx}"
access_log="${NGINX_ACCESS_LOG:-/dev/stdout}"
error_log="${NGINX_ERROR_LOG:-/dev/stderr}"
max_body="${WATCHPARTY_MAX_CONTENT_LENGTH:-1048576}"
workers="${NGINX_WORKERS:-auto}"
mkdir -p "$run_dir"
upstreams=""
for address in $NGINX_UPSTREAMS; do
  upstreams+="        server $address max_fails=1 fail_timeout=2s;\n"
done
sed -e "s|@LISTEN@|$listen|g" -e "s|@RUN_DIR@|$run_dir|g" -e "s|@ACCESS_LOG@|$access_log|g" \
    -e "s|@ERROR_LOG@|$error_log|g" -e "s|@MAX_BODY@|$max_body|g" -e "s|@WORKERS@|$workers|g" \
    -e "s|@UPSTREAMS@|$upstreams|" "$here/nginx.conf" > "$run_dir/nginx.conf"
nginx=$(command -v nginx || echo /usr/sbin/nginx)
"$nginx" -t -q -p "$run_dir" -e "$error_log" -c "$run_dir/nginx.conf"
exec "$nginx" -p "$run_dir" -e "$error_log" -c "$run_dir/nginx.conf" -g 'daemon off;'
