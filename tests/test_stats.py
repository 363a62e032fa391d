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
