"""tfdl.callbacks.WeightTrajectory: flattened kernels every N steps."""

from tfdl import callbacks as cb
from tfdl import training
from tfdl.models import mlp

import numpy as np


def test_weight_trajectory_records_the_flattened_kernels_every_n_steps():
    x = np.linspace(-1, 1, 40, dtype=np.float32)[:, None]
    model = training.compile_model(mlp(1, [5, 3], 1, output_activation=None), 0.01, loss="mse",
                                   optimizer="adam", metrics=())
    initial_layer_2 = model.get_layer("layer_2").kernel.numpy().ravel()
    layer = cb.WeightTrajectory(every=2, layers=["layer_2"], kernels_only=True)
    whole = cb.WeightTrajectory(every=2)
    training.train(model, x, np.cos(x), batch_size=10, steps=6, callbacks=[layer, whole])
    assert layer.steps == [0, 2, 4, 6] and layer.matrix.shape == (4, 15)
    assert whole.matrix.shape == (4, 32)
    np.testing.assert_array_equal(layer.matrix[0], initial_layer_2)
    final_layer_2 = model.get_layer("layer_2").kernel.numpy().ravel()
    np.testing.assert_array_equal(layer.matrix[-1], final_layer_2)
    assert np.linalg.norm(layer.matrix[-1] - layer.matrix[0]) > 0
