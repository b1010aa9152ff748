"""Benchmark: report 001 (assignment1_softmax_cifar) `four_tests` at full protocol — its costliest
experiment.

softmax(W x + b), 3072 -> 10, W and b ~ N(0, 0.01^2), on CIFAR-10 from $TFDL_DATA_DIR
(data_batch_1 trains, data_batch_2 validates, test_batch tests; pixels in [0, 1], then
standardized with the training set's per-dimension mean and std). Plain SGD on cross-entropy +
lambda * ||W||^2, n_batch 100, 40 epochs of the 10,000 training images in stored order (no
shuffle: 100 steps an epoch); cost J and accuracy on the whole train and validation sets at
epoch 0 and after every epoch; then test cross-entropy and accuracy. Four tests (lambda, eta) =
(0, 0.1), (0, 0.001), (0.1, 0.001), (1, 0.001); test 1 over 5 init seeds: 8 runs, 32,000 steps,
656 evaluations of 10,000 images. Timed two ways in one process:

  tfdl       the experiment function itself (reproductions/assignment1_softmax_cifar.py
             `four_tests`, profile full), results in a temp dir;
  reference  a hand-written loop importing nothing from tfdl (the batch files read with pickle
             and numpy, standardized as tfdl.data.cifar10.standardize does): one
             `tf.function(jit_compile=True)` per epoch runs its 100 steps and the train and
             validation evaluations, values kept in tensors;

and a FLOP floor (training 3x forward matmuls per step + a forward pass over each evaluated
set) at the machine's measured float32 matmul peak.

    python benchmarks/report001_four_tests.py                        # full protocol
    python benchmarks/report001_four_tests.py --epochs 2 --inits 1   # a quick look
"""

import argparse
import os
import pickle
from pathlib import Path

import _records
import _speed  # first: keeps TensorFlow's start-up notices off the console
import numpy as np
import tensorflow as tf

TESTS = {1: (0.0, 0.1), 2: (0.0, 0.001), 3: (0.1, 0.001), 4: (1.0, 0.001)}  # (lambda, eta)
N_BATCH, EPOCHS, INITS, INIT_STD = 100, 40, 5, 0.01
WIDTHS = [3072, 10]
FOLDERS = ("cifar-10-batches-py", "cifar10-jpeg/cifar-10-batches-py")  # as tfdl.data.cifar10


