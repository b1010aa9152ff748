"""Test-wide settings (quiet TensorFlow, no writes to the user's home, no network) and the
helpers several test files share."""

import importlib.util
import os
import tempfile

_HOME = tempfile.mkdtemp(prefix="tfdl-test-home-")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_HOME", os.path.join(_HOME, "keras"))
os.environ.setdefault("MPLCONFIGDIR", os.path.join(_HOME, "matplotlib"))
os.environ.setdefault("TFDS_DATA_DIR", os.path.join(_HOME, "tensorflow_datasets"))

import keras  # noqa: E402
import pytest  # noqa: E402

# Report 003's part 3 needs the cnn extra (scikit-learn, XGBoost).
needs_extra = pytest.mark.skipif(
    not all(importlib.util.find_spec(m) for m in ("sklearn", "xgboost")),
    reason="scikit-learn / xgboost missing: pip install -e .[cnn]")


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)


@pytest.fixture
def add_reproduction(tmp_path, monkeypatch):
    """`add(name, source)` writes reproductions/<name>.py into a temporary folder that
    `tfdl list / run / report` then use (TFDL_REPRODUCTIONS), and returns its path; the test
    runs in `tmp_path`, so `logs/` lands there."""
    folder = tmp_path / "reproductions"
    folder.mkdir()
    monkeypatch.setenv("TFDL_REPRODUCTIONS", str(folder))
    monkeypatch.chdir(tmp_path)

    def add(name, source):
        path = folder / f"{name}.py"
        path.write_text(source)
        return path

    return add


@pytest.fixture(scope="module")
def quick_run(request, tmp_path_factory):
    """`(logdir, record)` of the test module's report run once with its quick profile.

    The module names the report in `REPORT_NAME`, optionally the experiments in
    `QUICK_EXPERIMENTS`, and sets `NEEDS_DATA = True` when the report reads the data
    directory (the tests then skip, saying why, where `TFDL_DATA_DIR` is unset).
    """
    from tfdl.harness.cli import load_report
    from tfdl.harness.table import format_table

    module = request.module
    if getattr(module, "NEEDS_DATA", False) and not os.environ.get("TFDL_DATA_DIR"):
        pytest.skip("TFDL_DATA_DIR is unset: this report's data comes from the data directory "
                    "(../shared/data)")
    logdir = tmp_path_factory.mktemp(module.REPORT_NAME)
    record = load_report(module.REPORT_NAME).run(
        profile="quick", only=getattr(module, "QUICK_EXPERIMENTS", None), logdir=logdir)
    print(format_table(record))
    return logdir, record


def reports_dir():
    """The folder of the reports' texts (`$TFDL_REPORTS_DIR`, or `shared/reports` beside the
    checkout, as CI lays it out), or None."""
    from pathlib import Path

    candidates = [os.environ.get("TFDL_REPORTS_DIR"),
                  Path(__file__).resolve().parents[2] / "shared" / "reports"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def linear_model(x):
    """y = 0.5 x1 - x2 + 0.2 as a Keras model: losses with known gradients and Hessians."""
    import numpy as np

    model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(1)])
    model.set_weights([np.array([[0.5], [-1.0]], np.float32), np.array([0.2], np.float32)])
    return model


def count_weights(weights):
    """How many numbers a list of weights holds (a model's `trainable_weights`, ...)."""
    import numpy as np

    return sum(int(np.prod(w.shape)) for w in weights)


def two_class_points(n=103, seed=0):
    """`(x, y)`: n points from a 2-d standard normal, labelled 1 where the first coordinate is
    positive."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)
