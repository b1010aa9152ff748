"""Layer widths for a parameter budget: "about 750 parameters with 1, 3 or 5 hidden layers".

Example:

    widths = budget_widths(1, 1, depth=3, target=750)      # e.g. [16, 18, 18]
    mlp_params(1, widths, 1)                                # within 2% of 750
"""


def mlp_params(input_dim, widths, outputs):
    """Parameters (weights and biases) of a dense network input_dim - widths... - outputs."""
    sizes = [input_dim, *widths, outputs]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def budget_widths(input_dim, outputs, depth, target, tolerance=0.02, max_width=None):
    """Hidden-layer widths whose total parameter count is within `tolerance` of `target`.

    All hidden layers share one width except the first, which may differ (the input layer
    holds most weights of a wide-input net). Among the widths within the tolerance, the most
    uniform are chosen (smallest gap between the first width and the others), then the
    closest count.

    Args:
        input_dim: input features.
        outputs: output units.
        depth: number of hidden layers (>= 1).
        target: the parameter count to approach.
        tolerance: largest relative miss accepted; a `ValueError` is raised beyond it.
        max_width: largest width searched (default: enough for a one-layer net of `target`).

    Returns:
        A list of `depth` widths.
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    if max_width is None:
        max_width = max(2, target // (input_dim + outputs + 1) + 2)
    candidates = []
    for rest in range(1, max_width + 1):
        if depth == 1:
            firsts = [rest]
        else:
            # The count is linear in the first width: slope * first + (the rest of the net).
            slope = input_dim + 1 + rest
            fixed = mlp_params(input_dim, [1] + [rest] * (depth - 1), outputs) - slope
            guess = (target - fixed) / slope
            firsts = {min(max_width, max(1, int(guess) + k)) for k in (0, 1)}
        for first in firsts:
            widths = [first] + [rest] * (depth - 1)
            miss = abs(mlp_params(input_dim, widths, outputs) - target)
            candidates.append(((miss > tolerance * target, abs(first - rest), miss), widths))
    (too_far, _, miss), widths = min(candidates)
    if too_far:
        raise ValueError(f"no widths within {tolerance:.0%} of {target} parameters "
                         f"(closest {widths} misses by {miss / target:.1%})")
    return widths
