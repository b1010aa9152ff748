"""Benchmark: report 003 (ex4_mlp_cnn) `depth_width` at full protocol — its costliest experiment
(the offline stand-in and faces experiments aside).

MLPs on the Europe countries data ($TFDL_DATA_DIR/europe: (longitude, latitude) -> one of 33
countries; 106,897 train / 13,363 validation / 13,363 test rows): `depth` hidden layers of
`width`, each Dense -> BatchNorm (momentum 0.9, epsilon 1e-5, PyTorch's) -> ReLU, then a
33-way softmax; kernels U(+-1/sqrt(fan_in)), zero biases; Adam lr 0.001, sparse cross-entropy,
batch 256, the training set reshuffled every epoch with a partial last batch of 145 (418 steps
an epoch). Seven configurations (depth, width, epochs): (1, 16, 30), (2, 16, 40), (6, 16, 50),
(10, 16, 150), (6, 8, 100), (6, 32, 200), (6, 64, 200): 770 epochs, 321,860 steps. Validation
and test loss and accuracy (inference mode: the running statistics) at epoch 0 and after every
epoch, train loss and accuracy after training, and the predicted classes on a 200 x 200 grid
for the best and the worst model (tfdl draws them as decision boundaries; the reference only
predicts). Timed two ways in one process:

  tfdl       the experiment function itself (reproductions/ex4_mlp_cnn.py `depth_width`, profile
             full), results in a temp dir;
  reference  a hand-written loop importing nothing from tfdl (the CSVs read with numpy): one
             `tf.function(jit_compile=True)` per epoch runs its 417 full batches, the partial
             one and the validation and test evaluations, values kept in tensors;

and a FLOP floor (training 3x forward matmuls of every example of every epoch + the evaluation
forwards) at the machine's measured float32 matmul peak. These nets are tiny (a few thousand
multiply-adds an example): both paths are far from the matmul floor, which is printed anyway.

    python benchmarks/report003_depth_width.py                             # full protocol
    python benchmarks/report003_depth_width.py --epochs 2 --configs 1,7    # a quick look
"""

import argparse
import os
from pathlib import Path

import _records
import _speed  # first: keeps TensorFlow's start-up notices off the console
import numpy as np
import tensorflow as tf

GRID = [(1, 16, 30), (2, 16, 40), (6, 16, 50), (10, 16, 150), (6, 8, 100), (6, 32, 200),
        (6, 64, 200)]  # (depth, width, epochs), the report's order
CLASSES, LR, BATCH = 33, 0.001, 256
BN_MOMENTUM, BN_EPS = 0.9, 1e-5
GRID_RESOLUTION, GRID_MARGIN = 200, 0.05  # tfdl.analysis.boundaries.predict_grid's


def europe():
    """(train, val, test): float32 (long, lat) and int64 country ids, as load_europe reads."""
    root = Path(os.environ.get("TFDL_DATA_DIR", ".")) / "europe"
    splits = []
    for name in ("train.csv", "validation.csv", "test.csv"):
        if not (root / name).is_file():
            raise SystemExit(f"{root / name} is missing: set TFDL_DATA_DIR")
        table = np.loadtxt(root / name, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
        splits.append((table[:, 1:3].astype(np.float32), table[:, 3].astype(np.int64)))
    return splits


def _init(rng, depth, width):
    """Trainable [W, b, gamma, beta] per hidden layer then [W, b]; running [mean, var] per
    hidden layer. Kernels U(+-1/sqrt(fan_in)) (VarianceScaling(1/3, fan_in, uniform))."""
    sizes = [2, *[width] * depth, CLASSES]
    params, stats = [], []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        limit = 1 / np.sqrt(a)
        params += [tf.constant(rng.uniform(-limit, limit, (a, b)).astype(np.float32)),
                   tf.zeros(b)]
        if i < depth:
            params += [tf.ones(b), tf.zeros(b)]
            stats += [tf.zeros(b), tf.ones(b)]
    return params, stats


def _logits(params, stats, x, training):
    """The forward pass; in training, batch statistics and the updated running ones."""
    new_stats = []
    for i in range(len(stats) // 2):
        w, b, gamma, beta = params[4 * i:4 * i + 4]
        h = x @ w + b
        if training:
            mean, var = tf.nn.moments(h, axes=[0])
            new_stats += [stats[2 * i] * BN_MOMENTUM + mean * (1 - BN_MOMENTUM),
                          stats[2 * i + 1] * BN_MOMENTUM + var * (1 - BN_MOMENTUM)]
        else:
            mean, var = stats[2 * i], stats[2 * i + 1]
        x = tf.nn.relu(tf.nn.batch_normalization(h, mean, var, beta, gamma, BN_EPS))
    return x @ params[-2] + params[-1], new_stats


def _scores(params, stats, x, y):
    logits = _logits(params, stats, x, training=False)[0]
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
    return loss, tf.reduce_mean(tf.cast(tf.argmax(logits, -1) == y, tf.float32))


def _adam_step(params, stats, m, v, t, x, y):
    with tf.GradientTape() as tape:
        tape.watch(params)
        logits, stats = _logits(params, stats, x, training=True)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
    grads = tape.gradient(loss, params)
    params, m, v, t = _speed.adam(params, grads, m, v, t, LR)
    return params, stats, m, v, t, loss


def _grid(x):
    low, high = x.min(axis=0), x.max(axis=0)
    pad = (high - low) * GRID_MARGIN
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], GRID_RESOLUTION, dtype=np.float32)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], GRID_RESOLUTION, dtype=np.float32)
    return np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)


