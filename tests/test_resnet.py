"""tfdl.models.resnet: ResNet-18's parameter counts against torchvision's, small inputs and
widths, and the torchvision state-dict round trip."""

from tfdl.models.resnet import (
    load_torchvision_state,
    load_weights,
    resnet18,
    torchvision_state,
)

import numpy as np
from conftest import count_weights as _count

TORCHVISION_RESNET18_PARAMS = 11_689_512  # sum(p.numel() for p in resnet18().parameters())
BN_RUNNING_STATS = 9_600  # 2 x 4,800 batch-norm channels (torchvision buffers)
TORCHVISION_TENSORS = 102  # resnet18().state_dict() minus its 20 num_batches_tracked


def test_resnet18_parameter_count_matches_torchvision():
    model = resnet18(classes=1000)
    assert _count(model.trainable_weights) == TORCHVISION_RESNET18_PARAMS
    assert _count(model.non_trainable_weights) == BN_RUNNING_STATS
    assert model.output_shape == (None, 1000)


def test_resnet18_small_inputs_and_width():
    model = resnet18((32, 32, 3), classes=8, width=8)
    assert model.output_shape == (None, 8)
    assert model.get_layer("layer4_1_relu2").output.shape[1:] == (1, 1, 64)
    assert model(np.zeros((2, 32, 32, 3), np.float32)).shape == (2, 8)


def test_torchvision_state_round_trip(tmp_path):
    source = resnet18((32, 32, 3), classes=10, width=8)
    for layer in source.layers:  # non-trivial running statistics
        if layer.name.startswith("bn1") or "_bn" in layer.name:
            mean, var = layer.moving_mean, layer.moving_variance
            mean.assign(np.random.rand(*mean.shape).astype("float32"))
            var.assign(1 + np.random.rand(*var.shape).astype("float32"))
    state = torchvision_state(source)
    assert len(state) == TORCHVISION_TENSORS
    assert state["conv1.weight"].shape == (8, 3, 7, 7)
    assert state["layer2.0.downsample.0.weight"].shape == (16, 8, 1, 1)
    assert state["fc.weight"].shape == (10, 64)
    np.savez(tmp_path / "state.npz", **state,
             **{"bn1.num_batches_tracked": np.array(0)})  # torchvision's extra buffers are ignored
    target = resnet18((32, 32, 3), classes=10, width=8)
    load_weights(target, tmp_path / "state.npz")
    x = np.random.rand(3, 32, 32, 3).astype("float32")
    np.testing.assert_allclose(target(x, training=False), source(x, training=False), atol=1e-5)
    other_head = resnet18((32, 32, 3), classes=2, width=8)
    load_torchvision_state(other_head, state)  # a 2-class head keeps its own initialization
    np.testing.assert_array_equal(other_head.get_layer("conv1").get_weights()[0],
                                  source.get_layer("conv1").get_weights()[0])
