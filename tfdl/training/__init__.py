"""Training: the loop on preloaded tensors (loop), keras-tuner searches (tuning), and the
transfer-learning protocol (transfer)."""

from tfdl.training.loop import (
    OPTIMIZERS,
    TrainResult,
    batches,
    compile_model,
    evaluate,
    steps_per_epoch,
    train,
)

__all__ = ["OPTIMIZERS", "TrainResult", "batches", "compile_model", "evaluate",
           "steps_per_epoch", "train"]
