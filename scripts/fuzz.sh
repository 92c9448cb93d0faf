#!/usr/bin/env bash
# make fuzz: schemathesis over the served OpenAPI schema, every check and every phase
# (stateful included), with a real token from the client credentials given.
#
#   FUZZ_URL            a running server (default: a throwaway one started here, on its own
#                       SQLite file with the demo data and no worker, removed after)
#   FUZZ_DATABASE_URL   an empty database for that throwaway server instead of the SQLite
#                       file, e.g. PostgreSQL: python scripts/pg_cluster.py -- sh -c
#                       'FUZZ_DATABASE_URL=$DATABASE_URL make fuzz' 
#   FUZZ_CLIENT_ID      client id and secret for the token (default: the demo client)
#   FUZZ_CLIENT_SECRET
#   FUZZ_EXAMPLES       cases per operation (default 200)
#   FUZZ_MINUTES        time budget (default 25: a token lasts 30 minutes)
#   ARGS                more schemathesis options (e.g. --seed 1)
#   FUZZ_REPORTS        where the HAR reports are kept (default: a temporary directory)
#
# After the runs, scripts/fuzz_report.py lists what each operation answered and fails when
# one never answered a 2xx.
#
# Against a server with a worker running, point its webhooks at a local receiver first: the
# fuzzer creates subscriptions to addresses it invents.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
CLIENT_ID=${FUZZ_CLIENT_ID:-demo-client}
CLIENT_SECRET=${FUZZ_CLIENT_SECRET:-demo-secret-for-local-use-only}
URL=${FUZZ_URL:-}

if [ -z "$URL" ]; then
    work=$(mktemp -d)
    port=$("$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    URL="http://127.0.0.1:$port"
    export DATABASE_URL="${FUZZ_DATABASE_URL:-sqlite:///$work/fuzz.sqlite3}"
    export DJANGO_SETTINGS_MODULE=config.settings.local
    # No rate limit in the way of a long run.
    export DJANGO_API_RATE_LIMIT_REQUESTS=1000000000 DJANGO_TOKEN_RATE_LIMIT_PER_CLIENT=1000000
    export DJANGO_TOKEN_RATE_LIMIT_PER_ADDRESS=1000000
    "$BIN/python" manage.py migrate --noinput --verbosity 0
    "$BIN/python" manage.py seed_demo --base-url "$URL" >/dev/null
    "$BIN/python" manage.py runserver "127.0.0.1:$port" --noreload >"$work/server.log" 2>&1 &
    server=$!
    trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
    for _ in $(seq 100); do
        curl -sf "$URL/healthz" >/dev/null && break
        sleep 0.2
    done
    echo "fuzzing a throwaway server at $URL on ${DATABASE_URL%%:*} (log: $work/server.log; no worker)"
fi

reports=${FUZZ_REPORTS:-$(mktemp -d)}
mkdir -p "$reports"
token=$(curl -sf -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials "$URL/oauth2/token" |
    "$BIN/python" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
basic=$(printf '%s:%s' "$CLIENT_ID" "$CLIENT_SECRET" | base64 -w0)

# tests/fuzz_checks.py adds our check; schemathesis.toml (found from here) sets the rest.
# The OAuth endpoints take the client's Basic credentials; the API the bearer token.
status=0
SCHEMATHESIS_HOOKS=tests.fuzz_checks PYTHONPATH=. "$BIN/schemathesis" run "$URL/api/v1/openapi.json" \
    --checks all \
    --phases examples,coverage,fuzzing,stateful \
    --report har --report-har-path "$reports/api.har" \
    --max-examples "${FUZZ_EXAMPLES:-200}" \
    --max-time "$(( ${FUZZ_MINUTES:-25} * 60 ))" \
    --header "Authorization: Bearer $token" \
    --exclude-path-regex '^/oauth2/' \
    ${ARGS:-} || status=$?
SCHEMATHESIS_HOOKS=tests.fuzz_checks PYTHONPATH=. "$BIN/schemathesis" run "$URL/api/v1/openapi.json" \
    --checks all \
    --include-path-regex '^/oauth2/' \
    --report har --report-har-path "$reports/oauth2.har" \
    --max-examples "${FUZZ_EXAMPLES:-200}" \
    --header "Authorization: Basic $basic" \
    ${ARGS:-} || status=$?

echo
"$BIN/python" scripts/fuzz_report.py "$URL/api/v1/openapi.json" "$reports/api.har" "$reports/oauth2.har" ||
    status=1
[ -n "${FUZZ_REPORTS:-}" ] || rm -rf "$reports"
exit $status
