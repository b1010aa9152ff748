"""Benchmark: report 004 (hw2_init_variance) early-stopping part at full protocol — its costliest
experiment.

784-256 sigmoid-10 softmax, N(0, variance 0.1) weights, zero biases, ½ squared error, SGD at lr 2,
batch 1000 from 55,000 MNIST images (reshuffled each pass), 100,000 steps; test cross-entropy and
accuracy on 10,000 images at step 0 and every 100 steps, validation cross-entropy on 5,000 images
every 1,000 steps (early stopping reads it with a patience of 10). Timed two ways in one process:

  tfdl       the experiment function itself (reproductions/hw2_init_variance.py
             `early_stopping`, profile full), results in a temp dir;
  reference  a hand-written loop importing nothing from tfdl: one `tf.function(jit_compile=True)`
             runs 100 steps and the test evaluation, the validation every 10th call;

and a FLOP floor (3x forward matmuls per step + the test and validation forwards) at the
machine's measured float32 matmul peak.

    python benchmarks/report004_early_stopping.py [--steps 5000]   # a quick look
"""

import argparse

import _speed  # first: keeps TensorFlow's start-up notices off the console
import numpy as np
import tensorflow as tf
from report004_learning_rate import (
    BATCH,
    EVERY,
    WIDTHS,
    _normal,
    _scores,
    batch_order,
    sgd_chunk,
)

LR, STEPS, VALIDATE_EVERY, PATIENCE = 2.0, 100_000, 1000, 10


def reference(steps, seed=0):
    """Returns (per-step losses, test curve, validation curve, stopping step, test accuracy)."""
    (x, y), (xv, yv), (xt, yt) = _speed.mnist(validation=5_000)
    X, Y = tf.constant(x), tf.one_hot(y, 10)
    XV, YV = tf.constant(xv), tf.one_hot(yv, 10)
    XT, YT = tf.constant(xt), tf.one_hot(yt, 10)
    scores = tf.function(_scores, jit_compile=True)

    chunk = sgd_chunk(X, Y, XT, YT)

    rng = np.random.default_rng(seed)
    params = [_normal(rng, 784, 256), tf.zeros(256), _normal(rng, 256, 10), tf.zeros(10)]
    order = batch_order(rng, len(y), steps)
    losses, curve, val = [], [float(scores(params, XT, YT)[0])], []
    best, best_step, waited, stopped = np.inf, None, 0, None
    lr = tf.constant(LR)
    for k, block in enumerate(order, start=1):
        params, block_losses, (ce, _, _) = chunk(params, tf.constant(block), lr)
        losses.extend(block_losses.numpy().tolist())  # one read per execution
        curve.append(float(ce))
        if (k * EVERY) % VALIDATE_EVERY == 0:
            val.append(float(scores(params, XV, YV)[0]))
            if val[-1] < best:
                best, best_step, waited = val[-1], k * EVERY, 0
            else:
                waited += 1
                if waited == PATIENCE and stopped is None:
                    stopped = best_step
    return losses, curve, val, stopped, float(scores(params, XT, YT)[2])


def tfdl_path(steps):
    return _speed.run_experiment("hw2_init_variance", "early_stopping",
                                 None if steps == STEPS else {"es_max_steps": steps})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=STEPS,
                        help="SGD steps (a multiple of 1,000; default the report's 100,000)")
    args = parser.parse_args()
    tfdl_s, metrics = _speed.timed(tfdl_path, args.steps)
    ref_s, ref = _speed.timed(reference, args.steps)
    peak = _speed.matmul_peak()
    flops = (_speed.train_flops(args.steps, BATCH, WIDTHS)
             + (args.steps // EVERY + 2) * _speed.forward_flops(10_000, WIDTHS)
             + args.steps // VALIDATE_EVERY * _speed.forward_flops(5_000, WIDTHS)
             + _speed.forward_flops(55_000, WIDTHS))
    _speed.report(f"report 004, early stopping: {args.steps} SGD steps of batch {BATCH} at lr "
                  f"{LR:g}, test curve every {EVERY}, validation every {VALIDATE_EVERY}",
                  {"tfdl (experiment function)": tfdl_s, "reference": ref_s}, flops, peak)
    print(f"  tfdl training only (its wall_s): {metrics['wall_s']:.2f} s")
    # lr 2 is chaotic: a run trains or saturates at once, so the two paths (their own random
    # draws) may end apart; the timing compares the same work either way.
    print(f"  stopping step: tfdl {metrics['stopping_step']}, reference {ref[3]}; test accuracy: "
          f"tfdl {metrics['final']['test']['accuracy']:.4f}, reference {ref[4]:.4f}")


if __name__ == "__main__":
    main()
