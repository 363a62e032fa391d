"""Statistics for comparing systems: confidence intervals over seeds and a
paired per-utterance test (exact McNemar)."""

import math

from scipy.stats import binomtest, t


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
