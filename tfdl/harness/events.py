"""Reading TensorBoard event files back: which histograms a run holds, and their values."""

import numpy as np
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def load(run_dir):
    """An `EventAccumulator` over every event file in `run_dir`, fully loaded."""
    accumulator = EventAccumulator(str(run_dir), size_guidance={"tensors": 0, "scalars": 0})
    accumulator.Reload()
    return accumulator


def tags(run_dir):
    """The tags written with `tf.summary` (histograms and scalars) in `run_dir`."""
    return set(load(run_dir).Tags()["tensors"])


def histograms(run_dir, tag):
    """`[(step, buckets)]` for a histogram tag; buckets is an array of (left, right, count)."""
    return [(event.step, tf.make_ndarray(event.tensor_proto))
            for event in load(run_dir).Tensors(tag)]


def scalars(run_dir, tag):
    """`[(step, value)]` for a scalar tag."""
    return [(event.step, float(np.asarray(tf.make_ndarray(event.tensor_proto))))
            for event in load(run_dir).Tensors(tag)]
