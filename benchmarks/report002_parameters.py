"""Benchmark: report 002 (hw1_deep_vs_shallow) `parameters_vs_generalization` at full protocol —
its costliest experiment.

Ten 784-w1-w2-10 MLPs (ReLU, softmax output) sized for 4,000 ... 1,000,000 parameters
(`budget_widths(784, 10, 2, budget)`: [5, 5] ... [678, 678]), Glorot-uniform kernels, zero
biases, Adam lr 0.001, sparse cross-entropy, batch 64, 20 epochs of all 60,000 MNIST training
images, reshuffled every epoch, the last batch of each epoch a partial one of 32 (938 steps an
epoch, 18,760 a model); then loss and accuracy on the whole train and test sets. Timed two ways
in one process:

  tfdl       the experiment function itself (reproductions/hw1_deep_vs_shallow.py
             `parameters_vs_generalization`, profile full), results in a temp dir;
  reference  a hand-written loop importing nothing from tfdl: one `tf.function(jit_compile=True)`
             per epoch runs its 937 full batches and the partial one, per-step losses kept in a
             tensor;

and a FLOP floor (training 3x forward matmuls of every example of every epoch + the final
forward passes) at the machine's measured float32 matmul peak.

    python benchmarks/report002_parameters.py                                # full protocol
    python benchmarks/report002_parameters.py --epochs 1 --budgets 4000,1000000   # a quick look
"""

import argparse

import _records
import _speed  # first: keeps TensorFlow's start-up notices off the console
import numpy as np
import tensorflow as tf

# budget -> hidden widths, as tfdl.models.budget.budget_widths(784, 10, 2, budget) gives them
WIDTHS = {4_000: [5, 5], 8_000: [10, 10], 16_000: [20, 19], 32_000: [38, 38],
          64_000: [74, 74], 128_000: [137, 137], 200_000: [201, 201], 400_000: [349, 349],
          700_000: [528, 528], 1_000_000: [678, 678]}
LR, BATCH, EPOCHS = 0.001, 64, 20


def _glorot(rng, fan_in, fan_out):
    limit = np.sqrt(6 / (fan_in + fan_out))
    return tf.constant(rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32))


def _logits(p, x):
    for w, b in zip(p[:-2:2], p[1:-2:2]):
        x = tf.nn.relu(x @ w + b)
    return x @ p[-2] + p[-1]


def _loss(p, x, y):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, _logits(p, x)))


def _scores(p, x, y):
    logits = _logits(p, x)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
    return loss, tf.reduce_mean(tf.cast(tf.argmax(logits, -1) == y, tf.float32))


def _adam_step(params, m, v, t, x, y):
    with tf.GradientTape() as tape:
        tape.watch(params)
        loss = _loss(params, x, y)
    grads = tape.gradient(loss, params)
    params, m, v, t = _speed.adam(params, grads, m, v, t, LR)
    return params, m, v, t, loss


def reference(budgets, epochs, seed=0):
    """Returns {budget: (per-step losses, (train loss, train accuracy), (test loss, test
    accuracy))}."""
    (x, y), _, (xt, yt) = _speed.mnist(validation=0)  # all 60,000 training images
    X, Y, XT, YT = map(tf.constant, (x, y, xt, yt))
    full = len(y) // BATCH  # 937 batches of 64, then one of 32

    def epoch(params, m, v, t, idx, last):
        losses = tf.TensorArray(tf.float32, size=full + 1)
        for i in tf.range(full):
            params, m, v, t, loss = _adam_step(params, m, v, t, tf.gather(X, idx[i]),
                                               tf.gather(Y, idx[i]))
            losses = losses.write(i, loss)
        params, m, v, t, loss = _adam_step(params, m, v, t, tf.gather(X, last),
                                           tf.gather(Y, last))
        return params, m, v, t, losses.write(full, loss).stack()

    out = {}
    for budget in budgets:
        rng = np.random.default_rng(seed)
        sizes = [784, *WIDTHS[budget], 10]
        params = []
        for a, b in zip(sizes, sizes[1:]):
            params += [_glorot(rng, a, b), tf.zeros(b)]
        m = [tf.zeros_like(p) for p in params]
        v = [tf.zeros_like(p) for p in params]
        t = tf.constant(0.0)
        run_epoch = tf.function(epoch, jit_compile=True)  # one trace per model's shapes
        losses = []
        for _ in range(epochs):
            perm = rng.permutation(len(y))
            idx = tf.constant(perm[:full * BATCH].reshape(full, BATCH))
            params, m, v, t, values = run_epoch(params, m, v, t, idx,
                                                tf.constant(perm[full * BATCH:]))
            losses.extend(values.numpy().tolist())  # one read per execution
        scores = tf.function(_scores, jit_compile=True)
        out[budget] = (losses, tuple(map(float, scores(params, X, Y))),
                       tuple(map(float, scores(params, XT, YT))))
    return out


def tfdl_path(budgets, epochs):
    overrides = {}
    if budgets != list(WIDTHS):
        overrides["size_budgets"] = budgets
    if epochs != EPOCHS:
        overrides["size_epochs"] = epochs
    return _speed.run_experiment("hw1_deep_vs_shallow", "parameters_vs_generalization",
                                 overrides)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="fewer for a quick look")
    parser.add_argument("--budgets", default=",".join(map(str, WIDTHS)),
                        help=f"comma-separated parameter budgets, of {', '.join(map(str, WIDTHS))}")
    args = parser.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    unknown = [b for b in budgets if b not in WIDTHS]
    if unknown:
        parser.error(f"unknown budgets {unknown}; valid: {list(WIDTHS)}")
    tfdl_s, metrics = _speed.timed(tfdl_path, budgets, args.epochs)
    ref_s, ref = _speed.timed(reference, budgets, args.epochs)
    peak = _speed.matmul_peak()
    n, n_test = 60_000, 10_000
    flops = sum(3 * args.epochs * _speed.forward_flops(n, [784, *WIDTHS[b], 10])
                + _speed.forward_flops(n + n_test, [784, *WIDTHS[b], 10]) for b in budgets)
    steps = args.epochs * -(-n // BATCH)
    _speed.report(f"report 002, parameters vs generalization: {len(budgets)} models x {steps} "
                  f"Adam steps (batch {BATCH}, {args.epochs} epochs) + train and test scores",
                  {"tfdl (experiment function)": tfdl_s, "reference": ref_s}, flops, peak)
    wall = _records.total_wall_s(metrics)
    print(f"  tfdl training only (sum of its wall_s): {_records.fmt(wall, '.2f')} s")
    last = budgets[-1]
    # Today's record: lists in budget order ("test_accuracy"); the last entry is this model's.
    tfdl_acc = _records.find(metrics, "test_accuracy", "final.test.accuracy")
    print(f"  {last:,}-parameter model {WIDTHS[last]}: test accuracy tfdl "
          f"{_records.fmt(tfdl_acc)}, reference {ref[last][2][1]:.4f}")
    if (args.epochs, budgets) != (EPOCHS, list(WIDTHS)):
        print("  (a quick look: one-time tracing and XLA compilation weigh heavily in both paths; "
              "compare ratios at full protocol)")


if __name__ == "__main__":
    main()
