#!/usr/bin/env python3
"""Reference fits with statsmodels for crates/stats/tests/statsmodels_reference.rs.

Usage: statsmodels_reference.py DIR  (reads DIR/people.csv and DIR/events.csv, prints JSON)

Independently of the Rust code it: counts events per observation period (inclusive dates),
codes the covariates exactly as docs/outcomes.md says, fits for each outcome
  GLM(y, X, family=Poisson(), offset=log(py)).fit(cov_type='cluster',
      cov_kwds={'groups': person, 'use_correction': False})
  NegativeBinomial(y, X, loglike_method='nb2', offset=log(py)).fit()
      refined with .fit(start_params=res.params, method='newton', tol=1e-12, maxiter=100)
and computes crude rates with exact (Garwood) intervals from scipy's chi-square quantiles.
"""
import json
import sys
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

TERMS = ["intercept", "level_2", "level_3", "level_4", "age_40_49", "age_50_59", "age_60_69",
         "age_70_79", "age_80plus", "sex_male", "deprivation_q2", "deprivation_q3",
         "deprivation_q4", "deprivation_q5", "ltc_2", "ltc_3", "ltc_4plus"]
OUTCOMES = ["gp_appointment", "gp_dna", "ae_attendance", "ae_minor", "emergency_admission",
            "outpatient_attendance", "outpatient_dna"]


def design(people):
    age = people["age"].to_numpy()
    band = np.select([age < 40, age < 50, age < 60, age < 70, age < 80], [0, 1, 2, 3, 4], 5)
    q = np.ceil(people["deprivation_decile"].to_numpy() / 2).astype(int)
    ltc = np.minimum(people["ltc_count"].to_numpy(), 4)
    lvl = people["activation_level"].to_numpy()
    cols = [np.ones(len(people))]
    cols += [(lvl == k).astype(float) for k in (2, 3, 4)]
    cols += [(band == k).astype(float) for k in (1, 2, 3, 4, 5)]
    cols += [(people["sex"].to_numpy() == "male").astype(float)]
    cols += [(q == k).astype(float) for k in (2, 3, 4, 5)]
    cols += [(ltc == k).astype(float) for k in (2, 3, 4)]
    return pd.DataFrame(np.column_stack(cols), columns=TERMS)


def main():
    d = sys.argv[1]
    people = pd.read_csv(f"{d}/people.csv", dtype={"person_id": str})
    events = pd.read_csv(f"{d}/events.csv", dtype={"person_id": str, "minor": str},
                         keep_default_na=False)
    people["start"] = pd.to_datetime(people["follow_up_start"])
    people["end"] = pd.to_datetime(people["follow_up_end"])
    people["period"] = np.arange(len(people))
    people["py"] = ((people["end"] - people["start"]).dt.days + 1) / 365.25
    events["date"] = pd.to_datetime(events["date"])
    ev = events.merge(people[["person_id", "period", "start", "end"]], on="person_id")
    ev = ev[(ev["date"] >= ev["start"]) & (ev["date"] <= ev["end"])]
    minor = ev["minor"].str.lower().isin(["true", "1"])
    counts = {}
    for o in OUTCOMES:
        if o == "ae_minor":
            sel = ev[(ev["type"] == "ae_attendance") & minor]
        else:
            sel = ev[ev["type"] == o]
        counts[o] = sel.groupby("period").size().reindex(people["period"], fill_value=0).to_numpy()
    X = design(people)
    groups = pd.factorize(people["person_id"])[0]
    offset = np.log(people["py"].to_numpy())
    out = {"periods": int(len(people)), "events_counted": int(len(ev)), "outcomes": {}}
    for o in OUTCOMES:
        y = counts[o]
        res = {}
        crude = []
        for lvl in (1, 2, 3, 4, None):
            m = np.ones(len(people), bool) if lvl is None else people["activation_level"].to_numpy() == lvl
            n = int(y[m].sum())
            py = float(people["py"].to_numpy()[m].sum())
            lo = 0.0 if n == 0 else stats.chi2.ppf(0.025, 2 * n) / 2
            hi = stats.chi2.ppf(0.975, 2 * n + 2) / 2
            crude.append({"level": lvl, "events": n, "person_years": py,
                          "rate": 1000 * n / py, "ci_low": 1000 * lo / py, "ci_high": 1000 * hi / py})
        res["crude"] = crude
        pois = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit(
            cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False})
        res["poisson"] = summarise(pois)
        nbm = sm.NegativeBinomial(y, X, loglike_method="nb2", offset=offset)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            first = nbm.fit(disp=0, maxiter=1000)
            nb = nbm.fit(start_params=first.params, method="newton", tol=1e-12, maxiter=100, disp=0)
        res["negative_binomial"] = summarise(nb)
        res["negative_binomial"]["alpha"] = float(nb.params["alpha"])
        res["negative_binomial"]["alpha_se"] = float(nb.bse["alpha"])
        res["negative_binomial"]["max_abs_score"] = float(np.abs(nbm.score(np.asarray(nb.params))).max())
        res["negative_binomial"]["default_fit_max_abs_score"] = float(np.abs(nbm.score(np.asarray(first.params))).max())
        out["outcomes"][o] = res
    out["activation_change"] = activation(f"{d}/measurements.csv")
    json.dump(out, sys.stdout)


def activation(path):
    """Change in activation with the definitions of docs/outcomes.md, if the file exists."""
    import os
    if not os.path.exists(path):
        return None
    m = pd.read_csv(path, dtype={"person_id": str})
    m["order"] = np.arange(len(m))
    m["date"] = pd.to_datetime(m["date"])
    m = m.sort_values(["person_id", "date", "order"], kind="stable")
    g = m.groupby("person_id", sort=False)
    first, last = g.head(1).set_index("person_id"), g.tail(1).set_index("person_id")
    twice = last["date"] > first.loc[last.index, "date"]
    change = (last["score"] - first.loc[last.index, "score"])[twice]
    n = len(change)
    mean, sd = float(change.mean()), float(change.std(ddof=1))
    half = stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n)
    m = m.join(first[["date", "score"]].rename(columns={"date": "d0", "score": "s0"}), on="person_id")
    days = (m["date"] - m["d0"]).dt.days
    window = m[(days > 0) & (days <= 365)]
    fu = window.groupby("person_id", sort=False).tail(1)
    improved = int(((fu["score"] - fu["s0"]) >= 3 - 1e-9).sum())
    movement = np.zeros((4, 4), dtype=int)
    fl = first.loc[change.index, "level"].to_numpy()
    ll = last.loc[change.index, "level"].to_numpy()
    for a, b in zip(fl, ll):
        movement[a - 1, b - 1] += 1
    return {"people_measured": int(len(first)), "people_measured_twice": n, "mean_change": mean,
            "sd_change": sd, "ci_low": mean - half, "ci_high": mean + half,
            "eligible": int(len(fu)), "improved": improved, "movement": movement.tolist()}


def summarise(r):
    ci = r.conf_int()
    return {t: {"coef": float(r.params[t]), "se": float(r.bse[t]), "irr": float(np.exp(r.params[t])),
                "ci_low": float(np.exp(ci.loc[t, 0])), "ci_high": float(np.exp(ci.loc[t, 1])),
                "p": float(r.pvalues[t])} for t in TERMS}


if __name__ == "__main__":
    main()
