"""TensorFlow's start-up notices kept off a normal run.

TensorFlow 2.21 writes "All log messages before absl::InitializeLog() is called are written to
STDERR" and "oneDNN custom operations are on ..." to the process's stderr while it is imported,
before `TF_CPP_MIN_LOG_LEVEL` applies. `install()` makes the first import of TensorFlow (by tfdl,
Keras or a script) run with file descriptor 2 captured; afterwards every captured line except
those notices is written to stderr, so real errors still show. Numerics are untouched (oneDNN stays
on). It also drops TensorFlow's "N out of the last M calls to <function> triggered tf.function
retracing" hint: tfdl builds many small models, predictors and probes in one process, each
tracing its own functions once by design, and the hint is about speed, never an error. Set
`TFDL_TF_LOGS=1` to see TensorFlow's output as it comes.
"""

import importlib.abc
import logging
import os
import re
import sys
import tempfile

_NOTICES = re.compile(r"All log messages before absl::InitializeLog\(\) is called"
                      r"|oneDNN custom operations are on")


class _NoRetracingHint(logging.Filter):
    def filter(self, record):
        return "triggered tf.function retracing" not in record.getMessage()


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: it wraps the first `import tensorflow` in a stderr capture."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        with _stderr_filtered():
            import tensorflow  # noqa: F401  (imported here, under the capture)
        return sys.modules["tensorflow"].__spec__


class _stderr_filtered:
    def __enter__(self):
        sys.stderr.flush()
        self._saved = os.dup(2)
        self._capture = tempfile.TemporaryFile()
        os.dup2(self._capture.fileno(), 2)

    def __exit__(self, *exc):
        sys.stderr.flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._capture.seek(0)
        text = self._capture.read().decode(errors="replace")
        self._capture.close()
        kept = [line for line in text.splitlines(keepends=True) if not _NOTICES.search(line)]
        if kept:
            sys.stderr.write("".join(kept))
            sys.stderr.flush()
        return False


def install():
    """Quiets TensorFlow's first import (unless it is imported already) and its retracing hint
    (a no-op with TFDL_TF_LOGS=1)."""
    if os.environ.get("TFDL_TF_LOGS") == "1":
        return
    logger = logging.getLogger("tensorflow")  # the logger TensorFlow's own get_logger() returns
    if not any(isinstance(f, _NoRetracingHint) for f in logger.filters):
        logger.addFilter(_NoRetracingHint())
    if "tensorflow" in sys.modules:
        return
    if not any(isinstance(f, _QuietFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder())
