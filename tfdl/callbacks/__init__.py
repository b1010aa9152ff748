"""Callbacks that look inside training: histograms, validation every step, gradient
norms, saturation, step-based early stopping and per-step loss."""

from tfdl.callbacks.early_stopping import StepEarlyStopping
from tfdl.callbacks.gradient_norms import GradientNorms
from tfdl.callbacks.histograms import HistogramLogger
from tfdl.callbacks.history import BatchLoss, StepHistory
from tfdl.callbacks.probe import LayerProbe, mean_abs_gradients_at_init
from tfdl.callbacks.saturation import ActivationSaturation, saturated_fraction
from tfdl.callbacks.validation import ValidateEvery, accuracy
from tfdl.callbacks.weight_trajectory import WeightTrajectory

__all__ = [
    "ActivationSaturation",
    "BatchLoss",
    "GradientNorms",
    "HistogramLogger",
    "LayerProbe",
    "StepEarlyStopping",
    "StepHistory",
    "ValidateEvery",
    "WeightTrajectory",
    "accuracy",
    "mean_abs_gradients_at_init",
    "saturated_fraction",
]
