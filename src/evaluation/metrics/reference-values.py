"""Independent reference values for the metric specs (numpy only; scikit-learn's algorithms
re-implemented from their documented definitions). Run: python3 reference-values.py

Nothing here is imported by the service; the specs carry the printed numbers, and this file says
where they came from. Each function mirrors the scikit-learn / fairlearn / numpy definition named
in its docstring, computed over explicitly materialised rows (never weights), so that it shares
no shortcut with the TypeScript implementation.
"""

import json

import numpy as np

MASK64 = (1 << 64) - 1
MASK32 = (1 << 32) - 1


class Xoshiro128StarStar:
    """https://prng.di.unimi.it/xoshiro128starstar.c, state from splitmix64.c."""

    def __init__(self, seed):
        x = seed

        def splitmix():
            nonlocal x
            x = (x + 0x9E3779B97F4A7C15) & MASK64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
            return z ^ (z >> 31)

        a, b = splitmix(), splitmix()
        self.s = [a & MASK32, a >> 32, b & MASK32, b >> 32]

    def next(self):
        s = self.s
        rotl = lambda v, k: ((v << k) | (v >> (32 - k))) & MASK32
        result = (rotl((s[1] * 5) & MASK32, 7) * 9) & MASK32
        t = (s[1] << 9) & MASK32
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 11)
        return result

    def below(self, n):
        """Lemire: floor(x*n / 2^32), rejecting while (x*n mod 2^32) < (2^32 mod n)."""
        threshold = (1 << 32) % n
        while True:
            m = self.next() * n
            if (m & MASK32) >= threshold:
                return m >> 32


def roc_auc(y, s):
    """sklearn roc_auc_score: ROC points at each distinct score, area by the trapezoid rule."""
    if y.min() == y.max():
        return None
    desc = np.argsort(-s, kind="mergesort")
    s, y = s[desc], y[desc]
    last = np.r_[np.where(np.diff(s))[0], len(s) - 1]
    tps = np.cumsum(y)[last]
    fps = np.cumsum(1 - y)[last]
    tpr = np.r_[0, tps] / tps[-1]
    fpr = np.r_[0, fps] / fps[-1]
    return float(np.trapezoid(tpr, fpr))


def classification(y, s, threshold, eps=np.finfo(np.float64).eps):
    """sklearn accuracy/precision/recall/f1 (zero_division -> 0), log_loss (clip to [eps, 1-eps]),
    brier_score_loss."""
    pred = (s >= threshold).astype(int)
    tp = int(((pred == 1) & (y == 1)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    tn = int(((pred == 0) & (y == 0)).sum())
    p = np.clip(s, eps, 1 - eps)
    return {
        "tp": tp, "fp": fp, "fn": fn, "tn": tn,
        "accuracy": (tp + tn) / len(y),
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "f1": 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else 0.0,
        "rocAuc": roc_auc(y, s),
        "logLoss": float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))),
        "brierScore": float(np.mean((s - y) ** 2)),
    }


def fairness(y, s, groups, threshold, eligible):
    """fairlearn-style: over eligible groups present, max-min selection rate, min/max ratio,
    TPR / FPR differences over groups where they are defined."""
    pred = s >= threshold
    sel, tpr, fpr = [], [], []
    for g in eligible:
        m = groups == g
        if m.sum() == 0:
            continue
        sel.append(pred[m].mean())
        if (y[m] == 1).any():
            tpr.append(pred[m & (y == 1)].mean())
        if (y[m] == 0).any():
            fpr.append(pred[m & (y == 0)].mean())
    diff = lambda r: float(max(r) - min(r)) if len(r) >= 2 else None
    eo = [d for d in (diff(tpr), diff(fpr)) if d is not None]
    return {
        "demographicParityDifference": diff(sel),
        "disparateImpact": float(min(sel) / max(sel)) if len(sel) >= 2 and max(sel) > 0 else None,
        "equalizedOddsDifference": max(eo) if eo else None,
        "equalOpportunityDifference": diff(tpr),
    }


