"""CIFAR-10: the official python batches from the data directory, or tensorflow-datasets.

The python-batch layout (`cifar-10-batches-py/`: `data_batch_1..5`, `test_batch`,
`batches.meta`, each a pickle with `b"data"` uint8 (10000, 3072) channel-major and
`b"labels"`) is read from the first of these folders in the data directory:

    <data_dir>/cifar-10-batches-py                 (the official download, untarred)
    <data_dir>/cifar10-jpeg/cifar-10-batches-py    (the offline JPEG stand-in)

A `SHA256SUMS` in the batch folder, or in its parent listing the batch files by bare
name (the stand-in's layout), is verified first; the official download has none.

Splits follow KTH DD2424's Assignment 1 by default: `data_batch_1` trains,
`data_batch_2` validates, `test_batch` tests (10,000 / 10,000 / 10,000). Other
batches can be named (e.g. `train=("data_batch_1", ..., "data_batch_4")`).

The stand-in is decoded from a JPEG export: not pixel-identical to the official
batches (JPEG loss, class-balanced batches). `Splits.source` says which data was
read and starts with `STANDIN` for the stand-in, so result tables can label it.

With `source="tfds"` the data comes from tensorflow-datasets' `cifar10` (downloaded
once when online). tfds stores the 50,000 training images in its own order and
exposes no batch boundaries, so the same split *semantics* are used: the first
`10,000 * len(train)` images of tfds' train split train, the next
`10,000 * len(val)` validate, tfds' test split tests. Sizes and disjointness match
the batch protocol; the images are not those of `data_batch_1` / `data_batch_2`.
(A train split smaller than that, as under `tfds.testing.mock_data`, is cut in the
same proportions; `source` states the sizes.)
"""

import dataclasses
import pickle
from pathlib import Path

from tfdl.data import tfds_source
from tfdl.data.errors import DataError
from tfdl.data.files import find_folder, verify_checksums
from tfdl.data.splits import Splits

import numpy as np

FOLDERS = ("cifar-10-batches-py", "cifar10-jpeg/cifar-10-batches-py")
BATCH_SIZE = 10_000
IMAGE_SHAPE = (32, 32, 3)
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck")
STANDIN = "CIFAR-10 JPEG stand-in"
LAYOUTS = ("flat", "image")


def load_cifar10(train=("data_batch_1",), val=("data_batch_2",), test=("test_batch",),
                 source="batches", layout="flat", dtype="float32", data_dir=None,
                 tfds_data_dir=None):
    """Loads CIFAR-10 with integer labels.

    Args:
        train, val, test: batch files forming each split (python-batch source); for
            tfds, only their lengths matter (see the module docstring).
        source: "batches" (the python-batch folder in the data directory) or "tfds".
        layout: "flat" gives 3072-vectors in the batch files' channel-major order
            (1024 red, 1024 green, 1024 blue values: the assignment's columns of X);
            "image" gives (32, 32, 3) height-width-channel images.
        dtype: "float32" (values scaled to [0, 1]) or "uint8" (raw 0..255).
        data_dir: the user's `--data-dir` (None: `$TFDL_DATA_DIR`).
        tfds_data_dir: tensorflow-datasets' data directory, for source="tfds".

    Returns:
        A `Splits`; `source` names the data (official batches, stand-in or tfds).

    Raises:
        DataError: data directory or files missing, checksum mismatch, bad arguments.
    """
    if layout not in LAYOUTS:
        raise DataError(f"unknown layout {layout!r}; valid: {', '.join(map(repr, LAYOUTS))}")
    if dtype not in ("float32", "uint8"):
        raise DataError(f"unknown dtype {dtype!r}; valid: 'float32', 'uint8'")
    if source == "batches":
        folder = find_folder("CIFAR-10 (python batches)", FOLDERS, data_dir)
        _verify(folder)
        arrays, filenames = zip(*(_read_batches(folder, names) for names in (train, val, test)))
        label = STANDIN if _is_standin(folder, filenames[0]) else "CIFAR-10 official python batches"
        description = f"{label} ({folder}; train={'+'.join(train)}, val={'+'.join(val)}, " \
                      f"test={'+'.join(test)})"
    elif source == "tfds":
        arrays = _from_tfds(len(train), len(val), tfds_data_dir)
        description = (f"CIFAR-10 (tfds; train = first {len(arrays[0][1]):,} of tfds train, "
                       f"val = next {len(arrays[1][1]):,}, test = tfds test)")
    else:
        raise DataError(f"unknown CIFAR-10 source {source!r}; valid: 'batches', 'tfds'")
    splits = [(_convert(x, layout, dtype), y.astype(np.int64)) for x, y in arrays]
    return Splits(train=splits[0], val=splits[1], test=splits[2], num_classes=10,
                  source=description)


def is_standin(splits):
    """True when `splits` came from the JPEG stand-in rather than official CIFAR-10."""
    return splits.source.startswith(STANDIN)


