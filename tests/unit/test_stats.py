import math

import pytest

from iaug.stats import mcnemar, mean_ci


def test_mean_ci_by_hand():
    mean, half = mean_ci([1.0, 2.0, 3.0])
    # sd = 1, t(0.975, 2) = 4.302653
    assert mean == 2.0
    assert half == pytest.approx(4.302653 / math.sqrt(3), rel=1e-5)
    assert math.isnan(mean_ci([5.0])[1])


def test_mcnemar_exact():
    a = [True] * 10 + [False] * 2 + [True] * 5
    b = [False] * 10 + [True] * 2 + [True] * 5
    a_only, b_only, p = mcnemar(a, b)
    assert (a_only, b_only) == (10, 2)
    # two-sided exact binomial: 2 * P(X <= 2 | n=12, 1/2) = 2 * 79 / 4096
    assert p == pytest.approx(2 * 79 / 4096)
    assert mcnemar([True, False], [True, False])[2] == 1.0
    with pytest.raises(ValueError):
        mcnemar([True], [True, False])


def test_outcome_needs_both_tests_with_two_seeds_or_more():
    from iaug.stats import outcome

    assert outcome(-1.0, 0.01, 0.01, 5) == "win" and outcome(2.0, 0.01, 0.01, 5) == "lose"
    assert outcome(-1.0, 0.01, 0.2, 5) == "tie"   # McNemar alone is not enough
    assert outcome(-1.0, 0.2, 0.01, 5) == "tie"
    assert outcome(-1.0, 0.01, float("nan"), 1) == "win"  # one seed: McNemar decides
    assert outcome(0.0, 0.0, 0.0, 5) == "tie"


def test_verdict_needs_the_reduction_both_wins_and_five_seeds():
    from iaug.stats import MIN_SEEDS, WIN_REDUCTION, verdict

    good = dict(clean_reduction=WIN_REDUCTION, clean_outcome="win", lowest_noisy=True,
                noisy_outcomes=["win", "win"], n_seeds=MIN_SEEDS)
    assert verdict(**good) == "**wins**"
    for change in ({"clean_reduction": WIN_REDUCTION - 0.1}, {"clean_outcome": "tie"},
                   {"lowest_noisy": False}, {"noisy_outcomes": ["win", "tie"]}):
        assert verdict(**{**good, **change}) == "**does not win**", change
    assert verdict(**{**good, "n_seeds": 3}) == "**leads** (not decided: 3 of the 5 seeds a verdict needs)"
    assert verdict(**{**good, "n_seeds": 3, "lowest_noisy": False}).startswith("**does not lead** (not decided")
