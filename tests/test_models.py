from tfdl.models import count_params, functional_mlp, mlp, normal_init

import keras
import numpy as np
import pytest

# 784*256 + 256*10 weights; + 256 + 10 biases.
REPORT_004_WEIGHTS = 203_264
REPORT_004_PARAMS = 203_530


def test_mlp_parameter_counts():
    model = mlp(784, [256], 10, activation="sigmoid")
    assert count_params(model, weights_only=True) == REPORT_004_WEIGHTS
    assert count_params(model) == REPORT_004_PARAMS


def test_report_000_architecture_weight_count():
    # Report 000 row 6 prints 1,342,578,688; 784-512-512-10 has 668,672 weights.
    assert count_params(mlp(784, [512, 512], 10), weights_only=True) == 668_672


def test_zero_and_normal_variance_init():
    zero = mlp(784, [64], 10, kernel_initializer="zeros")
    assert all(not np.any(layer.kernel.numpy()) for layer in zero.layers)
    model = mlp(784, [512], 10, kernel_initializer=normal_init(2.0, seed=1))
    kernel = model.get_layer("layer_1").kernel.numpy()
    assert kernel.var() == pytest.approx(2.0, rel=0.02)
    assert abs(kernel.mean()) < 0.01


def test_seeded_init_is_reproducible_and_differs_per_layer():
    a = mlp(20, [20], 20, kernel_initializer=normal_init(1.0, seed=3))
    b = mlp(20, [20], 20, kernel_initializer=normal_init(1.0, seed=3))
    np.testing.assert_array_equal(a.layers[0].kernel.numpy(), b.layers[0].kernel.numpy())
    assert not np.array_equal(a.layers[0].kernel.numpy(), a.layers[1].kernel.numpy())


def test_per_layer_activations_batch_norm_and_decay():
    model = mlp(2, [16, 16], 33, activation=["sigmoid", "relu"], batch_norm=True, l2=1e-3)
    names = [layer.name for layer in model.layers]
    assert names == ["layer_1", "batch_norm_1", "activation_1", "layer_2", "batch_norm_2",
                     "activation_2", "output"]
    assert model.get_layer("activation_1").activation.__name__ == "sigmoid"
    model(np.ones((4, 2), np.float32))
    assert len(model.losses) == 3  # one L2 term per kernel
    # BN adds gamma/beta (trainable) per hidden unit
    assert count_params(model) == (2 * 16 + 16) + (16 * 16 + 16) + (16 * 33 + 33) + 4 * 16


def test_mismatched_activation_list():
    with pytest.raises(ValueError, match="2 entries for 3 hidden layers"):
        mlp(4, [8, 8, 8], 2, activation=["relu", "relu"])


def test_functional_mlp_matches_sequential_count_and_takes_features():
    assert count_params(functional_mlp(784, [256], 10)) == REPORT_004_PARAMS
    sines = keras.layers.Lambda(lambda x: keras.ops.concatenate([x, keras.ops.sin(3 * x)], axis=-1))
    model = functional_mlp(2, [16], 33, features=sines, skip_input=True)
    # features double the input width; the skip adds the 4 features to the head's input
    assert count_params(model) == (4 * 16 + 16) + ((16 + 4) * 33 + 33)
    assert model(np.zeros((3, 2), np.float32)).shape == (3, 33)


def test_half_squared_error_is_tf1_l2_loss_per_example():
    from tfdl.models.losses import half_squared_error

    y = np.eye(10, dtype=np.float32)[[3, 7]]
    p = np.full((2, 10), 0.1, np.float32)
    expected = 0.5 * ((0.9 ** 2) + 9 * 0.01)
    np.testing.assert_allclose(half_squared_error(y, p), [expected, expected], rtol=1e-6)
    mse = keras.losses.mean_squared_error(y, p)
    np.testing.assert_allclose(half_squared_error(y, p), 5 * mse, rtol=1e-6)


def test_normal_init_by_stddev():
    model = mlp(784, [512], 10, kernel_initializer=normal_init(stddev=2.0, seed=1))
    assert model.get_layer("layer_1").kernel.numpy().std() == pytest.approx(2.0, rel=0.02)
    with pytest.raises(ValueError, match="exactly one"):
        normal_init(variance=1.0, stddev=1.0)
