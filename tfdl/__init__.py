"""tfdl: Keras/TensorFlow reproductions of course reports on training neural networks."""

import os

from tfdl import quiet

# TensorFlow's C++ start-up notices (CPU features, oneDNN) are noise for people running
# the scripts; errors still show. Set TF_CPP_MIN_LOG_LEVEL / TFDL_TF_LOGS=1 to see them.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
quiet.install()

__version__ = "0.1.0"
