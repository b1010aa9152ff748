import gzip
import shutil

from tfdl.data import DataError, data_dir, load_mnist, tfds_source, verify_checksums
from tfdl.data import mnist as mnist_module

import numpy as np
import pytest


def test_mnist_report_004_split():
    splits = load_mnist(validation=5_000)
    assert splits.sizes() == (55_000, 5_000, 10_000)
    x, y = splits.train
    assert x.shape == (55_000, 784) and x.dtype == np.float32
    assert 0.0 == x.min() and x.max() == 1.0
    assert set(np.unique(y)) == set(range(10))


def test_mnist_50k_split_takes_validation_from_the_start():
    a, b = load_mnist(validation=10_000), load_mnist(validation=5_000)
    assert a.sizes() == (50_000, 10_000, 10_000)
    np.testing.assert_array_equal(a.val[0][:5_000], b.val[0])
    np.testing.assert_array_equal(a.train[0], b.train[0][5_000:])


def test_mnist_images_unflattened():
    assert load_mnist(flatten=False).test[0].shape == (10_000, 28, 28)


def _copy_embedded(tmp_path):
    folder = tmp_path / "mnist"
    shutil.copytree(mnist_module.EMBEDDED_DIR, folder)
    return folder


def test_checksum_mismatch_is_a_clear_error(tmp_path):
    folder = _copy_embedded(tmp_path)
    with open(folder / "t10k-labels-idx1-ubyte.gz", "ab") as f:
        f.write(b"x")
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz does not match its SHA-256"):
        verify_checksums(folder)


def test_truncated_idx_file_is_a_clear_error(tmp_path):
    path = tmp_path / "labels.gz"
    with gzip.open(mnist_module.EMBEDDED_DIR / "t10k-labels-idx1-ubyte.gz") as f:
        raw = f.read()
    with gzip.open(path, "wb") as f:
        f.write(raw[:-100])
    with pytest.raises(DataError, match="truncated"):
        mnist_module._read_idx(path)


def test_corrupt_gzip_is_a_clear_error(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="not a readable gzip file"):
        mnist_module._read_idx(path)


def test_data_dir_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("TFDL_DATA_DIR", raising=False)
    with pytest.raises(DataError, match="--data-dir"):
        data_dir()
    with pytest.raises(DataError, match="does not exist"):
        data_dir(str(tmp_path / "nope"))
    monkeypatch.setenv("TFDL_DATA_DIR", str(tmp_path))
    assert data_dir() == tmp_path


def test_unknown_source_and_bad_split():
    with pytest.raises(DataError, match="valid: 'embedded', 'tfds'"):
        load_mnist(source="internet")
    with pytest.raises(DataError, match="validation"):
        load_mnist(validation=0)


def test_tfds_offline_fails_fast(tmp_path, monkeypatch):
    monkeypatch.setattr(tfds_source, "_online", lambda: False)
    with pytest.raises(DataError, match="network is unreachable"):
        load_mnist(source="tfds", data_dir=str(tmp_path))


def test_tfds_path_with_mock_data(monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    # mock_data replaces the download and preparation; it must not be reached for real.
    monkeypatch.setattr(tfds_source, "_online", lambda: True)
    with tfds.testing.mock_data(num_examples=64):
        splits = load_mnist(source="tfds", validation=16)
    assert splits.sizes() == (48, 16, 64)
    assert splits.train[0].shape == (48, 784) and splits.train[0].max() <= 1.0
