"""The packages stack in layers: each imports only packages below it, so a change low down
never needs one higher up, and nothing hides a cycle behind a lazy import."""

from __future__ import annotations

import ast
from pathlib import Path

import portal

# Bottom to top. A new capability takes its place here, above what it uses.
LAYERS = [
    "web", "accounts", "ledger", "notifications", "content", "play", "leaderboard",
    "catalog", "charity", "auctions", "analytics", "burns", "members", "jobs", "pages",
    "admin",
]
# Modules beside the packages that any package may use; app, cli and demo assemble
# everything and sit on top, so no package imports them.
SHARED_MODULES = {"settings", "db", "i18n", "seasons", "sealing"}
ROOT = Path(portal.__file__).parent


def _imported_portal_names(path: Path) -> set[str]:
    """The first name after ``portal.`` of every import in the file, lazy ones included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] == "portal":
                found.update([parts[1]] if len(parts) > 1 else [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names
                         if a.name.startswith("portal."))
    return found


def _packages() -> list[str]:
    return sorted(p.name for p in ROOT.iterdir()
                  if (p / "__init__.py").exists() and p.name not in {"migrations", "locale"})


def test_every_package_has_its_place_in_the_layers() -> None:
    assert set(_packages()) <= set(LAYERS), set(_packages()) - set(LAYERS)


def test_no_package_imports_one_above_it() -> None:
    wrong = []
    for package in _packages():
        level = LAYERS.index(package)
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in _imported_portal_names(path) - {package}:
                if name in SHARED_MODULES:
                    continue
                if name not in LAYERS or LAYERS.index(name) > level:
                    wrong.append(f"{path.relative_to(ROOT.parent)} imports portal.{name}")
    assert wrong == []


def test_the_shared_modules_import_no_package() -> None:
    wrong = [f"{name}.py imports portal.{imported}"
             for name in sorted(SHARED_MODULES)
             for imported in _imported_portal_names(ROOT / f"{name}.py")
             if imported in LAYERS]
    assert wrong == []
