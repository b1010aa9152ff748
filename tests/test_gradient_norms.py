"""tfdl.callbacks.GradientNorms: per-layer gradient norms every N steps."""

from tfdl import callbacks as cb
from tfdl import training
from tfdl.analysis.hessian import gradient_norm
from tfdl.models import mlp

import numpy as np
import pytest


def test_gradient_norms_total_is_the_norm_of_the_whole_gradient():
    x = np.linspace(-1, 1, 20, dtype=np.float32)[:, None]
    y = np.cos(x)
    model = training.compile_model(mlp(1, [4], 1, output_activation=None), 0.01, loss="mse",
                                   optimizer="adam", metrics=())
    norms = cb.GradientNorms((x, y), "mse", every=1)
    training.train(model, x, y, batch_size=20, steps=3, callbacks=[norms])
    assert len(norms.total) == 4
    model_now = norms.total[-1]
    assert model_now == pytest.approx(gradient_norm(model, x, y, "mse"), rel=1e-5)
    kernel_only = np.sqrt(sum(values[-1] ** 2 for values in norms.norms.values()))
    assert model_now >= kernel_only
