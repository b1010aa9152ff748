"""Locating data folders and verifying them against their SHA256SUMS files."""

import functools
import hashlib
import os
from pathlib import Path

from tfdl.data.errors import DataError

DATA_DIR_ENV = "TFDL_DATA_DIR"


def data_dir(path=None):
    """Returns the data directory: `path` if given, else `$TFDL_DATA_DIR`.

    Args:
        path: a directory given by the user (`--data-dir`), or None.

    Raises:
        DataError: if neither is set or the directory does not exist.
    """
    chosen = path or os.environ.get(DATA_DIR_ENV)
    if not chosen:
        raise DataError(
            f"no data directory: pass --data-dir DIR or set {DATA_DIR_ENV} "
            "(a checkout's sibling ../shared/data works offline)"
        )
    chosen = Path(chosen).expanduser()
    if not chosen.is_dir():
        source = "--data-dir" if path else DATA_DIR_ENV
        raise DataError(f"data directory {chosen} (from {source}) does not exist")
    return chosen


def find_folder(name, candidates, path=None):
    """Finds the first of `candidates` (relative paths) inside the data directory.

    Args:
        name: the dataset's name, for the error message.
        candidates: relative folder paths to try, in order.
        path: the user's `--data-dir`, or None for `$TFDL_DATA_DIR`.
    """
    root = data_dir(path)
    for candidate in candidates:
        if (root / candidate).is_dir():
            return root / candidate
    tried = ", ".join(str(root / c) for c in candidates)
    raise DataError(f"{name} not found in the data directory; looked for: {tried}")


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=None)
def verify_checksums(folder, sums_file="SHA256SUMS"):
    """Checks every file listed in `folder/sums_file` against its SHA-256.

    Verified once per process per folder.

    Raises:
        DataError: naming the first missing or mismatching file.
    """
    folder = Path(folder)
    sums = folder / sums_file
    if not sums.is_file():
        raise DataError(f"{sums} is missing: cannot verify the data in {folder}")
    for line in sums.read_text().splitlines():
        if not line.strip():
            continue
        expected, name = line.split(maxsplit=1)
        target = folder / name.lstrip("*")
        if not target.is_file():
            raise DataError(f"{target} is missing (listed in {sums})")
        if sha256(target) != expected:
            raise DataError(
                f"{target} does not match its SHA-256 in {sums}: the file is corrupt or "
                "truncated; copy it again from the original source"
            )
    return True
