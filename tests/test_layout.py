"""Does the code keep its layers: does every package import only the packages below it?

autograder/__init__.py states the layers: commands -> engine -> sandbox, with
course (the course's notebooks read) and paths beneath them all; tools/ (the
website's tooling) may use the course's readers and the engine's nbgrader
driver, and nothing of autograder imports tools. A newcomer reads the
architecture from the tree only while the imports keep to it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from autograder.paths import ROOT

#: What each package may import of the course's own code (besides itself).
ALLOWED = {
    "autograder.course": {"autograder.paths"},
    "autograder.sandbox": {"autograder.paths"},
    "autograder.engine": {"autograder.paths", "autograder.course", "autograder.sandbox"},
    "autograder.commands": {"autograder.paths", "autograder.course", "autograder.sandbox", "autograder.engine"},
    "tools": {"autograder.paths", "autograder.course", "autograder.engine"},
}
PACKAGES = sorted(ALLOWED)


def package_of(module: str) -> str | None:
    return next((p for p in PACKAGES if module == p or module.startswith(p + ".")), None)


def own_imports(path: Path) -> set[str]:
    """Every module of autograder or tools that ``path`` imports, anywhere in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            found.update(n for n in [node.module, *names] if n.split(".")[0] in ("autograder", "tools"))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] in ("autograder", "tools"))
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package.replace(".", "/")).glob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_does_each_package_import_only_the_layers_below_it(package):
    wrong = []
    for path in modules(package):
        for name in own_imports(path):
            if name == "autograder" or name.startswith(("autograder.paths", "autograder.shown")):
                continue  # where things live, and how untrusted text is shown: beneath every layer
            target = package_of(name)
            if target != package and target not in ALLOWED[package]:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_does_the_sandbox_hold_nothing_but_its_worker_and_protocol():
    """Only worker, wire and the two package files are mounted inside a sandbox: they import nothing else."""
    from autograder.sandbox.isolation import WORKER_MODULES

    for module in WORKER_MODULES:
        imported = own_imports(ROOT / "autograder" / module) - {"autograder.sandbox", "autograder.sandbox.wire"}
        assert not imported, f"autograder/{module} imports {sorted(imported)}, which the sandbox does not hold"


def test_does_every_package_say_what_it_holds_and_may_import():
    for package in PACKAGES:
        doc = ast.get_docstring(ast.parse((ROOT / package.replace(".", "/") / "__init__.py").read_text()))
        assert doc and ("import" in doc.lower()), f"{package}/__init__.py must say what it holds and what it may import"
