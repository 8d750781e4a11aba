"""The pure core stays importable with only the standard library and ``cryptography``, and does no I/O.

An auditor must be able to verify with a minimal install (docs/architecture.md). Two checks:

1. Each pure module imports in a fresh interpreter in which the portal and data-side dependencies
   (PyYAML, Pelican, Jinja2, Markdown, openpyxl, chinese-calendar) and py_ecc cannot be imported.
2. A static scan of each module's syntax tree finds no clock, no OS randomness, no file or network I/O.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "generator" / "sunshine"

PURE_MODULES = [
    "canonical",
    "merkle",
    "note",
    "checkpoint",
    "tiles",
    "entries",
    "hkdf",
    "beacon",
    "draw",
    "matching",
    "errors",
    "vocabulary",
    "uscc",
    "model",
]

BLOCKED = ["yaml", "pelican", "jinja2", "markdown", "openpyxl", "chinese_calendar", "py_ecc"]

_BLOCKER = f"""
import importlib.abc, sys
class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED!r}:
            raise ImportError("blocked for the pure-core test: " + name)
        return None
sys.meta_path.insert(0, _Block())
"""

# Names whose use means the clock, OS randomness, or I/O.
FORBIDDEN_IMPORTS = {"random", "secrets", "socket", "urllib", "http", "subprocess", "shutil", "tempfile"}
FORBIDDEN_CALLS = {
    ("open",),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("os", "urandom"),
    ("os", "getrandom"),
    ("os", "open"),
    ("os", "replace"),
    ("os", "remove"),
}


@pytest.mark.parametrize("module", PURE_MODULES)
def test_imports_without_data_and_portal_dependencies(module):
    code = _BLOCKER + f"\nimport sunshine.{module}\nprint('ok')\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def _dotted(node: ast.AST) -> tuple[str, ...]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return tuple(reversed(parts))


@pytest.mark.parametrize("module", PURE_MODULES)
def test_no_clock_randomness_or_io(module):
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in FORBIDDEN_IMPORTS]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in FORBIDDEN_IMPORTS:
                found.append(node.module)
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            if any(name[-len(f):] == f for f in FORBIDDEN_CALLS):
                found.append(".".join(name) + f"() at line {node.lineno}")
    assert found == [], f"sunshine.{module} is part of the pure core but uses {found}"
