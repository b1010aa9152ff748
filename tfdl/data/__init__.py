"""Dataset loaders. Each returns a `Splits` and raises `DataError` with a clear message."""

from tfdl.data.errors import DataError
from tfdl.data.europe import load_europe
from tfdl.data.files import DATA_DIR_ENV, data_dir, find_folder, verify_checksums
from tfdl.data.mnist import load_mnist
from tfdl.data.splits import Splits, one_hot

__all__ = [
    "DATA_DIR_ENV",
    "DataError",
    "Splits",
    "data_dir",
    "find_folder",
    "load_europe",
    "load_mnist",
    "one_hot",
    "verify_checksums",
]
