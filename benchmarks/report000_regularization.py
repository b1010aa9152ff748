"""Benchmark: report 000 (hw2_mydnn) section b, regularization at full protocol — its costliest
experiment.

784-128 ReLU-10 softmax, Glorot-uniform init, Adam lr 0.002, sparse cross-entropy plus an L1 or
L2 penalty on both kernels, batch 1024 from 50,000 MNIST images (last partial batch dropped):
a search of 14 L1 decays, 14 L2 decays and 5 "none" trials, 10 epochs each (480 steps), each
scored on the validation, train and test sets; then three final runs (best L1, best L2, none),
20 epochs each with the validation set (10,000 images) evaluated after every step. Timed two
ways in one process:

  tfdl       the experiment function itself (reproductions/hw2_mydnn.py `regularization`,
             profile full: keras-tuner grid search, then `training.fit`), in a temp dir;
  reference  a hand-written loop importing nothing from tfdl: one `tf.function(jit_compile=True)`
             per epoch (the final runs' validations inside it), values kept in tensors;

and a FLOP floor (3x forward matmuls per step + every evaluation's forward pass) at the
machine's measured float32 matmul peak.

    python benchmarks/report000_regularization.py [--epochs 1 --decays 2]   # a quick look
"""

import argparse

import _speed  # first: keeps TensorFlow's start-up notices off the console
import numpy as np
import tensorflow as tf
from report000_batch128 import _glorot, _scores

WIDTHS, LR, BATCH, EPOCHS, FINAL_EPOCHS = [784, 128, 10], 0.002, 1024, 10, 20
DECAY_GRID = [m * 10.0 ** k for k in range(-7, 0) for m in (1, 5)]


def _penalty(params, norm, decay):
    kernels = (params[0], params[2])
    if norm == "l1":
        return decay * sum(tf.reduce_sum(tf.abs(k)) for k in kernels)
    if norm == "l2":
        return decay * sum(tf.reduce_sum(tf.square(k)) for k in kernels)
    return 0.0


def _epoch_fn(norm, validate):
    """One epoch as one compiled call (traced once per norm and validation choice)."""
    @tf.function(jit_compile=True)
    def epoch(params, m, v, t, idx, decay, X, Y, XV, YV):
        losses = tf.TensorArray(tf.float32, size=idx.shape[0])
        vals = tf.TensorArray(tf.float32, size=idx.shape[0], element_shape=(2,))
        for i in tf.range(idx.shape[0]):
            with tf.GradientTape() as tape:
                tape.watch(params)
                loss = (_scores(params, tf.gather(X, idx[i]), tf.gather(Y, idx[i]))[0]
                        + _penalty(params, norm, decay))
            params, m, v, t = _speed.adam(params, tape.gradient(loss, params), m, v, t, LR)
            losses = losses.write(i, loss)
            if validate:
                vals = vals.write(i, tf.stack(_scores(params, XV, YV)))
        return params, m, v, t, losses.stack(), vals.stack() if validate else tf.zeros((0, 2))

    return epoch


def _train(epoch, data, decay, epochs, seed):
    """One run; returns (final params, per-step losses, validation curve)."""
    (X, Y), (XV, YV) = data
    rng = np.random.default_rng(seed)
    params = [_glorot(rng, 784, 128), tf.zeros(128), _glorot(rng, 128, 10), tf.zeros(10)]
    m = [tf.zeros_like(p) for p in params]
    v = [tf.zeros_like(p) for p in params]
    t = tf.constant(0.0)
    steps, losses, curve = len(Y) // BATCH, [], []
    for _ in range(epochs):
        idx = rng.permutation(len(Y))[:steps * BATCH].reshape(steps, BATCH)
        params, m, v, t, step_losses, vals = epoch(params, m, v, t, tf.constant(idx),
                                                   tf.constant(decay, tf.float32), X, Y, XV, YV)
        losses += step_losses.numpy().tolist()  # one read per execution
        curve += vals.numpy().tolist()
    return params, losses, curve


def reference(epochs, final_epochs, decays, seed=0):
    """Returns {norm: (best decay, final run's test accuracy)}."""
    (x, y), (xv, yv), (xt, yt) = _speed.mnist(validation=10_000)
    X, Y, XV, YV, XT, YT = map(tf.constant, (x, y, xv, yv, xt, yt))
    scores = tf.function(_scores, jit_compile=True)
    out = {}
    for norm in ("l1", "l2", "none"):
        trials = decays if norm != "none" else decays[::3]
        best, best_acc = None, -1.0
        search, final = _epoch_fn(norm, validate=False), _epoch_fn(norm, validate=True)
        for decay in trials:
            params, _, _ = _train(search, ((X, Y), (XV, YV)), decay, epochs, seed)
            val_acc = float(scores(params, XV, YV)[1])
            scores(params, X, Y), scores(params, XT, YT)  # the trial's train and test scores
            if val_acc > best_acc:
                best, best_acc = decay, val_acc
        final_decay = best if norm != "none" else 0.0
        params, _, _ = _train(final, ((X, Y), (XV, YV)), final_decay, final_epochs, seed)
        out[norm] = (final_decay, float(scores(params, XT, YT)[1]))
    return out


def tfdl_path(epochs, final_epochs, decays):
    full = epochs == EPOCHS and final_epochs == FINAL_EPOCHS and decays == DECAY_GRID
    return _speed.run_experiment(
        "hw2_mydnn", "regularization",
        None if full else {"reg_epochs": epochs, "reg_final_epochs": final_epochs,
                           "decays": decays, "none_decays": decays[::3]})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="epochs of each search trial")
    parser.add_argument("--final-epochs", type=int, default=FINAL_EPOCHS,
                        help="epochs of each final run")
    parser.add_argument("--decays", type=int, default=len(DECAY_GRID),
                        help="how many decays of the grid, from the smallest")
    args = parser.parse_args()
    decays = DECAY_GRID[:args.decays]
    tfdl_s, metrics = _speed.timed(tfdl_path, args.epochs, args.final_epochs, decays)
    ref_s, ref = _speed.timed(reference, args.epochs, args.final_epochs, decays)
    peak = _speed.matmul_peak()
    steps = 50_000 // BATCH
    trials = 2 * len(decays) + len(decays[::3])
    flops = (trials * (_speed.train_flops(steps * args.epochs, BATCH, WIDTHS)
                       + _speed.forward_flops(70_000, WIDTHS))
             + 3 * (_speed.train_flops(steps * args.final_epochs, BATCH, WIDTHS)
                    + steps * args.final_epochs * _speed.forward_flops(10_000, WIDTHS)))
    _speed.report(f"report 000, regularization: {trials} search trials x {args.epochs} epochs, "
                  f"3 final runs x {args.final_epochs} epochs with validation every step "
                  f"(batch {BATCH})",
                  {"tfdl (experiment function)": tfdl_s, "reference": ref_s}, flops, peak)
    for norm, (decay, acc) in ref.items():
        run = metrics["runs"][norm]
        print(f"  {norm}: best decay tfdl {run['decay']:g}, reference {decay:g}; final test "
              f"accuracy tfdl {run['final']['test']['accuracy']:.4f}, reference {acc:.4f}")


if __name__ == "__main__":
    main()
