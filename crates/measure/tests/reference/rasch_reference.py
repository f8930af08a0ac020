#!/usr/bin/env python3
"""Independent reference implementation of Alongside's `rasch` scoring, for known-answer tests.

It reads instrument definition JSON files itself and computes the partial credit model
maximum-likelihood person measure by plain bisection (no Newton-Raphson, no shared code with the
Rust crate), so that the Rust implementation can be checked against it.

Model (thresholds relative to the item difficulty):
    P(X_i = k | theta) ∝ exp( sum_{j=1..k} (theta - delta_i - tau_ij) ),  k = 0..m_i
Raw score r over the answered items (not-applicable codes count as missing); r = 0 is replaced
by a, r = M by M - a (a = scoring.extreme_adjustment, default 0.3). Solve
sum_i E_i(theta) = r; standard error = 1 / sqrt(sum_i Var_i(theta)).

Usage:  python3 rasch_reference.py CASES.json
CASES.json: {"cases": [{"instrument": PATH, "patterns": [{"name": ..., "answers": {link_id: code}}]}]}
Paths are relative to the current directory. Prints {"results": [...]} as JSON on stdout, one
result per pattern, in order. Needs numpy (pip install numpy). Synthetic data only.
"""

import json
import sys

try:
    import numpy as np
except ImportError:  # pragma: no cover - reported to the Rust test
    sys.stderr.write(
        "rasch_reference.py needs numpy: run the project's test script, or `pip install numpy`\n"
    )
    sys.exit(3)


def load_instrument(path):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    sc = d["scoring"]
    if sc["model"] != "rasch":
        raise SystemExit(f"{path}: not a rasch instrument")
    shared = sc.get("shared_thresholds")
    cal = {c["link_id"]: c for c in sc["items"]}
    items = {}
    for item in d["items"]:
        na = set(item.get("not_applicable", []))
        codes = {}
        for o in item["options"]:
            codes[o["code"]] = None if o["code"] in na else int(o["score"])
        c = cal[item["link_id"]]
        tau = c.get("thresholds")
        if tau is None:
            tau = shared
        items[item["link_id"]] = {
            "codes": codes,
            "delta": float(c["difficulty"]),
            "tau": np.array(tau, dtype=float),
        }
    return {
        "id": d["id"],
        "items": items,
        "adjustment": float(sc.get("extreme_adjustment", 0.3)),
        "min_answered": int(d["quality"]["min_answered"]),
    }


def category_probs(theta, delta, tau):
    # log-weights: l_0 = 0, l_k = sum_{j<=k} (theta - delta - tau_j)
    logw = np.concatenate(([0.0], np.cumsum(theta - delta - tau)))
    logw -= logw.max()
    w = np.exp(logw)
    return w / w.sum()


def expected_and_variance(theta, answered):
    e_total = 0.0
    v_total = 0.0
    for it in answered:
        p = category_probs(theta, it["delta"], it["tau"])
        k = np.arange(len(p), dtype=float)
        e = float(np.dot(k, p))
        v = float(np.dot((k - e) ** 2, p))
        e_total += e
        v_total += v
    return e_total, v_total


def score(inst, answers):
    answered = []
    raw = 0
    for link_id, code in answers.items():
        item = inst["items"][link_id]  # KeyError = unknown item: a broken case file
        s = item["codes"][code]
        if s is None:
            continue
        answered.append(item)
        raw += s
    result = {"items_answered": len(answered), "raw_score": raw}
    if len(answered) < inst["min_answered"]:
        result["status"] = "not_scored"
        return result
    m_total = sum(len(it["tau"]) for it in answered)
    a = inst["adjustment"]
    target = a if raw == 0 else (m_total - a if raw == m_total else float(raw))
    lo, hi = -100.0, 100.0
    for _ in range(400):
        mid = 0.5 * (lo + hi)
        e, _ = expected_and_variance(mid, answered)
        if e < target:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-13:
            break
    theta = 0.5 * (lo + hi)
    _, info = expected_and_variance(theta, answered)
    result.update(
        status="scored",
        measure=theta,
        standard_error=1.0 / np.sqrt(info),
        target_raw=target,
    )
    return result


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: rasch_reference.py CASES.json")
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    out = []
    for case in cases:
        inst = load_instrument(case["instrument"])
        for pat in case["patterns"]:
            r = score(inst, pat["answers"])
            r["instrument"] = inst["id"]
            r["name"] = pat["name"]
            out.append(r)
    json.dump({"results": out}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
