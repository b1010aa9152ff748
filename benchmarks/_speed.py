"""What the report benchmarks share: MNIST read from its files (no tfdl import), the machine's
measured float32 matmul peak, FLOP floors of MLP training, and the printed comparison.

The hand-written references in this folder import nothing from tfdl: they read the MNIST copy
shipped inside the package by path and build the network, optimizer and loop by hand.
"""

import gzip
import os
import pathlib
import tempfile
import time

import tfdl  # noqa: F401  (first: its quiet import of TensorFlow, tfdl.harness.quiet; no compute)

import numpy as np
import tensorflow as tf

MNIST_DIR = pathlib.Path(__file__).resolve().parents[1] / "tfdl" / "data" / "mnist"


def _idx(name):
    with gzip.open(MNIST_DIR / name, "rb") as f:
        raw = f.read()
    dims = int(raw[3])
    shape = np.frombuffer(raw[4:4 + 4 * dims], dtype=">i4")
    return np.frombuffer(raw[4 + 4 * dims:], dtype=np.uint8).reshape(shape)


def mnist(validation):
    """(train, val, test) as tfdl.data.load_mnist(validation=) splits them: the first
    `validation` training images are the validation set; pixels in [0, 1], int64 labels."""
    x = (_idx("train-images-idx3-ubyte.gz").reshape(-1, 784) / 255.0).astype(np.float32)
    y = _idx("train-labels-idx1-ubyte.gz").astype(np.int64)
    xt = (_idx("t10k-images-idx3-ubyte.gz").reshape(-1, 784) / 255.0).astype(np.float32)
    yt = _idx("t10k-labels-idx1-ubyte.gz").astype(np.int64)
    return (x[validation:], y[validation:]), (x[:validation], y[:validation]), (xt, yt)


def matmul_peak(n=2048, repeats=7):
    """The best float32 FLOP/s of an n×n matmul on this machine (TensorFlow, compiled)."""
    a = tf.random.normal((n, n))
    f = tf.function(lambda a: tf.matmul(a, a), jit_compile=True)
    f(a).numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        f(a).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best


def forward_flops(examples, widths):
    """Multiply-add FLOPs of the dense layers' matmuls for `examples` inputs."""
    return 2 * examples * sum(a * b for a, b in zip(widths, widths[1:]))


def train_flops(steps, batch, widths):
    """Forward + backward of `steps` SGD steps: ~3x the forward matmuls."""
    return 3 * steps * forward_flops(batch, widths)


def adam(params, grads, m, v, t, lr, b1=0.9, b2=0.999, eps=1e-7):
    """One Adam update as Keras computes it (its defaults): returns (params, m, v, t)."""
    t = t + 1.0
    lr_t = lr * tf.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    m = [a + (g - a) * (1 - b1) for a, g in zip(m, grads)]
    v = [a + (g * g - a) * (1 - b2) for a, g in zip(v, grads)]
    params = [p - lr_t * a / (tf.sqrt(b) + eps) for p, a, b in zip(params, m, v)]
    return params, m, v, t


def load():
    """The 1-minute load average and the core count, for the printout."""
    return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"


def report(title, rows, flops, peak):
    """Prints each path's time, its ratio to the reference (the row named "reference") and the
    fraction of the FLOP floor it reaches (floor time / its time)."""
    floor = flops / peak
    ref = rows["reference"]
    print(f"{title}")
    print(f"  matmul peak {peak / 1e9:.1f} GFLOP/s; {flops / 1e9:.1f} GFLOP -> floor {floor:.2f} s")
    for name, seconds in rows.items():
        print(f"  {name:<28} {seconds:8.2f} s   {seconds / ref:5.2f}x reference   "
              f"{floor / seconds:6.1%} of floor")
    print(f"  ({load()})", flush=True)
    if os.environ.get("TFDL_BENCH_JSON"):  # benchmarks/all.py collects every benchmark's rows
        import json

        with open(os.environ["TFDL_BENCH_JSON"], "a") as out:
            out.write(json.dumps({"title": title, "seconds": rows, "floor_s": floor,
                                  "peak_gflops": peak / 1e9, "load": os.getloadavg()[0]}) + "\n")


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def run_experiment(report_name, experiment, overrides=None, seed=0, globals_=None):
    """Runs one experiment function of a reproduction at profile full, as the harness does
    (seeded, the profile's settings with `overrides`), in a temp log directory; returns its
    metrics. `globals_` replaces module constants of the script (a quick look's shorter lists)."""
    from pathlib import Path

    from tfdl.harness import cli, settings
    from tfdl.harness.experiment import Context, set_seed

    report = cli.load_report(report_name)
    fn = report.experiments[experiment].fn
    fn.__globals__.update(globals_ or {})
    set_seed(seed)
    with tempfile.TemporaryDirectory() as logdir, \
            settings.applied(report, "full", overrides or {}) as config:
        ctx = Context(config=config, profile="full", seed=seed, logdir=Path(logdir),
                      experiment=experiment)
        return fn(ctx)
