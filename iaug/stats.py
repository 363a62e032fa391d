"""Statistics for comparing systems: confidence intervals over seeds, a
paired per-utterance test (exact McNemar) and a paired test over seeds."""

import math

from scipy.stats import binomtest, t, ttest_rel


def mean_ci(values, confidence=0.95):
    """(mean, half-width of the two-sided t confidence interval); 0 for one value."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, float("nan")
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, float(t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)


def mcnemar(correct_a, correct_b):
    """Exact McNemar test on paired decisions (iterables of bools).

    Returns (a_only, b_only, p): utterances only A got right, only B got
    right, and the two-sided exact p-value of the discordant split.
    """
    a_only = b_only = 0
    for a, b in zip(correct_a, correct_b, strict=True):
        a_only += a and not b
        b_only += b and not a
    n = a_only + b_only
    p = 1.0 if n == 0 else binomtest(a_only, n, 0.5).pvalue
    return a_only, b_only, p


def paired_t(a, b):
    """Two-sided paired t test of per-seed values ``a`` against ``b`` (same
    seeds, same order): (mean of a - b, p). Fewer than two seeds: p is NaN;
    differences all equal: p is 1 when they are 0, else 0."""
    if len(a) != len(b):
        raise ValueError(f"paired_t: {len(a)} values against {len(b)}")
    diffs = [x - y for x, y in zip(a, b)]
    mean = sum(diffs) / len(diffs) if diffs else float("nan")
    if len(diffs) < 2:
        return mean, float("nan")
    if max(diffs) - min(diffs) <= 1e-12 * max(1.0, abs(mean)):
        return mean, 1.0 if abs(mean) <= 1e-12 else 0.0
    return mean, float(ttest_rel(a, b).pvalue)
