"""tfdl: Keras/TensorFlow reproductions of course reports on training neural networks."""

import importlib.util
import os

from tfdl.harness import quiet

if importlib.util.find_spec("tensorflow") is None:
    raise ImportError('tfdl needs TensorFlow, from the cpu or the gpu extra: pip install -e '
                      '".[cpu,test,cnn]" (or ".[gpu,test,cnn]" on Linux with an NVIDIA GPU)')

# TensorFlow's C++ start-up notices (CPU features, oneDNN) are noise for people running
# the scripts; errors still show. Set TF_CPP_MIN_LOG_LEVEL / TFDL_TF_LOGS=1 to see them.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
quiet.install()

__version__ = "0.1.0"
