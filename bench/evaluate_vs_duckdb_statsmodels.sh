#!/usr/bin/env bash
# Compare `alongside evaluate` with DuckDB + statsmodels on the same synthetic population.
#
# Usage: bench/evaluate_vs_duckdb_statsmodels.sh [PEOPLE (default 1000000)] [SEED (default 1)]
# Env:   ALONGSIDE_BIN     the alongside binary (default target/release/alongside)
#        ALONGSIDE_PYTHON  python with duckdb, statsmodels, pandas, numpy (default python3)
#        BENCH_DIR         where to write the CSVs (default: a new temporary directory)
#        ALONGSIDE_STATS_EXAMPLES  fallback when the binary has no synth/evaluate commands yet:
#                          directory with the crates/stats example binaries `synth` and
#                          `evaluate_files` (default target/release/examples)
#
# Prints wall time and maximum resident memory of each step (GNU time), the ratio, and the
# largest relative difference between the two pipelines' level 2-4 rate ratios.
set -euo pipefail

PEOPLE=${1:-1000000}
SEED=${2:-1}
BIN=${ALONGSIDE_BIN:-target/release/alongside}
PY=${ALONGSIDE_PYTHON:-python3}
EXAMPLES=${ALONGSIDE_STATS_EXAMPLES:-target/release/examples}
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$DIR"

[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 1; }
"$PY" -c "import duckdb, statsmodels, pandas, numpy" 2>/dev/null || {
  echo "needs $PY with duckdb statsmodels pandas numpy: $PY -m pip install duckdb statsmodels pandas numpy" >&2; exit 1; }

if [ -x "$BIN" ] && "$BIN" synth --help >/dev/null 2>&1 && "$BIN" evaluate --help >/dev/null 2>&1; then
  SYNTH=("$BIN" synth --people "$PEOPLE" --seed "$SEED" --out "$DIR")
  EVAL=("$BIN" evaluate --people "$DIR/people.csv" --events "$DIR/events.csv" --format json)
elif [ -x "$EXAMPLES/synth" ] && [ -x "$EXAMPLES/evaluate_files" ]; then
  echo "note: $BIN has no synth/evaluate commands; using $EXAMPLES/synth and evaluate_files" >&2
  SYNTH=("$EXAMPLES/synth" "$PEOPLE" "$SEED" "$DIR")
  EVAL=("$EXAMPLES/evaluate_files" "$DIR" json none)
else
  echo "build first: cargo build --release (or cargo build --release -p alongside-stats --examples)" >&2
  exit 1
fi

measure() { # name, stdout file, stderr file, command...
  local name=$1 out=$2 err=$3; shift 3
  /usr/bin/time -f "%e %M" -o "$DIR/$name.time" "$@" >"$out" 2>"$err"
  read -r wall kb < "$DIR/$name.time"
  printf '%-28s %8.2f s %9.0f MiB max RSS\n' "$name" "$wall" "$(echo "$kb / 1024" | bc -l)"
}

echo "population: $PEOPLE people, seed $SEED, in $DIR"
measure synth /dev/null "$DIR/synth.log" "${SYNTH[@]}"
# The measurement file is not part of the comparison (DuckDB+statsmodels do not use it).
[ -f "$DIR/measurements.csv" ] && mv "$DIR/measurements.csv" "$DIR/measurements.csv.off"
ls -l "$DIR"/people.csv "$DIR"/events.csv | awk '{printf "  %s %.0f MB\n", $9, $5/1000000}'

measure duckdb+statsmodels /dev/null "$DIR/python.log" "$PY" "$HERE/duckdb_statsmodels.py" "$DIR" "$DIR/reference.json"
sed 's/^/  /' "$DIR/python.log"
measure alongside-evaluate "$DIR/report.json" "$DIR/alongside.log" "${EVAL[@]}"
[ -f "$DIR/measurements.csv.off" ] && mv "$DIR/measurements.csv.off" "$DIR/measurements.csv"

read -r w_py _ < "$DIR/duckdb+statsmodels.time"
read -r w_rs _ < "$DIR/alongside-evaluate.time"
echo "ratio (duckdb+statsmodels / alongside): $(echo "$w_py / $w_rs" | bc -l | xargs printf '%.1f')x" \
     "(alongside fits 7 outcomes, the reference 4)"

"$PY" - "$DIR/report.json" "$DIR/reference.json" <<'PYEOF'
import json, sys
ours = {o["outcome"]: o for o in json.load(open(sys.argv[1]))["outcomes"]}
ref = json.load(open(sys.argv[2]))
worst = 0.0
for o, r in ref.items():
    for model in ("poisson", "negative_binomial"):
        terms = {t["term"]: t for t in ours[o]["models"][model]["terms"]}
        for term, (irr, lo, hi) in r[model].items():
            t = terms[term]
            for a, b in ((t["irr"], irr), (t["ci_low"], lo), (t["ci_high"], hi)):
                worst = max(worst, abs(a - b) / abs(b))
    worst = max(worst, abs(ours[o]["models"]["negative_binomial"]["alpha"] - r["alpha"]) / r["alpha"])
print(f"largest relative difference in level 2-4 rate ratios, bounds and alpha: {worst:.2e}")
PYEOF
