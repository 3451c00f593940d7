#!/usr/bin/python3
"""Writes the metric fixtures that SharpCtr.Training.Tests read (the tests never run Python).

Run with Debian's python (it has sklearn and scipy):
    /usr/bin/python3 tools/sklearn/make_metric_fixtures.py
Outputs JSON under tests/SharpCtr.Training.Tests/Fixtures/. Deterministic (fixed seeds).
Scores are float32 so that C# reads back exactly the values scikit-learn saw.
"""
import json
import os

import numpy as np
from scipy import stats
from sklearn.metrics import log_loss, roc_auc_score

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                   "tests", "SharpCtr.Training.Tests", "Fixtures")


def f32_list(a):
    return [float(x) for x in np.asarray(a, dtype=np.float32)]


def group_aucs(scores, labels, groups):
    """Per-group AUC with sklearn, only for groups holding both classes."""
    out = {}
    for g in np.unique(groups):
        mask = groups == g
        y = labels[mask]
        if y.min() != y.max():
            out[int(g)] = (float(roc_auc_score(y, scores[mask])), int(mask.sum()))
    return out


def auc_case(name, rng, n, n_groups, decimals, pos_rate):
    # Rounding makes many exact ties, within and across classes.
    logits = rng.normal(size=n) + 0.8 * (rng.random(n) < pos_rate)
    labels = (rng.random(n) < 1 / (1 + np.exp(-(logits - 0.5)))).astype(np.int64)
    probs = np.round(1 / (1 + np.exp(-logits)), decimals).astype(np.float32)
    probs[:3] = [0.0, 1.0, 0.5]  # exercise clipping in LogLoss
    groups = rng.integers(-n_groups // 4, n_groups - n_groups // 4, size=n)  # negative ids too
    per = group_aucs(probs, labels, groups)
    aucs = np.array([v[0] for v in per.values()])
    counts = np.array([v[1] for v in per.values()])
    return {
        "name": name,
        "scores": f32_list(probs),
        "labels": [int(x) for x in labels],
        "groups": [int(x) for x in groups],
        "auc": float(roc_auc_score(labels, probs)),
        "logloss": float(log_loss(labels, probs.astype(np.float64), eps=1e-7)),
        "gauc": float(np.sum(aucs * counts) / np.sum(counts)),
        "uauc": float(np.mean(aucs)),
        "groups_counted": len(per),
        "groups_total": int(len(np.unique(groups))),
        "per_group": [{"group": g, "auc": a, "count": c} for g, (a, c) in sorted(per.items())],
    }


def delong_slow(scores_a, scores_b, labels):
    """Textbook DeLong with the full m x n kernel matrix: the reference for the fast C# one."""
    pos, neg = labels == 1, labels == 0
    m, n = pos.sum(), neg.sum()
    v10, v01, aucs = [], [], []
    for s in (scores_a, scores_b):
        x, y = s[pos][:, None].astype(np.float64), s[neg][None, :].astype(np.float64)
        psi = (x > y) + 0.5 * (x == y)
        aucs.append(psi.mean())
        v10.append(psi.mean(axis=1))
        v01.append(psi.mean(axis=0))
    s10, s01 = np.cov(np.array(v10)), np.cov(np.array(v01))
    var = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / m + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / n
    z = (aucs[0] - aucs[1]) / np.sqrt(var)
    return aucs[0], aucs[1], float(np.sqrt(var)), float(z), float(2 * stats.norm.sf(abs(z)))


def delong_case(name, rng, n, decimals, strength_b):
    labels = (rng.random(n) < 0.3).astype(np.int64)
    base = rng.normal(size=n) + 1.0 * labels
    a = np.round(base + 0.5 * rng.normal(size=n), decimals).astype(np.float32)
    b = np.round(base + strength_b * rng.normal(size=n), decimals).astype(np.float32)
    auc_a, auc_b, se, z, p = delong_slow(a, b, labels)
    return {"name": name, "scores_a": f32_list(a), "scores_b": f32_list(b), "labels": [int(x) for x in labels],
            "auc_a": float(auc_a), "auc_b": float(auc_b), "se": se, "z": z, "p": p}


def ttest_case(name, rng, n, shift):
    a = 0.80 + 0.002 * rng.normal(size=n)
    b = a - shift + 0.001 * rng.normal(size=n)
    r = stats.ttest_rel(a, b)
    return {"name": name, "a": [float(x) for x in a], "b": [float(x) for x in b],
            "t": float(r.statistic), "p": float(r.pvalue)}


def main():
    rng = np.random.default_rng(20261122)
    auc = [
        auc_case("many_ties", rng, 3000, 120, 1, 0.3),
        auc_case("few_ties", rng, 5000, 400, 4, 0.2),
        auc_case("large_groups", rng, 4000, 8, 2, 0.5),
    ]
    delong = [
        delong_case("close", rng, 1500, 2, 0.6),
        delong_case("apart", rng, 2000, 3, 1.5),
    ]
    ttest = [ttest_case("three_seeds", rng, 3, 0.001), ttest_case("five_seeds", rng, 5, 0.0005),
             ttest_case("ten_seeds_no_effect", rng, 10, 0.0)]
    t_cdf = [{"t": t, "df": df, "cdf": float(stats.t.cdf(t, df))}
             for t in (-12.0, -3.5, -1.0, -0.1, 0.0, 0.7, 2.0, 4.3, 30.0) for df in (1, 2, 4.5, 9, 30, 200)]
    normal = [{"z": z, "two_sided_p": float(2 * stats.norm.sf(abs(z)))} for z in (0.0, 0.3, 1.0, 1.96, 3.0, 5.0, 8.0)]
    os.makedirs(OUT, exist_ok=True)
    for name, obj in (("auc_cases.json", auc), ("delong_cases.json", delong),
                      ("significance_cases.json", {"ttest": ttest, "t_cdf": t_cdf, "normal": normal})):
        with open(os.path.join(OUT, name), "w") as f:
            json.dump(obj, f, separators=(",", ":"))
        print("wrote", os.path.join(OUT, name))


if __name__ == "__main__":
    main()
