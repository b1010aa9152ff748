"""Dataset loaders. Each returns a `Splits` and raises `DataError` with a clear message."""

from tfdl.data.errors import DataError
from tfdl.data.europe import load_europe
from tfdl.data.files import DATA_DIR_ENV, data_dir, find_folder, verify_checksums
from tfdl.data.mnist import load_mnist
from tfdl.data.splits import Splits, one_hot
from tfdl.data.synthetic import gaussian_bump, sample_function

__all__ = [
    "DATA_DIR_ENV",
    "DataError",
    "Splits",
    "data_dir",
    "find_folder",
    "gaussian_bump",
    "load_europe",
    "load_mnist",
    "one_hot",
    "sample_function",
    "verify_checksums",
]