def reference(grid, seed=0):
    """Returns {name: {"val": [(loss, acc)] per epoch 0.., "test": [...], "train": (loss, acc),
    "losses": per-step losses}} and the best and worst names."""
    (x, y), (xv, yv), (xt, yt) = europe()
    X, Y, XV, YV, XT, YT = map(tf.constant, (x, y, xv, yv, xt, yt))
    full = len(y) // BATCH  # 417 batches of 256, then one of 145

    def epoch(params, stats, m, v, t, idx, last):
        losses = tf.TensorArray(tf.float32, size=full + 1)
        for i in tf.range(full):
            params, stats, m, v, t, loss = _adam_step(params, stats, m, v, t,
                                                      tf.gather(X, idx[i]), tf.gather(Y, idx[i]))
            losses = losses.write(i, loss)
        params, stats, m, v, t, loss = _adam_step(params, stats, m, v, t, tf.gather(X, last),
                                                  tf.gather(Y, last))
        return (params, stats, m, v, t, losses.write(full, loss).stack(),
                _scores(params, stats, XV, YV), _scores(params, stats, XT, YT))

    runs, states = {}, {}
    scores = tf.function(_scores, jit_compile=True)
    for depth, width, epochs in grid:
        name = f"d{depth}_w{width}"
        rng = np.random.default_rng(seed)
        params, stats = _init(rng, depth, width)
        m = [tf.zeros_like(p) for p in params]
        v = [tf.zeros_like(p) for p in params]
        t = tf.constant(0.0)
        run_epoch = tf.function(epoch, jit_compile=True)  # one trace per configuration
        run = {"val": [tuple(map(float, scores(params, stats, XV, YV)))],
               "test": [tuple(map(float, scores(params, stats, XT, YT)))], "losses": []}
        for _ in range(epochs):
            perm = rng.permutation(len(y))
            idx = tf.constant(perm[:full * BATCH].reshape(full, BATCH))
            params, stats, m, v, t, losses, val, test = run_epoch(
                params, stats, m, v, t, idx, tf.constant(perm[full * BATCH:]))
            run["losses"].extend(losses.numpy().tolist())  # one read per execution
            run["val"].append(tuple(map(float, val)))
            run["test"].append(tuple(map(float, test)))
        run["train"] = tuple(map(float, scores(params, stats, X, Y)))
        runs[name], states[name] = run, (params, stats)
    best = max(runs, key=lambda k: runs[k]["val"][-1][1])
    worst = min(runs, key=lambda k: runs[k]["val"][-1][1])
    points = tf.constant(_grid(xt))
    predict = tf.function(lambda p, s, g: tf.argmax(_logits(p, s, g, training=False)[0], -1),
                          jit_compile=True)
    for name in (best, worst):
        runs[name]["grid_classes"] = predict(*states[name], points).numpy()
    return runs, best, worst


def tfdl_path(grid):
    return _speed.run_experiment("ex4_mlp_cnn", "depth_width",
                                 None if grid == GRID else {"grid": grid})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs of every configuration (default: the report's)")
    parser.add_argument("--configs", default=None,
                        help="comma-separated 1-based indices into the grid "
                             + ", ".join(f"{k}: d{d}_w{w}" for k, (d, w, _) in
                                         enumerate(GRID, start=1)) + " (default: all)")
    args = parser.parse_args()
    chosen = GRID if args.configs is None else [GRID[int(k) - 1]
                                                for k in args.configs.split(",")]
    grid = [(d, w, args.epochs or e) for d, w, e in chosen]
    tfdl_s, metrics = _speed.timed(tfdl_path, grid)
    ref_s, (ref, best, _) = _speed.timed(reference, grid)
    peak = _speed.matmul_peak()
    n, n_eval = 106_897, 13_363
    flops = 0
    for depth, width, epochs in grid:
        widths = [2, *[width] * depth, CLASSES]
        flops += (3 * epochs * _speed.forward_flops(n, widths)
                  + (epochs + 1) * _speed.forward_flops(2 * n_eval, widths)
                  + _speed.forward_flops(n, widths))
    epochs_total = sum(e for _, _, e in grid)
    _speed.report(f"report 003, depth x width: {len(grid)} configurations, {epochs_total} epochs "
                  f"of {-(-n // BATCH)} Adam steps (batch {BATCH}) + validation and test every "
                  "epoch", {"tfdl (experiment function)": tfdl_s, "reference": ref_s},
                  flops, peak)
    wall = _records.total_wall_s(metrics)
    print(f"  tfdl training only (sum of its wall_s): {_records.fmt(wall, '.2f')} s")
    name = f"d{grid[-1][0]}_w{grid[-1][1]}"
    tfdl_acc = _records.find(metrics, f"{name}.val_accuracy", f"{name}.curves.val.accuracy",
                             f"{name}.final.val.accuracy")
    tfdl_best = metrics.get("best") if isinstance(metrics, dict) else None
    print(f"  {name}, {grid[-1][2]} epochs: final validation accuracy tfdl "
          f"{_records.fmt(tfdl_acc)}, reference {ref[name]['val'][-1][1]:.4f}; "
          f"best model tfdl {tfdl_best}, reference {best}")
    if grid != GRID:
        print("  (a quick look: one-time tracing and XLA compilation weigh heavily in both paths; "
              "compare ratios at full protocol)")


if __name__ == "__main__":
    main()
