"""Statistics for comparing systems: confidence intervals over seeds, a
paired per-utterance test (exact McNemar), a paired test over seeds, and the
benchmark's rule for a win."""

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


ALPHA = 0.05          # significance of every test of the rule
WIN_REDUCTION = 25.0  # % relative clean-error reduction against conventional noise (the paper's 23-25 %)
MIN_SEEDS = 5         # seeds a verdict needs


def outcome(diff, p_mcnemar, p_t, n_seeds, alpha=ALPHA):
    """win / lose / tie of one row against another: lower (higher) error,
    significant by McNemar pooled over seeds and, with two seeds or more, by
    the paired t test over seeds."""
    significant = p_mcnemar < alpha and (n_seeds < 2 or p_t < alpha)
    if significant and diff < 0:
        return "win"
    if significant and diff > 0:
        return "lose"
    return "tie"


def verdict(clean_reduction, clean_outcome, lowest_noisy, noisy_outcomes, n_seeds):
    """The benchmark's verdict on ImportantAug, in words: it wins when its
    clean error is at least WIN_REDUCTION % below conventional noise's and
    that is a significant win (``clean_outcome``), and its noisy mean is the
    lowest (``lowest_noisy``) with a significant win against every rival
    (``noisy_outcomes``); before MIN_SEEDS seeds it only "leads" or not."""
    ok = (clean_reduction >= WIN_REDUCTION and clean_outcome == "win" and lowest_noisy
          and all(o == "win" for o in noisy_outcomes))
    if n_seeds >= MIN_SEEDS:
        return "**wins**" if ok else "**does not win**"
    return ("**leads**" if ok else "**does not lead**") + \
        f" (not decided: {n_seeds} of the {MIN_SEEDS} seeds a verdict needs)"