def cifar10():
    """(train, val, test) as the experiment gets them: standardize(load_cifar10())."""
    root = Path(os.environ.get("TFDL_DATA_DIR", "."))
    folder = next((root / f for f in FOLDERS if (root / f).is_dir()), None)
    if folder is None:
        raise SystemExit(f"no CIFAR-10 batches under {root} ({' or '.join(FOLDERS)}): "
                         "set TFDL_DATA_DIR")
    splits = []
    for name in ("data_batch_1", "data_batch_2", "test_batch"):
        with open(folder / name, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        x = np.asarray(batch[b"data"], dtype=np.uint8)
        splits.append(((x / np.float32(255.0)).astype(np.float32),
                       np.asarray(batch[b"labels"], dtype=np.int64)))
    mean = splits[0][0].mean(axis=0, dtype=np.float64)
    std = splits[0][0].std(axis=0, dtype=np.float64)
    std[std == 0] = 1.0
    return [(((x - mean) / std).astype(np.float32), y) for x, y in splits]


def _cross_entropy(p, x, y):
    logits = x @ p[0] + p[1]
    ce = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
    return ce, logits


def _scores(p, x, y, lam):
    """Cost J (cross-entropy + lam * ||W||^2) and accuracy on a whole set."""
    ce, logits = _cross_entropy(p, x, y)
    acc = tf.reduce_mean(tf.cast(tf.argmax(logits, -1) == y, tf.float32))
    return ce + lam * tf.reduce_sum(tf.square(p[0])), acc


def reference(epochs, inits, seed=0):
    """Returns {(test, init): (train curve, val curve, test cross-entropy, test accuracy)};
    a curve is [(cost, accuracy)] for epochs 0..epochs."""
    (x, y), (xv, yv), (xt, yt) = cifar10()
    X, Y, XV, YV = map(tf.constant, (x, y, xv, yv))
    steps = len(y) // N_BATCH  # 100; the stored order, no shuffling
    XB, YB = tf.reshape(X, (steps, N_BATCH, -1)), tf.reshape(Y, (steps, N_BATCH))

    @tf.function(jit_compile=True)
    def epoch(params, lam, eta):
        losses = tf.TensorArray(tf.float32, size=steps)
        for i in tf.range(steps):
            with tf.GradientTape() as tape:
                tape.watch(params)
                loss = _cross_entropy(params, XB[i], YB[i])[0] + lam * tf.reduce_sum(
                    tf.square(params[0]))
            grads = tape.gradient(loss, params)
            params = [p - eta * g for p, g in zip(params, grads)]
            losses = losses.write(i, loss)
        return params, losses.stack(), _scores(params, X, Y, lam), _scores(params, XV, YV, lam)

    scores = tf.function(_scores, jit_compile=True)
    test_scores = tf.function(lambda p, x, y: _scores(p, x, y, 0.0), jit_compile=True)
    out = {}
    for test, (lam, eta) in TESTS.items():
        for k in range(inits if test == 1 else 1):
            rng = np.random.default_rng(1000 * seed + k)
            params = [tf.constant(INIT_STD * rng.standard_normal(shape, dtype=np.float32))
                      for shape in ((3072, 10), (10,))]
            lam_t, eta_t = tf.constant(lam), tf.constant(eta)
            train_curve = [tuple(map(float, scores(params, X, Y, lam_t)))]
            val_curve = [tuple(map(float, scores(params, XV, YV, lam_t)))]
            step_losses = []
            for _ in range(epochs):
                params, losses, train, val = epoch(params, lam_t, eta_t)
                step_losses.extend(losses.numpy().tolist())  # one read per execution
                train_curve.append(tuple(map(float, train)))
                val_curve.append(tuple(map(float, val)))
            ce, acc = test_scores(params, tf.constant(xt), tf.constant(yt))
            out[test, k] = (train_curve, val_curve, float(ce), float(acc))
    return out


def tfdl_path(epochs, inits):
    overrides = {}
    if epochs != EPOCHS:
        overrides["epochs"] = epochs
    if inits != INITS:
        overrides["chaos_seeds"] = inits
    return _speed.run_experiment("assignment1_softmax_cifar", "four_tests", overrides)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="fewer for a quick look")
    parser.add_argument("--inits", type=int, default=INITS,
                        help="init seeds of test 1 (the profile's chaos_seeds)")
    args = parser.parse_args()
    runs = args.inits + len(TESTS) - 1
    tfdl_s, metrics = _speed.timed(tfdl_path, args.epochs, args.inits)
    ref_s, ref = _speed.timed(reference, args.epochs, args.inits)
    peak = _speed.matmul_peak()
    n = 10_000
    per_run = (_speed.train_flops(args.epochs * n // N_BATCH, N_BATCH, WIDTHS)
               + (args.epochs + 1) * _speed.forward_flops(2 * n, WIDTHS)
               + _speed.forward_flops(n, WIDTHS))
    _speed.report(f"report 001, four tests: {runs} runs x {args.epochs} epochs of "
                  f"{n // N_BATCH} SGD steps (batch {N_BATCH}) + train and validation cost "
                  "every epoch", {"tfdl (experiment function)": tfdl_s, "reference": ref_s},
                  runs * per_run, peak)
    wall = _records.total_wall_s(metrics)
    print(f"  tfdl training only (sum of its wall_s): {_records.fmt(wall, '.2f')} s")
    for test in (2, 4):
        tfdl_acc = _records.find(metrics, f"test{test}.final.test.accuracy",
                                 f"test{test}.test_accuracy")
        print(f"  test {test} (lambda {TESTS[test][0]:g}, eta {TESTS[test][1]:g}) test accuracy: "
              f"tfdl {_records.fmt(tfdl_acc)}, reference {ref[test, 0][3]:.4f}")
    tfdl_mean = _records.find(metrics, "test1_inits.accuracy_mean")
    ref_mean = np.mean([ref[1, k][3] for k in range(args.inits)])
    print(f"  test 1 (eta 0.1) test accuracy, mean of {args.inits} inits: "
          f"tfdl {_records.fmt(tfdl_mean)}, reference {ref_mean:.4f}")
    if (args.epochs, args.inits) != (EPOCHS, INITS):
        print("  (a quick look: one-time tracing and XLA compilation weigh heavily in both paths; "
              "compare ratios at full protocol)")


if __name__ == "__main__":
    main()
