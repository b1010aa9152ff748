"""tensorflow-datasets as the download path, failing fast when offline.

Offline, `tfds.load` retries for minutes before it raises. Here we first ask
whether the dataset is already prepared in the tfds data directory; if not,
we check in a few seconds that its download host answers, and otherwise raise
a `DataError` that names the offline alternative.
"""

import socket

from tfdl.data.errors import DataError

import numpy as np

DOWNLOAD_HOST = ("storage.googleapis.com", 443)
PROBE_TIMEOUT_S = 3.0


def load(name, data_dir=None, splits=("train", "test")):
    """Returns `[(x, y), ...]` numpy arrays for each split of a tfds dataset."""
    try:
        import tensorflow_datasets as tfds
    except ImportError as err:  # pragma: no cover - tfds is a dependency
        raise DataError("tensorflow-datasets is not installed") from err
    builder = tfds.builder(name, data_dir=data_dir)
    if not builder.is_prepared() and not _online():
        raise DataError(
            f"tensorflow-datasets has no prepared copy of {name!r} in {builder.data_dir} "
            "and the network is unreachable; use the offline copy instead "
            "(the default source, or --data-dir)"
        )
    loaded = tfds.load(name, split=list(splits), as_supervised=True, data_dir=data_dir)
    arrays = []
    for dataset in loaded:
        xs, ys = zip(*tfds.as_numpy(dataset.batch(10_000)))
        arrays.append((np.concatenate(xs), np.concatenate(ys)))
    return arrays


def _online():
    try:
        with socket.create_connection(DOWNLOAD_HOST, timeout=PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False
