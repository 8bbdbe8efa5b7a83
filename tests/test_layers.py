"""The library's three layers (DESIGN.md, README "Layout"): the engine (mixviz/*.py and mixviz/methods/),
models and maps (mixviz/maps/), presentation (mixviz/viz/). No module imports from a layer above its own;
only the package's front (mixviz/__init__.py, __main__.py) names them all."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mixviz"
RANK = {"engine": 0, "maps": 1, "viz": 2}
FRONT = {"__init__.py", "__main__.py"}


def layer_of(module: str) -> str:
    """The layer of a dotted module name inside mixviz ("mixviz.maps.cam" -> "maps")."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ("maps", "viz") else "engine"


def imported_modules(path: Path) -> set[str]:
    """Every mixviz module `path` imports, anywhere in the file (function-level imports too)."""
    here = ["mixviz", *path.relative_to(PACKAGE).with_suffix("").parts][:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
                names = [module] if node.module else [f"{module}.{a.name}" for a in node.names]
            else:
                names = [node.module or ""]
            found.update(n for n in names if n.split(".")[0] == "mixviz")
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "mixviz")
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name not in FRONT or p.parent != PACKAGE)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_layer_above_its_own(path):
    own = layer_of(".".join(["mixviz", *path.relative_to(PACKAGE).with_suffix("").parts]))
    above = sorted(m for m in imported_modules(path) if RANK[layer_of(m)] > RANK[own])
    assert not above, f"{path.relative_to(PACKAGE)} ({own}) imports {above} from a layer above it"


def test_the_checker_sees_a_violation(tmp_path):
    """The check itself: an engine module importing the maps layer, relatively and inside a function."""
    fake = PACKAGE / "methods" / "_layer_probe.py"
    source = "def f():\n    from ..maps.models import load_model\n"
    tree = ast.parse(source)
    assert any(isinstance(n, ast.ImportFrom) for n in ast.walk(tree))
    try:
        fake.write_text(source)
        assert imported_modules(fake) == {"mixviz.maps.models"}
        assert layer_of("mixviz.methods._layer_probe") == "engine"
    finally:
        fake.unlink()


def test_the_layers_are_packages():
    for layer in ("maps", "viz"):
        assert (PACKAGE / layer / "__init__.py").is_file()
    assert not (PACKAGE / "render.py").exists() and not (PACKAGE / "map_views.py").exists()


def test_no_function_in_the_library_is_over_sixty_lines():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > 60:
                long.append(f"{path.relative_to(PACKAGE)}:{node.name} ({node.end_lineno - node.lineno + 1} lines)")
    assert not long, long
