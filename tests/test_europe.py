"""tfdl.data.europe: the Europe countries loader on CSVs the tests make (format, checksums,
missing data)."""

import hashlib

from tfdl.data import DataError, load_europe

import numpy as np
import pytest

ROWS = {"train.csv": 40, "validation.csv": 10, "test.csv": 10}


def _write_europe(root, rows=ROWS, corrupt=None):
    folder = root / "europe"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    sums = []
    for name, n in rows.items():
        lines = [",long,lat,country"]
        for i in range(n):
            long, lat = rng.uniform(-10, 40), rng.uniform(35, 70)
            lines.append(f"{1000 + i},{long:.6f},{lat:.6f},{i % 33}")
        text = "\n".join(lines) + "\n"
        (folder / name).write_text(text)
        sums.append(f"{hashlib.sha256(text.encode()).hexdigest()}  {name}")
    (folder / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    if corrupt:
        with open(folder / corrupt, "a") as f:
            f.write("999,1.0,2.0,3\n")
    return folder


def test_europe_loader_reads_the_course_format(tmp_path):
    folder = _write_europe(tmp_path)
    splits = load_europe(tmp_path)
    assert splits.sizes() == (40, 10, 10)
    assert splits.num_classes == 33
    x, y = splits.train
    assert x.shape == (40, 2) and x.dtype == np.float32 and y.dtype == np.int64
    first = (folder / "train.csv").read_text().splitlines()[1].split(",")
    np.testing.assert_allclose(x[0], [float(first[1]), float(first[2])], rtol=1e-6)
    assert list(y[:3]) == [0, 1, 2]


def test_europe_checksum_mismatch_is_a_data_error(tmp_path):
    _write_europe(tmp_path, corrupt="validation.csv")
    with pytest.raises(DataError, match="validation.csv does not match its SHA-256"):
        load_europe(tmp_path)


def test_europe_missing_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="Europe countries data .* not found"):
        load_europe(tmp_path)


def test_europe_missing_data_dir_is_a_data_error(monkeypatch):
    monkeypatch.delenv("TFDL_DATA_DIR", raising=False)
    with pytest.raises(DataError, match="no data directory"):
        load_europe()
