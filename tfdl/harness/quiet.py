"""TensorFlow's start-up notices kept off a normal run.

TensorFlow 2.21 writes "All log messages before absl::InitializeLog() is called are written to
STDERR" and "oneDNN custom operations are on ..." to the process's stderr while it is imported,
before `TF_CPP_MIN_LOG_LEVEL` applies. `install()` makes the first import of TensorFlow (by tfdl,
Keras or a script) run with file descriptor 2 captured; afterwards every captured line except
those notices is written to stderr, so real errors still show. Numerics are untouched (oneDNN stays
on). Set `TFDL_TF_LOGS=1` to see TensorFlow's output as it comes.
"""

import importlib.abc
import os
import re
import sys
import tempfile

_NOTICES = re.compile(r"All log messages before absl::InitializeLog\(\) is called"
                      r"|oneDNN custom operations are on")


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
    """Quiets TensorFlow's first import (no-op if it is imported already or TFDL_TF_LOGS=1)."""
    if "tensorflow" in sys.modules or os.environ.get("TFDL_TF_LOGS") == "1":
        return
    if not any(isinstance(f, _QuietFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder())
