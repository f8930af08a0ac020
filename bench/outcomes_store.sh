#!/bin/bash
# The outcome evaluation inside the SQLite store at scale: a synthetic population of N people
# (default 1,000,000, about 20.4 million events) loaded into a fresh database, its events
# imported (timed; durable: one transaction, synchronous=FULL), imported again (idempotent),
# then evaluated from the store over a 12-month window (timed, twice).
# Usage: bash bench/outcomes_store.sh [N] [DIR]   (release build; needs ~10 GB free in DIR)
set -euo pipefail
N=${1:-1000000}
DIR=${2:-/tmp/alongside-outcomes-bench}
B=${ALONGSIDE_BIN:-target/release/alongside}
DB="sqlite://$DIR/store.db"
mkdir -p "$DIR"
rm -f "$DIR"/store.db "$DIR"/store.db-wal "$DIR"/store.db-shm
"$B" synth --people "$N" --seed 1 --out "$DIR"
/usr/bin/time -f "load synthetic people: %e s wall, %M KB max RSS" "$B" import synth-people "$DIR" --database "$DB"
/usr/bin/time -f "import events: %e s wall, %M KB max RSS, %U s user, %S s sys" \
  "$B" import events "$DIR/events-store.csv" --organisation "Synthetic population" --database "$DB"
/usr/bin/time -f "import again: %e s wall" \
  "$B" import events "$DIR/events-store.csv" --organisation "Synthetic population" --database "$DB"
for i in 1 2; do
  /usr/bin/time -f "evaluate: %e s wall, %M KB max RSS, %U s user, %S s sys" \
    "$B" evaluate --database "$DB" --from 2023-04-01 --to 2024-03-31 --format json --output "$DIR/report-store.json"
done
ls -la "$DIR"
