"""tfdl.models.budget: layer widths that hit the reports' parameter budgets."""

from tfdl.models import count_params, mlp
from tfdl.models.budget import budget_widths, mlp_params

import pytest


@pytest.mark.parametrize("input_dim, outputs, depth, target, expected", [
    (1, 1, 1, 750, [250]),
    (1, 1, 3, 750, [18, 18, 18]),
    (1, 1, 5, 750, [12, 13, 13, 13, 13]),
    (784, 10, 1, 23_880, [30]),
    (784, 10, 3, 23_880, [28, 28, 28]),
    (784, 10, 5, 23_880, [26, 26, 26, 26, 26]),
    (784, 10, 2, 8_175, [10, 10]),
    (784, 10, 2, 16_640, [20, 20]),
])
def test_budget_widths_hit_the_reports_budgets_within_2_percent(input_dim, outputs, depth,
                                                                target, expected):
    widths = budget_widths(input_dim, outputs, depth, target)
    assert widths == expected
    model = mlp(input_dim, widths, outputs)
    assert count_params(model) == mlp_params(input_dim, widths, outputs)
    assert abs(count_params(model) - target) <= 0.02 * target


def test_budget_widths_refuses_an_unreachable_budget():
    # 784-w-w-10 has at least 784*4 + ... = 3,210 parameters at w = 4 and 2,415 at w = 3.
    with pytest.raises(ValueError, match="within 2%"):
        budget_widths(784, 10, 2, 2_800)


def test_mlp_params_counts_weights_and_biases():
    assert mlp_params(1, [5, 3], 1) == 32  # the report's PCA net
    assert mlp_params(784, [30], 10) == 784 * 30 + 30 + 30 * 10 + 10
