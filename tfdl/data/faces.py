"""Real-vs-fake faces (HUJI IML Ex4, "whichfaceisreal"): image folders given by the user.

The course's layout, one folder per split and class:

    <faces_dir>/train/real/*.jpg   <faces_dir>/train/fake/*.jpg
    <faces_dir>/val/real/...       <faces_dir>/val/fake/...
    <faces_dir>/test/real/...      <faces_dir>/test/fake/...

Labels follow torchvision's `ImageFolder` (classes sorted by name): fake = 0, real = 1.
The images are not available offline; the user passes the folder (`--faces-dir`).
"""

from pathlib import Path

from tfdl.data.errors import DataError
from tfdl.data.splits import Splits

import numpy as np
import tensorflow as tf

CLASS_NAMES = ("fake", "real")
SPLITS = ("train", "val", "test")
EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


def load_faces(folder, image_size=224):
    """Loads the three splits as float32 images in [0, 1], resized to `image_size`.

    Args:
        folder: the folder holding train/, val/, test/, each with real/ and fake/.
        image_size: side of the square images returned (bilinear resize).

    Returns:
        A `Splits` with (N, image_size, image_size, 3) images and labels fake 0 / real 1.

    Raises:
        DataError: a folder is missing or holds no images.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"faces folder {folder} does not exist")
    arrays = []
    for split in SPLITS:
        xs, ys = [], []
        for label, name in enumerate(CLASS_NAMES):
            class_dir = folder / split / name
            if not class_dir.is_dir():
                raise DataError(f"{class_dir} is missing: expected {folder}/{{train,val,test}}/"
                                "{real,fake}/ image folders (the course's layout)")
            files = sorted(p for p in class_dir.iterdir() if p.suffix.lower() in EXTENSIONS)
            if not files:
                raise DataError(f"{class_dir} holds no images ({', '.join(EXTENSIONS)})")
            xs += [_read(p, image_size) for p in files]
            ys += [label] * len(files)
        arrays.append((np.stack(xs), np.asarray(ys, dtype=np.int64)))
    return Splits(train=arrays[0], val=arrays[1], test=arrays[2], num_classes=2,
                  source=f"real-vs-fake faces ({folder})")


def _read(path, image_size):
    try:
        image = tf.io.decode_image(tf.io.read_file(str(path)), channels=3, expand_animations=False)
    except tf.errors.InvalidArgumentError as err:
        raise DataError(f"{path} is not a readable image ({err.message})") from None
    image = tf.image.resize(tf.cast(image, tf.float32) / 255.0, (image_size, image_size))
    return image.numpy()
