"""`--set NAME=VALUE`: change one knob of a reproduction without editing it.

A settable NAME is a key of the chosen profile or a constant of the script's "Inferred"
block — the module-level assignments after a `# ## Inferred` comment, up to the next `# ##`
comment or the `PROFILES` / `REPORT` assignment (see reproductions/_template.py). What the report
states is not settable: change the script to change the protocol. VALUE is a Python literal
(`0.1`, `[64, 64]`, `"mse"`, `True`), or else taken as a string, and must have the type of the
value it replaces. A constant the script reads while it loads (a claim's bar, a profile's value)
is not settable: a run starts after that read and could not change it. An overridden run is a
modified protocol: its table says so and it never claims to reproduce the report.
"""

import ast
import hashlib
import io
import json
import re
import tokenize

_HEADER = re.compile(r"^#\s*##\s*(.*)")


class SettingError(ValueError):
    """A `--set` that names no settable value or gives a value of the wrong type."""


def inferred_names(script):
    """Names assigned in the script's `# ## Inferred` blocks, in order."""
    source = open(script, encoding="utf-8").read()
    headers = []  # (line, is_inferred)
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and token.start[1] == 0:
            match = _HEADER.match(token.string)
            if match:
                headers.append((token.start[0], match.group(1).lower().startswith("inferred")))
    names = []
    for node in ast.parse(source).body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        for target in targets:
            elements = target.elts if isinstance(target, ast.Tuple) else [target]
            for element in elements:
                if not isinstance(element, ast.Name) or element.id in ("PROFILES", "REPORT"):
                    continue
                section = [inferred for line, inferred in headers if line < node.lineno]
                if section and section[-1] and element.id not in names:
                    names.append(element.id)
    return names


def import_time_names(script):
    """Names the script reads while it loads: anywhere outside a function's or a lambda's body
    (a claim's bar, a profile's value, a default argument, a decorator's argument)."""
    names = set()

    def visit(node, loading):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and loading:
            names.add(node.id)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            for child in [*getattr(node, "decorator_list", []), *args.defaults,
                          *filter(None, args.kw_defaults)]:
                visit(child, loading)
            for child in (node.body if isinstance(node.body, list) else [node.body]):
                visit(child, False)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, loading)

    for node in ast.parse(open(script, encoding="utf-8").read()).body:
        visit(node, True)
    return names


def _literal(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _same_type(old, new):
    if isinstance(old, bool) or isinstance(new, bool):
        return isinstance(old, bool) and isinstance(new, bool)
    if isinstance(old, (int, float)) and isinstance(new, (int, float)):
        return not (isinstance(old, int) and isinstance(new, float) and not new.is_integer())
    if old is None:
        return True
    return type(old) is type(new)


def _settable(value):
    return value is None or isinstance(value, (bool, int, float, str, list, tuple, dict))


def _constants(report):
    """`{name: value}` of the script's Inferred constants, and the names among them the script
    reads while it loads. A profile dict (the template's FULL) is neither: the profiles are
    built from it before any override applies; its keys are settable instead."""
    profiles = [id(p) for p in report.profiles.values()]
    constants = {name: report.globals[name] for name in inferred_names(report.script)
                 if name in report.globals and _settable(report.globals[name])
                 and id(report.globals[name]) not in profiles}
    return constants, import_time_names(report.script) & set(constants)


def settable(report, profile):
    """`{name: current value}` of what `--set` may change for `profile`."""
    return _settable_of(report, profile, *_constants(report))


def _settable_of(report, profile, constants, loaded):
    return {**{k: v for k, v in constants.items() if k not in loaded},
            **{k: v for k, v in report.profiles[profile].items() if _settable(v)}}


def parse(report, profile, pairs):
    """`{name: value}` from `NAME=VALUE` strings, checked against what is settable."""
    constants, loaded = _constants(report)
    valid = _settable_of(report, profile, constants, loaded)
    overrides = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise SettingError(f"--set takes NAME=VALUE, got {pair!r}")
        if name in loaded:
            raise SettingError(f"--set {name}: {report.name} reads it while it loads (a claim's "
                               f"bar or a profile's value), before any run: edit the script or "
                               f"set a profile key; valid: {', '.join(sorted(valid))}")
        if name not in valid:
            raise SettingError(f"--set {name}: not a setting of {report.name} (profile "
                               f"{profile}); valid: {', '.join(sorted(valid))}")
        value = _literal(text.strip())
        if not _same_type(valid[name], value):
            raise SettingError(f"--set {name}={text}: expected a {type(valid[name]).__name__} "
                               f"like {valid[name]!r}")
        if isinstance(valid[name], float) and isinstance(value, int):
            value = float(value)
        overrides[name] = value
    return overrides


def digest(overrides):
    """A short name for a set of overrides (the folder of a modified run)."""
    text = json.dumps(overrides, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


class applied:
    """Context manager: the report's profile and Inferred constants with `overrides` in force;
    yields the effective profile config and restores the script's constants afterwards."""

    def __init__(self, report, profile, overrides):
        self.report, self.profile, self.overrides = report, profile, dict(overrides)

    def __enter__(self):
        config = self.report.profiles[self.profile]
        constants = {k: v for k, v in self.overrides.items() if k not in config}
        self._saved = {k: self.report.globals[k] for k in constants}
        self.report.globals.update(constants)
        return {**config, **{k: v for k, v in self.overrides.items() if k in config}}

    def __exit__(self, *exc):
        self.report.globals.update(self._saved)
        return False
