"""Benchmark: report 000 (hw2_mydnn) section a, batch 128 — its costliest run.

784-128 ReLU-10 softmax, Glorot-uniform init, Adam lr 0.002, sparse cross-entropy, batch 128,
4 epochs of 50,000 MNIST images with the last partial batch dropped (1,560 steps), validation
loss and accuracy on all 10,000 validation images at step 0 and after every step; then
train / test loss and accuracy. Timed two ways in one process:

  tfdl       the experiment function itself (reproductions/hw2_mydnn.py `batch_size`, profile
             full, restricted to batch 128 with `batch_sizes=[128]`), results in a temp dir;
  reference  a hand-written loop importing nothing from tfdl: one `tf.function(jit_compile=True)`
             per epoch runs its 390 steps and 390 validations, values kept in tensors;

and a FLOP floor (training 3x forward matmuls per step + a forward pass over the validation
set per step) at the machine's measured float32 matmul peak.

    python benchmarks/report000_batch128.py [--epochs 1]
"""

import argparse

import _speed  # first: keeps TensorFlow's start-up notices off the console
import numpy as np
import tensorflow as tf

WIDTHS, LR, BATCH, EPOCHS = [784, 128, 10], 0.002, 128, 4


def _glorot(rng, fan_in, fan_out):
    limit = np.sqrt(6 / (fan_in + fan_out))
    return tf.constant(rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32))


def _probs(p, x):
    h = tf.nn.relu(x @ p[0] + p[1])
    return tf.nn.softmax(h @ p[2] + p[3])


def _scores(p, x, y):
    pr = _probs(p, x)
    picked = tf.gather(pr, y, batch_dims=1)
    loss = -tf.reduce_mean(tf.math.log(tf.clip_by_value(picked, 1e-7, 1.0)))
    acc = tf.reduce_mean(tf.cast(tf.argmax(pr, -1) == y, tf.float32))
    return loss, acc


def epoch_function(X, Y, XV, YV, jit_compile=True):
    """One compiled call per epoch: for each row of `idx` (one batch of indices), an Adam step
    on X[idx], Y[idx], then loss and accuracy on all of XV, YV; the values kept in tensors."""

    @tf.function(jit_compile=jit_compile)
    def epoch(params, m, v, t, idx):
        losses = tf.TensorArray(tf.float32, size=idx.shape[0])
        vl = tf.TensorArray(tf.float32, size=idx.shape[0])
        va = tf.TensorArray(tf.float32, size=idx.shape[0])
        for i in tf.range(idx.shape[0]):
            xb, yb = tf.gather(X, idx[i]), tf.gather(Y, idx[i])
            with tf.GradientTape() as tape:
                tape.watch(params)
                loss = _scores(params, xb, yb)[0]
            grads = tape.gradient(loss, params)
            params, m, v, t = _speed.adam(params, grads, m, v, t, LR)
            val_loss, val_acc = _scores(params, XV, YV)
            losses, vl, va = losses.write(i, loss), vl.write(i, val_loss), va.write(i, val_acc)
        return params, m, v, t, losses.stack(), vl.stack(), va.stack()

    return epoch


def initial(seed=0):
    """Glorot-uniform weights, zero biases, and Adam's zero moments."""
    rng = np.random.default_rng(seed)
    params = [_glorot(rng, 784, 128), tf.zeros(128), _glorot(rng, 128, 10), tf.zeros(10)]
    return rng, params, [tf.zeros_like(p) for p in params], [tf.zeros_like(p) for p in params]


def reference(epochs, seed=0):
    """Returns (per-step losses, validation losses, validation accuracies, final scores)."""
    (x, y), (xv, yv), (xt, yt) = _speed.mnist(validation=10_000)
    X, Y, XV, YV = map(tf.constant, (x, y, xv, yv))
    rng, params, m, v = initial(seed)
    epoch = epoch_function(X, Y, XV, YV)
    start_scores = tf.function(_scores, jit_compile=True)
    first = [float(s) for s in start_scores(params, XV, YV)]
    curves = [[], [first[0]], [first[1]]]
    t = tf.constant(0.0)
    per_epoch = len(y) // BATCH
    for _ in range(epochs):
        idx = tf.constant(rng.permutation(len(y))[:per_epoch * BATCH].reshape(per_epoch, BATCH))
        params, m, v, t, *values = epoch(params, m, v, t, idx)
        for curve, value in zip(curves, values):
            curve.extend(value.numpy().tolist())  # one read per execution
    test = start_scores(params, tf.constant(xt), tf.constant(yt))
    final = [float(s) for s in (*start_scores(params, X, Y), *test)]
    return curves, final


def tfdl_path(epochs):
    epochs_by_batch = [epochs, 10, 30, 30]  # a quick look shortens batch 128's 4 epochs
    return _speed.run_experiment("hw2_mydnn", "batch_size", {"batch_sizes": [BATCH]},
                                 globals_=None if epochs == EPOCHS
                                 else {"BATCH_EPOCHS": epochs_by_batch})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="fewer for a quick look")
    args = parser.parse_args()
    steps = args.epochs * (50_000 // BATCH)
    tfdl_s, metrics = _speed.timed(tfdl_path, args.epochs)
    ref_s, (curves, final) = _speed.timed(reference, args.epochs)
    peak = _speed.matmul_peak()
    flops = (_speed.train_flops(steps, BATCH, WIDTHS)
             + (steps + 1) * _speed.forward_flops(10_000, WIDTHS))
    _speed.report(f"report 000, batch 128: {steps} Adam steps + {steps + 1} validations of "
                  "10,000 images", {"tfdl (experiment function)": tfdl_s, "reference": ref_s},
                  flops, peak)
    run = metrics["runs"][str(BATCH)]
    print(f"  tfdl training only (its wall_s): {run['wall_s']:.2f} s; "
          f"test accuracy tfdl {run['final']['test']['accuracy']:.4f}, reference {final[3]:.4f}")


if __name__ == "__main__":
    main()