def bootstrap(y, s, groups, threshold, min_group_size, resamples, seed, level):
    """Percentile bootstrap as docs/metrics.md: positions in stable ascending score order, n draws
    a resample, np.quantile (method='linear') of the defined values."""
    n = len(y)
    order = np.argsort(s, kind="stable")
    names, sizes = np.unique(groups, return_counts=True)
    eligible = names[sizes >= min_group_size]
    rng = Xoshiro128StarStar(seed)
    values = {}
    for _ in range(resamples):
        rows = order[[rng.below(n) for _ in range(n)]]
        figures = classification(y[rows], s[rows], threshold)
        figures.update(fairness(y[rows], s[rows], groups[rows], threshold, eligible))
        for k, v in figures.items():
            values.setdefault(k, []).append(v)
    alpha = (1 - level) / 2
    out = {}
    for k in ["accuracy", "precision", "recall", "f1", "rocAuc", "logLoss", "brierScore",
              "demographicParityDifference", "disparateImpact", "equalizedOddsDifference",
              "equalOpportunityDifference"]:
        defined = np.array([v for v in values[k] if v is not None], dtype=float)
        lo, hi = np.quantile(defined, [alpha, 1 - alpha]) if len(defined) else (None, None)
        out[k] = [None if lo is None else float(lo), None if hi is None else float(hi), len(defined)]
    return out


def regression(y, yhat):
    """sklearn mean_squared_error**0.5, mean_absolute_error, r2_score (force_finite=True)."""
    ss_res = float(((y - yhat) ** 2).sum())
    ss_tot = float(((y - y.mean()) ** 2).sum())
    return {
        "rmse": float(np.sqrt(ss_res / len(y))),
        "mae": float(np.abs(y - yhat).mean()),
        "r2": (1.0 if ss_res == 0 else 0.0) if ss_tot == 0 else 1 - ss_res / ss_tot,
    }


def drift(values, bins):
    """Edges: np.quantile(method='inverted_cdf') at j/bins, de-duplicated, the maximum dropped;
    bins right-closed."""
    q = np.quantile(values, np.arange(1, bins) / bins, method="inverted_cdf")
    edges = [e for e in np.unique(q) if e < values.max()]
    counts = np.bincount(np.searchsorted(edges, values, side="left"), minlength=len(edges) + 1)
    return {"edges": [float(e) for e in edges], "proportions": (counts / len(values)).tolist()}


def psi(b, a, eps=1e-4):
    b, a = np.maximum(np.array(b), eps), np.maximum(np.array(a), eps)
    return float(((a - b) * np.log(a / b)).sum())


# The small classification set of classification.spec.ts: ties at 0.4 across both classes.
Y10 = np.array([0, 0, 1, 1, 0, 1, 0, 1, 1, 0])
S10 = np.array([0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.65, 0.4, 0.2, 0.05])

# The bootstrap set of bootstrap.spec.ts (24 rows, scores with ties, two groups and a small one).
Y24 = np.array([1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 1])
S24 = np.array([0.82, 0.35, 0.4, 0.6, 0.91, 0.12, 0.4, 0.55, 0.4, 0.07, 0.73, 0.28,
                0.5, 0.66, 0.19, 0.44, 0.35, 0.88, 0.61, 0.02, 0.47, 0.33, 0.5, 0.79])
G24 = np.array(["f", "m", "f", "m", "f", "m", "f", "m", "f", "m", "f", "m",
                "f", "m", "f", "m", "f", "m", "f", "m", "f", "m", "x", "x"])

if __name__ == "__main__":
    r = Xoshiro128StarStar(42)
    out = {
        "prng": {
            "seed42": [r.next() for _ in range(6)],
            "below10_seed42": (lambda g: [g.below(10) for _ in range(8)])(Xoshiro128StarStar(42)),
        },
        "classification10": classification(Y10, S10, 0.5),
        "classification10_t04": classification(Y10, S10, 0.4),
        "float32_clip": float(-np.log(np.float64(np.finfo(np.float32).eps))),
        "bootstrap24": bootstrap(Y24, S24, G24, 0.5, 3, 40, 2024, 0.9),
        "point24": {**classification(Y24, S24, 0.5), **fairness(Y24, S24, G24, 0.5, ["f", "m"])},
        "regression": regression(np.array([3.0, -0.5, 2.0, 7.0, 4.2]), np.array([2.5, 0.0, 2.0, 8.0, 3.9])),
        "drift": drift(np.array([1, 2, 2, 2, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9, 9, 9, 10, 11, 12], dtype=float), 4),
        "drift_deciles": drift(np.arange(1, 101, dtype=float), 10),
        "psi": psi([0.25, 0.25, 0.5], [0.2, 0.4, 0.4]),
        "psi_empty": psi([0.5, 0.5, 0.0], [0.4, 0.5, 0.1]),
    }
    print(json.dumps(out, indent=1))
