"""Benchmark: report 004 (hw2_init_variance) learning-rate part at full protocol — its costliest
experiment after early stopping, and the one the issue measured.

784-256 sigmoid-10 softmax, N(0, variance 0.1) weights, zero biases, ½ squared error, SGD, batch
1000 from 55,000 MNIST images (reshuffled each pass), 10,000 steps for each of 7 learning rates;
test cross-entropy and accuracy on 10,000 images at step 0 and every 100 steps; then test
loss / accuracy, train accuracy and test cross-entropy. Timed two ways in one process:

  tfdl       the experiment function itself (reproductions/hw2_init_variance.py
             `learning_rate`, profile full), results in a temp dir;
  reference  a hand-written loop importing nothing from tfdl: one `tf.function(jit_compile=True)`
             runs 100 steps and the test evaluation, per-step losses kept in a tensor;

and a FLOP floor (3x forward matmuls per step + the test forwards) at the machine's measured
float32 matmul peak.

    python benchmarks/report004_learning_rate.py [--steps 1000] [--lrs 2]
"""

import argparse

import _speed  # first: keeps TensorFlow's start-up notices off the console
import numpy as np
import tensorflow as tf

WIDTHS, BATCH, STEPS, EVERY = [784, 256, 10], 1000, 10_000, 100
LEARNING_RATES = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0]


# The script's init: N(0, 0.1) read as a variance (INIT_IS_STDDEV = False, its calibration's
# choice), so the standard deviation is sqrt(0.1).
INIT_STD = float(np.sqrt(0.1))


def _normal(rng, *shape):
    return tf.constant(INIT_STD * rng.standard_normal(shape, dtype=np.float32))


def _probs(p, x):
    return tf.nn.softmax(tf.sigmoid(x @ p[0] + p[1]) @ p[2] + p[3])


def _half_squared_error(p, x, y):
    return tf.reduce_mean(0.5 * tf.reduce_sum(tf.square(y - _probs(p, x)), -1))


def _scores(p, x, y):
    """Cross-entropy, ½ squared error and accuracy on one-hot `y`."""
    pr = _probs(p, x)
    ce = -tf.reduce_mean(tf.reduce_sum(y * tf.math.log(tf.clip_by_value(pr, 1e-7, 1.0)), -1))
    hse = tf.reduce_mean(0.5 * tf.reduce_sum(tf.square(y - pr), -1))
    acc = tf.reduce_mean(tf.cast(tf.argmax(pr, -1) == tf.argmax(y, -1), tf.float32))
    return ce, hse, acc


def sgd_chunk(X, Y, XT, YT):
    """One compiled call: EVERY plain-SGD steps on ½ squared error (batches `idx` of (X, Y)),
    then the test scores on (XT, YT); per-step losses come back in one tensor."""
    @tf.function(jit_compile=True)
    def chunk(params, idx, lr):
        losses = tf.TensorArray(tf.float32, size=idx.shape[0])
        for i in tf.range(idx.shape[0]):
            with tf.GradientTape() as tape:
                tape.watch(params)
                loss = _half_squared_error(params, tf.gather(X, idx[i]), tf.gather(Y, idx[i]))
            grads = tape.gradient(loss, params)
            params = [p - lr * g for p, g in zip(params, grads)]
            losses = losses.write(i, loss)
        return params, losses.stack(), _scores(params, XT, YT)

    return chunk


def batch_order(rng, n, steps):
    """`steps` batch index arrays of successive permutations of `n` examples (none straddling two
    passes), shaped (calls, EVERY, BATCH)."""
    order = []
    while len(order) < steps:
        perm = rng.permutation(n)
        order += [perm[i:i + BATCH] for i in range(0, n - BATCH + 1, BATCH)]
    return np.stack(order[:steps]).reshape(-1, EVERY, BATCH)


def reference(steps, learning_rates, seed=0):
    """Returns {lr: (per-step losses, test curve, test accuracy, train accuracy)}."""
    (x, y), _, (xt, yt) = _speed.mnist(validation=5_000)
    X, Y = tf.constant(x), tf.one_hot(y, 10)
    XT, YT = tf.constant(xt), tf.one_hot(yt, 10)
    scores = tf.function(_scores, jit_compile=True)

    chunk = sgd_chunk(X, Y, XT, YT)

    out = {}
    for lr in learning_rates:
        rng = np.random.default_rng(seed)
        params = [_normal(rng, 784, 256), tf.zeros(256), _normal(rng, 256, 10), tf.zeros(10)]
        order = batch_order(rng, len(y), steps)
        losses, curve = [], [float(scores(params, XT, YT)[0])]
        for block in order:
            params, block_losses, (ce, _, _) = chunk(params, tf.constant(block), tf.constant(lr))
            losses.extend(block_losses.numpy().tolist())  # one read per execution
            curve.append(float(ce))
        test, train = scores(params, XT, YT), scores(params, X, Y)
        out[f"{lr:g}"] = (losses, curve, float(test[2]), float(train[2]))
    return out


def tfdl_path(steps, learning_rates):
    # A quick look runs fewer steps and learning rates (both profile keys of the script).
    overrides = {} if steps == STEPS else {"lr_steps": steps}
    if learning_rates != LEARNING_RATES:
        overrides["learning_rates"] = learning_rates
    return _speed.run_experiment("hw2_init_variance", "learning_rate", overrides or None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=STEPS, help="per lr; a multiple of 100")
    parser.add_argument("--lrs", type=int, default=len(LEARNING_RATES),
                        help="how many learning rates, from the smallest")
    args = parser.parse_args()
    lrs = LEARNING_RATES[:args.lrs]
    tfdl_s, metrics = _speed.timed(tfdl_path, args.steps, lrs)
    ref_s, ref = _speed.timed(reference, args.steps, lrs)
    peak = _speed.matmul_peak()
    runs = len(lrs)
    flops = runs * (_speed.train_flops(args.steps, BATCH, WIDTHS)
                    + (args.steps // EVERY + 2) * _speed.forward_flops(10_000, WIDTHS)
                    + _speed.forward_flops(55_000, WIDTHS))
    _speed.report(f"report 004, learning rates: {runs} lrs x {args.steps} SGD steps of batch "
                  f"{BATCH}, test curve every {EVERY}",
                  {"tfdl (experiment function)": tfdl_s, "reference": ref_s}, flops, peak)
    train_s = sum(r["wall_s"] for r in metrics["runs"].values())
    print(f"  tfdl training only (its wall_s): {train_s:.2f} s")
    for lr, run in metrics["runs"].items():
        print(f"  lr {lr}: test accuracy tfdl {run['final']['test']['accuracy']:.4f}, "
              f"reference {ref[lr][2]:.4f}")


if __name__ == "__main__":
    main()
