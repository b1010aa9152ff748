"""Training: the loop on preloaded tensors (loop), one configuration trained and recorded in
the shape every reproduction records (fit), keras-tuner searches (tuning), one compiled model
retrained from other starts (restarts), and the transfer-learning protocol (transfer)."""

from tfdl.training.fit import fit, split
from tfdl.training.loop import (
    OPTIMIZERS,
    TrainResult,
    compile_model,
    evaluate,
    predict,
    steps_per_epoch,
    train,
)

__all__ = ["OPTIMIZERS", "TrainResult", "compile_model", "evaluate", "fit", "predict",
           "split", "steps_per_epoch", "train"]
