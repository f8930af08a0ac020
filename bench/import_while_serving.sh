#!/usr/bin/env bash
# Audited page views while a 20-million-event import runs (issue 11): p99 latency of a health
# coach opening the records of people on their caseload (GET /people/{id}, an audited read, so a
# write) at a steady rate, while `alongside import events` loads a 1,000,000-person synthetic
# population's events (20,407,716 events) into the same SQLite database.
#
# Usage: bash bench/import_while_serving.sh [DIR]
#        (release builds: cargo build --release -p alongside -p alongside-loadgen)
# Env:   ALONGSIDE_BIN  the alongside binary (default target/release/alongside)
#        LOADGEN_BIN    the load generator (default target/release/alongside-loadgen)
#        PEOPLE         synthetic population (default 1000000)
#        RATE           page views a second across all clients (default 50)
#        CLIENTS        signed-in clients (default 4)      PORT  (default 18781)
#        PREPARE_ONLY   set to 1 to build DIR/base.db and stop
#
# DIR/base.db (built once, about 5 minutes: the population's people and questionnaires, then
# the demo organisation, whose coach `coach` has a caseload) is copied for every run, so the
# import always goes into a database without those events. Build it with the OLDEST binary you
# will compare: a newer binary's migrations cannot be opened by an older one.
# The load generator keeps sending page views until the import process ends, and reports the
# latency of those due while it ran (each counted from when it was due: see
# crates/loadgen/src/steady.rs); every view is in DIR/timeline.csv (due s, latency ms, ok).
set -euo pipefail

BIN=${ALONGSIDE_BIN:-target/release/alongside}
LOADGEN=${LOADGEN_BIN:-target/release/alongside-loadgen}
DIR=${1:-/tmp/alongside-import-bench}
PEOPLE=${PEOPLE:-1000000}
RATE=${RATE:-50}
CLIENTS=${CLIENTS:-4}
PORT=${PORT:-18781}
export ALONGSIDE_PASSWORD=demo-password-1
mkdir -p "$DIR"

if [ ! -f "$DIR/base.db" ]; then
  echo "== building $DIR/base.db"
  [ -f "$DIR/events.csv" ] || "$BIN" synth --people "$PEOPLE" --seed 1 --out "$DIR"
  rm -f "$DIR"/building.db*
  /usr/bin/time -f "synthetic people: %e s" \
    "$BIN" import synth-people "$DIR" --database "sqlite://$DIR/building.db"
  /usr/bin/time -f "demo organisation: %e s" \
    "$BIN" demo --no-serve --database "sqlite://$DIR/building.db" >/dev/null
  # A process may leave its last writes in the WAL: keep it with the database.
  [ -f "$DIR/building.db-wal" ] && mv "$DIR/building.db-wal" "$DIR/base.db-wal"
  rm -f "$DIR/building.db-shm"
  mv "$DIR/building.db" "$DIR/base.db"
fi
[ "${PREPARE_ONLY:-0}" = 1 ] && exit 0

RUN="$DIR/run.db"
rm -f "$RUN" "$RUN-wal" "$RUN-shm"
cp "$DIR/base.db" "$RUN"
[ -f "$DIR/base.db-wal" ] && cp "$DIR/base.db-wal" "$RUN-wal"
# Write the copy out first: otherwise the kernel writes back 1.7 GB while the server commits,
# and its first fsyncs wait for that (about a second), import or not.
sync
"$BIN" serve --database "sqlite://$RUN" --listen "127.0.0.1:$PORT" >"$DIR/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
until curl -sf "127.0.0.1:$PORT/health" >/dev/null; do sleep 0.1; done
echo "== warming up: 5 s of person pages, no import"
"$LOADGEN" --url "http://127.0.0.1:$PORT" --scenario person-page --username coach \
  --clients "$CLIENTS" --rate "$RATE" --duration 5 | tail -1

echo "== import of $(($(wc -l <"$DIR/events-store.csv") - 1)) events, with $RATE person pages a second"
/usr/bin/time -f "import events: %e s wall, %M KB max RSS" \
  "$BIN" import events "$DIR/events-store.csv" --organisation "Synthetic population" \
  --database "sqlite://$RUN" >"$DIR/import.log" 2>&1 &
IMPORT=$!
"$LOADGEN" --url "http://127.0.0.1:$PORT" --scenario person-page --username coach \
  --clients "$CLIENTS" --rate "$RATE" --while-running "$IMPORT" --duration 900 \
  --timeline "$DIR/timeline.csv" || true
wait "$IMPORT"
cat "$DIR/import.log"
