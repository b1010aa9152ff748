"""Benchmark: per-epoch times of report 000's batch-128 workload, tfdl vs a hand-written loop.

784-128 ReLU-10 softmax, Adam lr 0.002, batch 128 (390 steps an epoch), validation loss and
accuracy on all 10,000 validation images after every step. Each epoch is timed on its own, so a
run that changes speed part way (as the 2-vCPU machines here do) shows it, instead of one mean:

  tfdl    tfdl.training.train, one epoch per compiled call, ValidateEvery(every=1) inside it;
  hand    report000_batch128.py's reference epoch without XLA: one tf.function per epoch
          with the same ops, data held as tensors, no Keras;
  hand-xla  the same with jit_compile=True: report000_batch128.py's reference epoch.

`--threads 1` pins TensorFlow to one thread (run it under `taskset -c 0` to pin the core too):
what is left is the work each path does, without the machine's scheduling.

    python benchmarks/epoch_times.py [--epochs 6] [--threads N] [--paths tfdl hand hand-xla]
"""

import argparse
import time

import _speed  # first: keeps TensorFlow's start-up notices off the console
import numpy as np
import report000_batch128 as report
import tensorflow as tf

STEPS = 50_000 // report.BATCH


def tfdl_epochs(epochs):
    from tfdl import callbacks as cb
    from tfdl import training
    from tfdl.data import load_mnist
    from tfdl.models import mlp

    splits = load_mnist(validation=10_000)
    model = training.compile_model(mlp(784, [128], 10), report.LR, optimizer="adam")
    validate = cb.ValidateEvery(*splits.val, "sparse_categorical_crossentropy", every=1)
    for _ in range(epochs):
        start = time.perf_counter()
        training.train(model, *splits.train, batch_size=report.BATCH, steps=STEPS,
                       steps_per_execution=STEPS, callbacks=[validate], drop_remainder=True)
        yield time.perf_counter() - start


def hand_epochs(epochs, jit_compile=False):
    (x, y), (xv, yv), _ = _speed.mnist(validation=10_000)
    X, Y, XV, YV = map(tf.constant, (x, y, xv, yv))
    rng, params, m, v = report.initial()
    epoch = report.epoch_function(X, Y, XV, YV, jit_compile=jit_compile)
    t = tf.constant(0.0)
    for _ in range(epochs):
        start = time.perf_counter()
        idx = tf.constant(rng.permutation(len(y))[:STEPS * report.BATCH]
                          .reshape(STEPS, report.BATCH))
        params, m, v, t, *values = epoch(params, m, v, t, idx)
        for value in values:
            value.numpy()
        yield time.perf_counter() - start


PATHS = {"tfdl": tfdl_epochs, "hand": hand_epochs,
         "hand-xla": lambda epochs: hand_epochs(epochs, jit_compile=True)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--threads", type=int, help="TensorFlow intra- and inter-op threads")
    parser.add_argument("--paths", nargs="+", choices=list(PATHS), default=list(PATHS))
    args = parser.parse_args()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    print(f"seconds per epoch ({STEPS} Adam steps of batch {report.BATCH} + {STEPS} validations "
          f"of 10,000 images; the first epoch includes tracing), threads "
          f"{args.threads or 'default'}:")
    for name in args.paths:
        times = list(PATHS[name](args.epochs))
        print(f"  {name:<9} " + " ".join(f"{s:5.1f}" for s in times)
              + f"   min {min(times[1:] or times):.1f}, median {np.median(times[1:] or times):.1f}",
              flush=True)
    print(f"  ({_speed.load()})")


if __name__ == "__main__":
    main()
