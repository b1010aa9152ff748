"""Networks the reports train: dense stacks (dense), ResNet-18 (resnet), layer widths for a
parameter budget (budget), and losses by name (losses)."""

from tfdl.models.dense import (
    count_params,
    dense_layers,
    functional_mlp,
    mlp,
    normal_init,
    regularizer,
)

__all__ = ["count_params", "dense_layers", "functional_mlp", "mlp", "normal_init", "regularizer"]