def held_out_task(splits, held_out, pretrain_examples=None, pretrain_val_examples=None,
                  task_examples=None):
    """A transfer-learning stand-in from CIFAR-10: pretraining on the classes not in
    `held_out`, then a binary task on the two `held_out` classes.

    Args:
        splits: CIFAR-10 `Splits` (any layout).
        held_out: two class ids `(negative, positive)` of the binary task (e.g. cat, dog).
        pretrain_examples: first N pretraining images kept (None: all).
        pretrain_val_examples: first N held-out pretraining images kept (None: all).
        task_examples: first N images of each binary split kept (None: all).

    Returns:
        `(pretrain, pretrain_val, task)`. `pretrain`: `(x, y)` of the train and val images of
        the other classes (train first), relabelled 0, 1, ... in class-id order; `pretrain_val`:
        the test images of those classes, relabelled alike; `task`: `{"train", "val", "test":
        (x, y)}` of the `held_out` images of each split, y = 1 for `held_out[1]`, 0 for
        `held_out[0]`.
    """
    x_all = np.concatenate([splits.train[0], splits.val[0]])
    y_all = np.concatenate([splits.train[1], splits.val[1]])
    others = [c for c in range(splits.num_classes) if c not in held_out]
    remap = np.full(splits.num_classes, -1)
    remap[others] = np.arange(len(others))
    keep = remap[y_all] >= 0
    pretrain = (x_all[keep][:pretrain_examples], remap[y_all[keep]][:pretrain_examples])
    x_test, y_test = splits.test
    test = remap[y_test] >= 0
    pretrain_val = (x_test[test][:pretrain_val_examples],
                    remap[y_test[test]][:pretrain_val_examples])

    def binary(split):
        x, y = split
        mask = np.isin(y, held_out)
        return x[mask][:task_examples], (y[mask] == held_out[1]).astype(np.int64)[:task_examples]

    task = {"train": binary(splits.train), "val": binary(splits.val), "test": binary(splits.test)}
    return pretrain, pretrain_val, task


def standardize(splits):
    """Normalizes every split with the training split's per-dimension mean and std.

    The assignment's preprocessing (after scaling to [0, 1]). Dimensions with zero
    training std are only centred.
    """
    x_train = splits.train[0]
    mean = x_train.mean(axis=0, dtype=np.float64)
    std = x_train.std(axis=0, dtype=np.float64)
    std[std == 0] = 1.0

    def norm(split):
        return ((split[0] - mean) / std).astype(np.float32), split[1]

    return dataclasses.replace(splits, train=norm(splits.train), val=norm(splits.val),
                               test=norm(splits.test))


def template_images(weights):
    """Rows of a (10, 3072) weight matrix (channel-major, like the batch files) as
    (10, 32, 32, 3) images."""
    weights = np.asarray(weights)
    return weights.reshape(len(weights), 3, 32, 32).transpose(0, 2, 3, 1)


def _verify(folder):
    """Verifies the folder's SHA256SUMS, or its parent's when that one lists the batch
    files by bare name (the stand-in keeps SHA256SUMS next to `cifar-10-batches-py/`)."""
    if (folder / "SHA256SUMS").is_file():
        verify_checksums(folder)
        return
    parent_sums = folder.parent / "SHA256SUMS"
    if not parent_sums.is_file():
        return  # the official download ships no checksums
    names = [line.split(maxsplit=1)[1].lstrip("*") for line in parent_sums.read_text().splitlines()
             if line.strip()]
    if any((folder.parent / name).is_file() for name in names):
        verify_checksums(folder.parent)  # paths relative to the parent
    elif "data_batch_1" in names or "test_batch" in names:
        verify_checksums(folder, sums_file="../SHA256SUMS")


def _is_standin(folder, filenames):
    """The stand-in lives in `cifar10-jpeg/` and names its images `*.jpg` (official: `*.png`)."""
    return "cifar10-jpeg" in Path(folder).parts or any(n.endswith(b".jpg") for n in filenames[:10])


def _read_batches(folder, names):
    xs, ys, filenames = [], [], []
    for name in names:
        batch = _unpickle(folder / name)
        try:
            x = np.asarray(batch[b"data"], dtype=np.uint8)
            y = np.asarray(batch[b"labels"], dtype=np.int64)
        except KeyError as err:
            raise DataError(
                f"{folder / name} lacks {err.args[0]!r}: not a CIFAR-10 batch") from None
        if x.ndim != 2 or x.shape[1] != 3072 or len(x) != len(y):
            raise DataError(f"{folder / name}: data has shape {x.shape} for {len(y)} labels; "
                            "expected (N, 3072) and N labels")
        xs.append(x)
        ys.append(y)
        filenames += list(batch.get(b"filenames", []))
    return (np.concatenate(xs), np.concatenate(ys)), filenames


def _unpickle(path):
    if not path.is_file():
        raise DataError(f"{path} is missing: the CIFAR-10 folder is incomplete")
    try:
        with open(path, "rb") as f:
            return pickle.load(f, encoding="bytes")
    except (pickle.UnpicklingError, EOFError, ValueError) as err:
        raise DataError(f"{path} is not a readable CIFAR-10 batch ({err})") from err


def _from_tfds(n_train, n_val, tfds_data_dir):
    (x_all, y_all), (x_test, y_test) = tfds_source.load("cifar10", data_dir=tfds_data_dir)
    cut_train, cut_val = n_train * BATCH_SIZE, (n_train + n_val) * BATCH_SIZE
    if len(y_all) < cut_val:
        # Smaller than the real set (tfds.testing.mock_data): same proportions.
        cut_train = len(y_all) * n_train // (n_train + n_val)
        cut_val = len(y_all)
    # tfds gives (N, 32, 32, 3) images; bring them to the batch files' channel-major rows.
    to_rows = lambda x: x.transpose(0, 3, 1, 2).reshape(len(x), -1)  # noqa: E731
    return [(to_rows(x_all[:cut_train]), y_all[:cut_train]),
            (to_rows(x_all[cut_train:cut_val]), y_all[cut_train:cut_val]),
            (to_rows(x_test), y_test)]


def _convert(rows, layout, dtype):
    x = rows if layout == "flat" else rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    x = np.ascontiguousarray(x)
    return x if dtype == "uint8" else (x / np.float32(255.0)).astype(np.float32)
