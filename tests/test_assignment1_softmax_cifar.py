"""Report 001 (KTH DD2424 Assignment 1): the script's model cost against the analytic gradient,
its template measures, and the quick profile."""

import os

from tfdl.analysis import softmax_gradients as sg
from tfdl.harness.claims import PROTOCOL, holds
from tfdl.harness.cli import load_script

import numpy as np
import pytest
import tensorflow as tf


def _script():
    return load_script("assignment1_softmax_cifar")


def test_model_cost_matches_the_assignment():
    """Keras' L2(lam) on the kernel adds lam * sum(W^2): the compiled loss is J, and one SGD
    step moves W by -eta * (dJ/dW) of the analytic gradient."""
    script = _script()
    lam, eta = 0.7, 0.01
    model = script.build(lam, eta, seed=0)
    assert model.count_params() == 3072 * 10 + 10
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100, 3072)).astype(np.float32)
    y = rng.integers(0, 10, 100)
    w0 = model.get_layer("output").kernel.numpy().T.astype(np.float64)
    b0 = model.get_layer("output").bias.numpy().astype(np.float64)
    xt, yt = tf.constant(x.T, tf.float64), tf.constant(y)
    j = float(sg.cost(xt, yt, tf.constant(w0), tf.constant(b0), lam))
    cost = script._cost_fn(model)(tf.constant(y), model(x))
    assert float(tf.reduce_mean(cost)) == pytest.approx(j, rel=1e-5)
    grad_w, grad_b = sg.analytic_gradients(xt, yt, tf.constant(w0), tf.constant(b0), lam)
    model.train_on_batch(x, y)
    np.testing.assert_allclose(model.get_layer("output").kernel.numpy().T,
                               w0 - eta * grad_w.numpy(), atol=1e-6)
    np.testing.assert_allclose(model.get_layer("output").bias.numpy(),
                               b0 - eta * grad_b.numpy(), atol=1e-6)


def test_template_tv_is_scale_free_and_lower_for_smooth_templates():
    script = _script()
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((10, 3072))
    smooth = np.tile(np.linspace(-1, 1, 32), (10, 3 * 32))  # ramps along each image row
    assert script.template_tv(noise) == pytest.approx(script.template_tv(0.01 * noise))
    assert script.template_tv(smooth) < 0.2 * script.template_tv(noise)
    assert script.jaggedness([5, 1, 2, 1, 2]) == pytest.approx(np.std([1, -1, 1]))


@pytest.mark.skipif(not os.environ.get("TFDL_DATA_DIR"),
                    reason="TFDL_DATA_DIR is unset: the quick profile needs CIFAR-10 "
                           "(../shared/data offline)")
def test_quick_profile(tmp_path):
    script = _script()
    record = script.REPORT.run(profile="quick", logdir=tmp_path)
    rows = {row["id"]: row for row in record["headlines"]}
    must_hold = ["grad.lam0.centred4", "grad.lam0.tape", "grad.lam1.centred4", "grad.lam1.tape",
                 "table1.test1.accuracy_gap", "table1.test1.cost_ratio", "curves.jagged",
                 "curves.smooth_templates"]
    for claim_id in must_hold:
        assert holds(rows[claim_id]), rows[claim_id]
    # the 4-point stencil and GradientTape test our gradient, not the report's
    assert {r["id"] for r in rows.values() if r["kind"] == PROTOCOL} == {
        "grad.lam0.centred4", "grad.lam0.tape", "grad.lam1.centred4", "grad.lam1.tape"}
    metrics = record["experiments"]["four_tests"]["0"]["metrics"]
    epochs = script.PROFILES["quick"]["epochs"]
    assert len(metrics["test2"]["curves"]["train"]["loss"]) == epochs + 1
    assert len(metrics["test1_inits"]["accuracy"]) == script.CHAOS_SEEDS
    # the table says which data the run used
    assert rows["table1.test2.accuracy"]["claim"].endswith("[stand-in]") == metrics["stand_in"]
    # 8 epochs: η=0.001 runs are learning (above 0.3) but not yet at the 40-epoch numbers
    assert 0.30 < metrics["test2"]["final"]["test"]["accuracy"] < 0.42
    for test in (1, 2, 3, 4):
        assert (tmp_path / f"test{test}_templates.png").is_file()
        assert (tmp_path / f"test{test}_loss.png").is_file()
