"""Benchmark: what validation after every iteration costs.

784-128-10 ReLU net, batch 128, 4 epochs of MNIST (1,560 steps), SGD lr 0.1. Prints the
wall time of plain training, of training with `tfdl.callbacks.ValidateEvery(every=1)` on
the 10,000-image validation set, and of the naive way (`model.evaluate` in a callback
every step, only timed over the first epoch and extrapolated, since it is slow), with
the ratios to plain training.

    python benchmarks/validation_overhead.py
"""

import time

from tfdl import callbacks as cb
from tfdl import training
from tfdl.data import load_mnist
from tfdl.models import mlp

import keras

BATCH, EPOCHS, LR = 128, 4, 0.1
LOSS = "sparse_categorical_crossentropy"


class NaiveValidation(keras.callbacks.Callback):
    def __init__(self, x, y):
        super().__init__()
        self.x, self.y = x, y

    def on_train_batch_end(self, batch, logs=None):
        self.model.evaluate(self.x, self.y, batch_size=10_000, verbose=0)


def timed(callbacks, epochs):
    keras.utils.set_random_seed(0)
    splits = load_mnist(validation=10_000)
    model = training.compile_model(mlp(784, [128], 10), LR, loss=LOSS)
    training.train(model, *splits.train, batch_size=BATCH, steps=5)  # build and trace first
    start = time.perf_counter()
    result = training.train(model, *splits.train, batch_size=BATCH, epochs=epochs,
                            callbacks=callbacks(splits), drop_remainder=True)
    return time.perf_counter() - start, result.steps


def main():
    plain, steps = timed(lambda s: [], EPOCHS)
    ours, _ = timed(lambda s: [cb.ValidateEvery(*s.val, LOSS, every=1)], EPOCHS)
    naive_one_epoch, naive_steps = timed(lambda s: [NaiveValidation(*s.val)], 1)
    naive = naive_one_epoch * steps / naive_steps
    print(f"{steps} steps of 784-128-10, batch {BATCH}, {EPOCHS} epochs")
    print(f"plain training:                      {plain:7.1f} s")
    print(f"+ ValidateEvery(every=1), compiled:  {ours:7.1f} s   ratio {ours / plain:5.2f}x")
    print(f"+ model.evaluate every step (est.):  {naive:7.1f} s   ratio {naive / plain:5.2f}x")


if __name__ == "__main__":
    main()
