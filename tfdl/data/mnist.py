"""MNIST: the copy shipped inside tfdl (default), or tensorflow-datasets.

The four official IDX files ship gzip-compressed in `tfdl/data/mnist/` and are
verified against `SHA256SUMS` on first load. Validation images are taken from
the *start* of the official training file, as TF1's `input_data.read_data_sets`
did (55,000 / 5,000 split) — the same rule gives the 50,000 / 10,000 split.
"""

import gzip
import struct
from pathlib import Path

from tfdl.data import tfds_source
from tfdl.data.errors import DataError
from tfdl.data.files import verify_checksums
from tfdl.data.splits import Splits

import numpy as np

EMBEDDED_DIR = Path(__file__).with_name("mnist")
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
NUM_TRAIN = 60_000


def load_mnist(validation=5_000, source="embedded", flatten=True, data_dir=None):
    """Loads MNIST with pixels scaled to [0, 1] and integer labels.

    Args:
        validation: how many images of the official training set form the
            validation split (5,000 gives report 004's 55,000 / 5,000 / 10,000,
            10,000 gives the 50,000 / 10,000 / 10,000 split).
        source: "embedded" (the copy inside tfdl, no network) or "tfds"
            (tensorflow-datasets; downloads once when online).
        flatten: return images as 784-vectors (True) or 28x28 (False).
        data_dir: tensorflow-datasets' data directory, for source="tfds".

    Returns:
        A `Splits`.
    """
    if not 0 < validation < NUM_TRAIN:
        raise DataError(f"validation must be between 1 and {NUM_TRAIN - 1}, got {validation}")
    if source == "embedded":
        (x_train, y_train), (x_test, y_test) = _read_embedded()
    elif source == "tfds":
        (x_train, y_train), (x_test, y_test) = tfds_source.load("mnist", data_dir=data_dir)
        x_train, x_test = x_train[..., 0], x_test[..., 0]
    else:
        raise DataError(f"unknown MNIST source {source!r}; valid: 'embedded', 'tfds'")
    shape = (-1, 784) if flatten else (-1, 28, 28)
    x_train = (x_train.reshape(shape) / 255.0).astype(np.float32)
    x_test = (x_test.reshape(shape) / 255.0).astype(np.float32)
    y_train, y_test = y_train.astype(np.int64), y_test.astype(np.int64)
    return Splits(
        train=(x_train[validation:], y_train[validation:]),
        val=(x_train[:validation], y_train[:validation]),
        test=(x_test, y_test),
        num_classes=10,
        source=f"MNIST ({source})",
    )


def _read_embedded():
    verify_checksums(EMBEDDED_DIR)
    return tuple(
        (_read_idx(EMBEDDED_DIR / images), _read_idx(EMBEDDED_DIR / labels))
        for images, labels in FILES.values()
    )


def _read_idx(path):
    """Reads a gzip-compressed IDX file (the MNIST format) into a uint8 array."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:
        raise DataError(f"{path} is not a readable gzip file ({err})") from err
    if len(raw) < 4:
        raise DataError(f"{path} is truncated: no IDX header")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise DataError(f"{path} is not an unsigned-byte IDX file")
    header_end = 4 + 4 * ndim
    dims = struct.unpack(f">{ndim}I", raw[4:header_end])
    expected = int(np.prod(dims))
    if len(raw) - header_end != expected:
        raise DataError(
            f"{path} is truncated: header says {expected} values, file has "
            f"{len(raw) - header_end}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_end).reshape(dims)
