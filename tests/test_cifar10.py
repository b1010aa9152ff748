"""tfdl.data.cifar10: the python-batch loader (flat and image layouts), the JPEG stand-in and
its checksums, standardization, the tfds path, on batch files the tests make."""

import os
import pickle
from pathlib import Path

from tfdl.data import DataError, cifar10, tfds_source
from tfdl.data.files import sha256

import numpy as np
import pytest

STANDIN = Path(os.environ.get("TFDL_DATA_DIR", "/nonexistent")) / "cifar10-jpeg"


def _fake_batches(folder, n=30, standin=True):
    """A small python-batch folder with known contents (pickles as the official files)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    ext = b".jpg" if standin else b".png"
    contents = {}
    for name in ("data_batch_1", "data_batch_2", "test_batch"):
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = list(rng.integers(0, 10, n))
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": data, b"labels": labels, b"batch_label": name.encode(),
                         b"filenames": [b"img%d" % i + ext for i in range(n)]}, f)
        contents[name] = (data, np.array(labels))
    return contents


def _write_sums(sums_path, folder, names):
    lines = [f"{sha256(folder / n)}  {n}" for n in names]
    sums_path.write_text("\n".join(lines) + "\n")


def test_loader_reads_the_assignment_split_flat_and_image(tmp_path):
    contents = _fake_batches(tmp_path / "cifar-10-batches-py", standin=False)
    splits = cifar10.load_cifar10(data_dir=str(tmp_path))
    assert splits.sizes() == (30, 30, 30) and splits.num_classes == 10
    x, y = splits.train
    assert x.shape == (30, 3072) and x.dtype == np.float32
    np.testing.assert_allclose(x, contents["data_batch_1"][0] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, contents["data_batch_1"][1])
    np.testing.assert_array_equal(splits.val[1], contents["data_batch_2"][1])
    np.testing.assert_array_equal(splits.test[1], contents["test_batch"][1])
    assert splits.source.startswith("CIFAR-10 official python batches")
    assert not cifar10.is_standin(splits)
    images = cifar10.load_cifar10(data_dir=str(tmp_path), layout="image", dtype="uint8")
    raw = contents["data_batch_1"][0][0]
    assert images.train[0].shape == (30, 32, 32, 3) and images.train[0].dtype == np.uint8
    # channel-major rows: the first 1024 values are red, pixel (row 0, col 1) is index 1
    assert images.train[0][0, 0, 1, 0] == raw[1] and images.train[0][0, 0, 0, 2] == raw[2048]
    np.testing.assert_array_equal(cifar10.template_images(raw[None].astype(float))[0],
                                  images.train[0][0])


@pytest.mark.parametrize("corrupt", [False, True])
def test_standin_layout_checksums_in_parent(tmp_path, corrupt):
    # The stand-in keeps SHA256SUMS next to cifar-10-batches-py/, listing bare file names.
    folder = tmp_path / "cifar10-jpeg" / "cifar-10-batches-py"
    _fake_batches(folder)
    names = ["data_batch_1", "data_batch_2", "test_batch"]
    _write_sums(tmp_path / "cifar10-jpeg" / "SHA256SUMS", folder, names)
    if not corrupt:
        splits = cifar10.load_cifar10(data_dir=str(tmp_path))
        assert cifar10.is_standin(splits) and "stand-in" in splits.source
        return
    with open(folder / "data_batch_2", "ab") as f:
        f.write(b"x")
    with pytest.raises(DataError, match="data_batch_2 does not match its SHA-256"):
        cifar10.load_cifar10(data_dir=str(tmp_path))


def test_checksums_inside_the_batch_folder(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    _fake_batches(folder, standin=False)
    _write_sums(folder / "SHA256SUMS", folder, ["test_batch"])
    (folder / "test_batch").write_bytes(b"corrupt")
    with pytest.raises(DataError, match="test_batch does not match"):
        cifar10.load_cifar10(data_dir=str(tmp_path))


def test_missing_data_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="CIFAR-10 .python batches. not found.*cifar-10-batches-py"):
        cifar10.load_cifar10(data_dir=str(tmp_path))
    monkeypatch.delenv("TFDL_DATA_DIR", raising=False)
    with pytest.raises(DataError, match="--data-dir"):
        cifar10.load_cifar10()
    folder = tmp_path / "cifar-10-batches-py"
    _fake_batches(folder, standin=False)
    (folder / "data_batch_2").unlink()
    with pytest.raises(DataError, match="data_batch_2 is missing"):
        cifar10.load_cifar10(data_dir=str(tmp_path))
    with pytest.raises(DataError, match="layout"):
        cifar10.load_cifar10(data_dir=str(tmp_path), layout="chw")


def test_standardize_uses_training_statistics(tmp_path):
    _fake_batches(tmp_path / "cifar-10-batches-py")
    splits = cifar10.standardize(cifar10.load_cifar10(data_dir=str(tmp_path)))
    x_train = splits.train[0]
    np.testing.assert_allclose(x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(x_train.std(axis=0), 1, atol=1e-4)
    assert abs(splits.val[0].mean()) > 1e-4  # normalized with train's stats, not its own


def test_tfds_path_with_mock_data(monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    monkeypatch.setattr(tfds_source, "_online", lambda: True)
    with tfds.testing.mock_data(num_examples=40):
        splits = cifar10.load_cifar10(source="tfds")
        images = cifar10.load_cifar10(source="tfds", layout="image", dtype="uint8")
    assert splits.sizes() == (20, 20, 40)
    assert splits.train[0].shape == (20, 3072) and 0.0 <= splits.train[0].min()
    assert splits.train[0].max() <= 1.0 and splits.source.startswith("CIFAR-10 (tfds")
    assert not cifar10.is_standin(splits)
    # the flat rows are channel-major, as in the batch files
    image = images.train[0][0]
    np.testing.assert_allclose(splits.train[0][0][:1024], image[..., 0].ravel() / 255.0, rtol=1e-6)


def test_tfds_offline_fails_fast(tmp_path, monkeypatch):
    monkeypatch.setattr(tfds_source, "_online", lambda: False)
    with pytest.raises(DataError, match="network is unreachable"):
        cifar10.load_cifar10(source="tfds", tfds_data_dir=str(tmp_path))


@pytest.mark.skipif(not (STANDIN / "SHA256SUMS").is_file(),
                    reason="TFDL_DATA_DIR unset or has no cifar10-jpeg/ (the JPEG stand-in)")
def test_the_shared_standin_loads_and_verifies():
    splits = cifar10.load_cifar10(layout="image", dtype="uint8")
    assert splits.sizes() == (10_000, 10_000, 10_000)
    assert cifar10.is_standin(splits)
    assert np.bincount(splits.train[1]).tolist() == [1000] * 10  # class-balanced batches
