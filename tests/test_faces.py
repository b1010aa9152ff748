"""tfdl.data.faces: the real-vs-fake face folders loader on images the test writes."""

from tfdl.data import DataError

import pytest
import tensorflow as tf


def test_faces_loader(tmp_path):
    from tfdl.data.faces import load_faces

    counts = {"train": 3, "val": 2, "test": 2}
    for split, n in counts.items():
        for cls, value in (("fake", 0), ("real", 255)):
            folder = tmp_path / split / cls
            folder.mkdir(parents=True)
            for i in range(n):
                image = tf.fill((40, 30, 3), tf.constant(value, tf.uint8))
                tf.io.write_file(str(folder / f"{i}.png"), tf.io.encode_png(image))
    splits = load_faces(tmp_path, image_size=16)
    assert splits.sizes() == (6, 4, 4)
    x, y = splits.train
    assert x.shape == (6, 16, 16, 3) and y.tolist() == [0, 0, 0, 1, 1, 1]
    assert x[y == 0].max() == 0.0 and x[y == 1].min() == 1.0
    (tmp_path / "val" / "real" / "0.png").unlink()
    (tmp_path / "val" / "real" / "1.png").unlink()
    with pytest.raises(DataError, match="holds no images"):
        load_faces(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        load_faces(tmp_path / "nope")
