#!/usr/bin/env bash
# Health coaching pages at scale (issue 4): a coach's caseload page (60 people, their goals and
# next sessions) and the coordinator's waiting list (5,000 referrals), over HTTP, on the demo
# dataset enlarged to about 100,000 people (95,000 demo people, plus the 5,060 the scenarios add).
#
# Usage: bash bench/coaching_pages.sh [DIR]
#        (release builds: cargo build --release -p alongside -p alongside-loadgen)
# Env:   ALONGSIDE_BIN   the alongside binary (default target/release/alongside)
#        LOADGEN_BIN     the load generator (default target/release/alongside-loadgen)
#        DEMO_PEOPLE     demo people before the scenarios add theirs (default 95000)
#        CLIENTS         concurrent clients (default 4)   DURATION  seconds per run (default 20)
set -euo pipefail

BIN=${ALONGSIDE_BIN:-target/release/alongside}
LOADGEN=${LOADGEN_BIN:-target/release/alongside-loadgen}
DIR=${1:-$(mktemp -d)}
PEOPLE=${DEMO_PEOPLE:-95000}
CLIENTS=${CLIENTS:-4}
DURATION=${DURATION:-20}
PORT=${PORT:-18581}
DB="sqlite://$DIR/coaching.db"
export ALONGSIDE_PASSWORD=demo-password-1

mkdir -p "$DIR"
echo "== demo data: $PEOPLE people ($DB)"
/usr/bin/time -f "%e s, %M KB" "$BIN" demo --no-serve --people "$PEOPLE" --database "$DB"

"$BIN" serve --database "$DB" --listen "127.0.0.1:$PORT" >"$DIR/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
until curl -sf "127.0.0.1:$PORT/health" >/dev/null; do sleep 0.1; done

echo "== caseload page: bench.coach with 60 open episodes"
"$LOADGEN" --url "http://127.0.0.1:$PORT" --scenario caseload-page --username bench.coach \
  --prepare-database "$DB" --clients "$CLIENTS" --duration "$DURATION"

echo "== waiting list: 5,000 waiting referrals, random pages of 50"
"$LOADGEN" --url "http://127.0.0.1:$PORT" --scenario waiting-list --username coordinator \
  --prepare-database "$DB" --clients "$CLIENTS" --duration "$DURATION"

sqlite3 "$DIR/coaching.db" "SELECT COUNT(*) FROM people" 2>/dev/null | sed 's/^/people in the database: /' || true
