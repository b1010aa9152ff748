"""tfdl: Keras/TensorFlow reproductions of course reports on training neural networks."""

import os

# TensorFlow's C++ start-up notices (CPU features, oneDNN) are noise for people running
# the scripts; errors still show. Set TF_CPP_MIN_LOG_LEVEL yourself to see them.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
