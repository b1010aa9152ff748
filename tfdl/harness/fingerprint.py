"""The fingerprint of a report's code: what makes a recorded result current or STALE."""

import ast
import hashlib
import io
import tokenize
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

# Modules that present, carry or search over results but compute none of a run's numbers (a
# unit's threads, seed and settings are set in unit/experiment/settings, the claims evaluated in
# claims/experiment): editing them leaves every record current. Their imports are not followed.
_NOT_NUMERIC = frozenset({
    "harness/cli.py", "harness/table.py", "harness/results.py", "harness/calibration.py",
    "harness/ray_runner.py", "harness/runner.py", "harness/fingerprint.py", "harness/events.py",
    "harness/quiet.py", "plots.py",
})


def code_fingerprint(script, package=None):
    """Hash of the code of `script` and of every tfdl module it imports (directly or through
    other tfdl modules, at any depth of the code, with their packages' `__init__.py`; `package`
    is the tfdl folder) and the TensorFlow/Keras/NumPy versions. A module the script never
    imports cannot change its numbers, so editing it leaves the script's records current;
    neither can the modules of `_NOT_NUMERIC`, which are left out, nor comments and line
    breaks (`code_tokens`)."""
    digest = hashlib.sha256()
    package = Path(package or Path(__file__).resolve().parents[1])
    script = Path(script)
    digest.update(script.name.encode())
    source = script.read_bytes() if script.is_file() else b""
    digest.update(code_tokens(source))
    for path in _imported_sources(source, package):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(code_tokens(path.read_bytes()))
    digest.update(f"{tf.__version__} {keras.__version__} {np.__version__}".encode())
    return digest.hexdigest()[:16]


def code_tokens(source):
    """The tokens of a Python source without its comments, docstrings (any statement that is
    only a string literal: it computes nothing) and the line breaks inside brackets (bytes):
    editing a comment or a docstring, or re-wrapping a call, leaves them, and the fingerprint,
    as they were. An f-string counts as its text, whichever Python splits it into tokens."""
    try:
        tokens = list(tokenize.tokenize(io.BytesIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return source
    lines = source.decode("utf-8", "replace").splitlines(keepends=True)
    kept, line, opened, depth = [], [], None, 0  # line: the logical line's (kind, text)
    for token in tokens:
        kind = tokenize.tok_name[token.type]
        if kind.endswith("STRING_START"):
            depth += 1
            opened = opened or token.start
        elif kind.endswith("STRING_END"):
            depth -= 1
            if depth == 0:
                line.append(("FSTRING", _text(lines, opened, token.end)))
                opened = None
        elif depth == 0 and kind not in ("COMMENT", "NL", "ENCODING"):
            line.append((kind, token.string))
            if kind in ("NEWLINE", "ENDMARKER"):
                statement = [k for k, _ in line if k not in ("INDENT", "DEDENT", "NEWLINE",
                                                                "ENDMARKER")]
                if statement and set(statement) == {"STRING"}:  # a docstring
                    line = [(k, t) for k, t in line if k != "STRING" and k != "NEWLINE"]
                kept += [t for _, t in line]
                line = []
    return "\x00".join(kept).encode()


def _text(lines, start, end):
    """The source text from `start` to `end` ((row, column) from 1, as tokenize gives them)."""
    (r0, c0), (r1, c1) = start, end
    if r0 == r1:
        return lines[r0 - 1][c0:c1]
    return lines[r0 - 1][c0:] + "".join(lines[r0:r1 - 1]) + lines[r1 - 1][:c1]


def _imported_sources(source, package):
    """The files of the tfdl modules `source` imports, transitively, in sorted order."""
    found, todo = set(), [source]
    while todo:
        for name in _tfdl_imports(todo.pop()):
            parts = name.split(".")[1:]
            for depth in range(len(parts) + 1):  # tfdl/__init__.py, tfdl/a/__init__.py, ...
                base = package.joinpath(*parts[:depth])
                for path in (base / "__init__.py", base.with_suffix(".py") if depth else None):
                    if (path is not None and path.is_file() and path not in found
                            and path.relative_to(package).as_posix() not in _NOT_NUMERIC):
                        found.add(path)
                        todo.append(path.read_bytes())
    return sorted(found)


def _tfdl_imports(source):
    """Dotted names a Python source imports from tfdl, anywhere in it (`from tfdl.a import b`
    yields tfdl.a and tfdl.a.b: b may be a module)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return [n for n in names if n == "tfdl" or n.startswith("tfdl.")]
