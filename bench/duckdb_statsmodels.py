#!/usr/bin/env python3
"""The comparison pipeline for bench/evaluate_vs_duckdb_statsmodels.sh.

Usage: duckdb_statsmodels.py DIR OUT_JSON

DuckDB reads DIR/people.csv and DIR/events.csv and counts events per observation period
(inclusive dates); statsmodels then fits, for four outcomes, the Poisson GLM with
person-clustered covariance and the NB2 model refined to convergence, exactly as
crates/stats/tests/reference/statsmodels_reference.py does. Writes level 2-4 rate ratios
and alpha to OUT_JSON and step timings to stderr.
"""
import json
import sys
import time
import warnings

import duckdb
import numpy as np
import statsmodels.api as sm

OUTCOMES = ["gp_appointment", "ae_attendance", "emergency_admission", "outpatient_attendance"]
TERMS = ["intercept", "level_2", "level_3", "level_4", "age_40_49", "age_50_59", "age_60_69",
         "age_70_79", "age_80plus", "sex_male", "deprivation_q2", "deprivation_q3",
         "deprivation_q4", "deprivation_q5", "ltc_2", "ltc_3", "ltc_4plus"]


def main():
    d, out_path = sys.argv[1], sys.argv[2]
    t0 = time.time()
    con = duckdb.connect()
    con.execute(f"""
        CREATE TABLE people AS
        SELECT row_number() OVER () - 1 AS period, *
        FROM read_csv('{d}/people.csv', header = true, columns = {{
            'person_id': 'VARCHAR', 'age': 'INTEGER', 'sex': 'VARCHAR',
            'deprivation_decile': 'INTEGER', 'ltc_count': 'INTEGER', 'activation_level': 'INTEGER',
            'follow_up_start': 'DATE', 'follow_up_end': 'DATE'}})""")
    sums = ", ".join(f"count(*) FILTER (WHERE e.type = '{o}') AS {o}" for o in OUTCOMES)
    df = con.execute(f"""
        WITH e AS (
            SELECT * FROM read_csv('{d}/events.csv', header = true, columns = {{
                'person_id': 'VARCHAR', 'date': 'DATE', 'type': 'VARCHAR', 'minor': 'VARCHAR'}}))
        SELECT p.period, p.person_id, p.age, p.sex, p.deprivation_decile, p.ltc_count,
               p.activation_level,
               (p.follow_up_end - p.follow_up_start + 1) / 365.25 AS py, {sums}
        FROM people p
        LEFT JOIN e ON e.person_id = p.person_id
                   AND e.date BETWEEN p.follow_up_start AND p.follow_up_end
        GROUP BY ALL
        ORDER BY p.period""").df()
    t1 = time.time()
    print(f"duckdb aggregation: {t1 - t0:.2f} s, {len(df)} periods", file=sys.stderr)

    age = df["age"].to_numpy()
    band = np.select([age < 40, age < 50, age < 60, age < 70, age < 80], [0, 1, 2, 3, 4], 5)
    q = np.ceil(df["deprivation_decile"].to_numpy() / 2).astype(int)
    ltc = np.minimum(df["ltc_count"].to_numpy(), 4)
    lvl = df["activation_level"].to_numpy()
    cols = [np.ones(len(df))]
    cols += [(lvl == k).astype(float) for k in (2, 3, 4)]
    cols += [(band == k).astype(float) for k in (1, 2, 3, 4, 5)]
    cols += [(df["sex"].to_numpy() == "male").astype(float)]
    cols += [(q == k).astype(float) for k in (2, 3, 4, 5)]
    cols += [(ltc == k).astype(float) for k in (2, 3, 4)]
    X = np.column_stack(cols)
    offset = np.log(df["py"].to_numpy())
    groups = df["person_id"].factorize()[0]
    result = {}
    for o in OUTCOMES:
        t = time.time()
        y = df[o].to_numpy()
        pois = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit(
            cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False})
        t_p = time.time()
        nbm = sm.NegativeBinomial(y, X, loglike_method="nb2", offset=offset)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            first = nbm.fit(disp=0, maxiter=1000)
            nb = nbm.fit(start_params=first.params, method="newton", tol=1e-12, maxiter=100, disp=0)
        t_n = time.time()
        pci, nci = pois.conf_int(), nb.conf_int()
        result[o] = {
            "poisson": {TERMS[j]: [float(np.exp(pois.params[j])), float(np.exp(pci[j, 0])), float(np.exp(pci[j, 1]))] for j in (1, 2, 3)},
            "negative_binomial": {TERMS[j]: [float(np.exp(nb.params[j])), float(np.exp(nci[j, 0])), float(np.exp(nci[j, 1]))] for j in (1, 2, 3)},
            "alpha": float(nb.params[-1]),
        }
        print(f"{o}: poisson {t_p - t:.2f} s, negative binomial {t_n - t_p:.2f} s", file=sys.stderr)
    with open(out_path, "w") as f:
        json.dump(result, f)
    print(f"total: {time.time() - t0:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
