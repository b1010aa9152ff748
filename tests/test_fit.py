"""tfdl.training.fit: one configuration trained and recorded in the shared record shape."""

from tfdl import training
from tfdl.models import mlp
from tfdl.training.runs import final, fmt

import keras
import numpy as np


def _splits(n=200):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    return {"train": (x, y), "val": (x[:50], y[:50]), "test": (x[50:100], y[50:100])}


def test_record_shape_and_values_match_the_loop(tmp_path):
    splits = _splits()
    model = training.compile_model(mlp(4, [8], 2, kernel_initializer="glorot_uniform"), 0.1)
    run = training.fit(model, splits, batch_size=50, epochs=3, seed=1, curves=("val", "test"),
                       run_dir=tmp_path)
    assert set(run) == {"final", "curves", "train", "epoch_loss", "steps", "diverged", "wall_s",
                        "loss_noise"}
    assert run["steps"] == 12 and not run["diverged"] and len(run["epoch_loss"]) == 3
    for name in ("val", "test"):
        curve = run["curves"][name]
        assert curve["step"] == [0, 4, 8, 12]  # step 0 and every epoch of 4 steps
        assert len(curve["loss"]) == len(curve["accuracy"]) == 4
    assert run["curves"]["test"]["loss"][-1] == training.evaluate(model, *splits["test"])["loss"]
    assert run["final"]["test"] == training.evaluate(model, *splits["test"])
    assert run["train"]["step"] == list(range(1, 13)) and len(run["train"]["loss"]) == 12


def test_same_batches_and_numbers_as_train(tmp_path):
    splits = _splits()

    def model():
        init = keras.initializers.GlorotUniform(seed=3)
        return training.compile_model(mlp(4, [8], 2, kernel_initializer=init), 0.1)

    a, b = model(), model()
    run = training.fit(a, splits, batch_size=32, steps=20, seed=5, final=("train",))
    result = training.train(b, *splits["train"], batch_size=32, steps=20, seed=5)
    np.testing.assert_array_equal(run["train"]["loss"], result.losses)
    assert run["final"]["train"] == training.evaluate(b, *splits["train"])
    assert run["curves"] == {}


def test_a_diverged_run_records_none_and_logs_diverged():
    x, y = _splits()["train"]
    model = training.compile_model(mlp(4, [], 2), learning_rate=1e30)
    run = training.fit(model, {"train": (x * 1e6, y), "test": (x, y)}, batch_size=50, steps=20)
    assert run["diverged"] and run["final"]["test"]["accuracy"] is None
    assert f"test accuracy {fmt(final(run))}" == "test accuracy diverged"
