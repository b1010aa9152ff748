"""Early stopping on a step-based validation schedule."""

import math

import keras


class StepEarlyStopping(keras.callbacks.Callback):
    """Stops (or only marks where it would stop) when validation loss has not improved
    for `patience` consecutive validations of a `ValidateEvery` callback.

    Keras's `EarlyStopping` works per epoch; the reports validate every N steps.
    Put this callback *after* its validator in the callbacks list.

    Args:
        validator: the `ValidateEvery` whose losses are watched.
        patience: validations without improvement before stopping.
        min_delta: an improvement must lower the loss by more than this.
        stop_training: stop the run (True), or keep training and only record the step
            early stopping would have chosen (False) — as a report that trains the full
            budget and reads the stopping point off the curve.
        restore_best_weights: when stopping, restore the weights of the best validation.

    Attributes:
        best_step, best_loss: the best validation so far.
        stopped_step: the step at which patience ran out (None if it never did).
    """

    def __init__(self, validator, patience=5, min_delta=0.0, stop_training=True,
                 restore_best_weights=True):
        super().__init__()
        self.validator = validator
        self.patience = patience
        self.min_delta = min_delta
        self.stop = stop_training
        self.restore_best_weights = restore_best_weights
        self.best_step, self.best_loss, self.stopped_step = None, math.inf, None
        self._seen = 0
        self._wait = 0
        self._best_weights = None

    def on_train_batch_end(self, batch, logs=None):
        losses = self.validator.history["loss"]
        while self._seen < len(losses):
            self._consider(self.validator.history["step"][self._seen], losses[self._seen])
            self._seen += 1

    def on_train_begin(self, logs=None):
        self.on_train_batch_end(0)

    def _consider(self, step, loss):
        if self.stopped_step is not None:
            return
        if loss < self.best_loss - self.min_delta:
            self.best_step, self.best_loss, self._wait = step, loss, 0
            if self.restore_best_weights and self.stop:
                self._best_weights = self.model.get_weights()
            return
        self._wait += 1
        if self._wait >= self.patience:
            self.stopped_step = step
            if self.stop:
                self.model.stop_training = True
                if self._best_weights is not None:
                    self.model.set_weights(self._best_weights)
