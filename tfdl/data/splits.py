"""The container every loader returns: train / validation / test arrays."""

import dataclasses

import numpy as np


@dataclasses.dataclass
class Splits:
    """Train, validation and test arrays of one dataset.

    Each split is an `(x, y)` pair of numpy arrays; `y` holds integer class ids
    (or regression targets). `source` says where the data came from, so result
    records can state it.
    """

    train: tuple
    val: tuple
    test: tuple
    num_classes: int
    source: str

    def subsample(self, train=None, val=None, test=None):
        """Returns a copy keeping the first `train` / `val` / `test` examples of each split."""

        def head(split, n):
            return split if n is None else (split[0][:n], split[1][:n])

        return dataclasses.replace(
            self,
            train=head(self.train, train),
            val=head(self.val, val),
            test=head(self.test, test),
            source=f"{self.source} (subsample {train}/{val}/{test})",
        )

    def sizes(self):
        return tuple(len(split[1]) for split in (self.train, self.val, self.test))


def one_hot(labels, num_classes):
    return np.eye(num_classes, dtype=np.float32)[labels]
