"""tfdl: Keras/TensorFlow reproductions of course reports on training neural networks."""

__version__ = "0.1.0"
