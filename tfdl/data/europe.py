"""Europe countries: (longitude, latitude) -> country, the HUJI "Machine Learning Methods" Ex4 data.

The course's three CSV files live in `<data dir>/europe/` with a `SHA256SUMS` file:
`train.csv` (106,897 rows), `validation.csv` (13,363) and `test.csv` (13,363). Each has the
header `,long,lat,country`: an unnamed row id, two float coordinates and an integer class
0..32. The id column is dropped.
"""

from tfdl.data.errors import DataError
from tfdl.data.files import find_folder, verify_checksums
from tfdl.data.splits import Splits

import numpy as np

NUM_CLASSES = 33
FILES = {"train": "train.csv", "val": "validation.csv", "test": "test.csv"}
HEADER = ["", "long", "lat", "country"]


def load_europe(data_dir=None, folder="europe"):
    """Loads the three splits as float32 `(long, lat)` features and int64 country ids.

    Args:
        data_dir: the data directory (`--data-dir`); None reads `$TFDL_DATA_DIR`.
        folder: the dataset's folder inside the data directory.

    Returns:
        A `Splits` with `num_classes=33`.

    Raises:
        DataError: the data directory or folder is missing, a file does not match
            `SHA256SUMS`, or a file is not in the course's format.
    """
    root = find_folder("the Europe countries data (HUJI ML Methods Ex4)", [folder], data_dir)
    verify_checksums(root)
    splits = {split: _read(root / name) for split, name in FILES.items()}
    return Splits(**splits, num_classes=NUM_CLASSES, source=f"europe CSV files in {root}")


def _read(path):
    if not path.is_file():
        raise DataError(f"{path} is missing")
    with open(path) as f:
        header = [h.strip() for h in f.readline().strip().split(",")]
    if header != HEADER:
        raise DataError(f"{path}: header {header} is not the course's {HEADER}")
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    x = table[:, 1:3].astype(np.float32)
    y = table[:, 3].astype(np.int64)
    if y.min() < 0 or y.max() >= NUM_CLASSES:
        raise DataError(f"{path}: country ids outside 0..{NUM_CLASSES - 1}")
    return x, y
