"""The Docker image: what goes into it and what a Hugging Face Space needs, checked always (cheap); and the image
built with buildah, run and checked by scripts/build_image.sh (a release step, only with MIXVIZ_IMAGE_TEST=1: about
8 minutes from nothing, 5 with the stand-in base made, under a minute with the pip layer cached; README: "The
image, built and run here")."""
import ast
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
SPACE = ROOT / "deploy" / "huggingface" / "README.md"


def _pattern(p: str) -> re.Pattern:
    """A .dockerignore pattern as a regular expression over a path relative to the context (Go's filepath.Match
    syntax plus `**`, as Docker's builders read it)."""
    out, i = "", 0
    while i < len(p):
        if p.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif p.startswith("**", i):
            out, i = out + ".*", i + 2
        elif p[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif p[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(p[i]), i + 1
    return re.compile(out + r"\Z")


def dockerignored(path: str, lines: list[str] | None = None) -> bool:
    """Whether the build context leaves `path` out: the last pattern that matches the path or one of its parent
    folders decides, a `!` pattern letting it back in."""
    if lines is None:
        lines = (ROOT / ".dockerignore").read_text().splitlines()
    prefixes = [path] + ["/".join(path.split("/")[:n]) for n in range(1, path.count("/") + 1)]
    ignored = False
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = _pattern(os.path.normpath(line.lstrip("!").strip("/")))
        if any(pattern.match(p) for p in prefixes):
            ignored = not negate
    return ignored


def test_the_ignore_rules_are_read_as_docker_reads_them():
    rules = ["*", "!views/", "**/__pycache__", "!keep.txt"]
    assert dockerignored("tests/test_x.py", rules) and dockerignored("README.md", rules)
    assert not dockerignored("views/gallery.py", rules) and not dockerignored("keep.txt", rules)
    assert dockerignored("views/__pycache__/gallery.cpython-311.pyc", rules)


def test_the_image_gets_what_the_demo_runs_and_nothing_else():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    sent = {f for f in tracked if not dockerignored(f)}
    for folder in ("tests/", "bench/", "docs/", ".ci/", "deploy/", "scripts/"):
        assert not [f for f in sent if f.startswith(folder)], f"{folder} would be in the image"
    assert not {"run.sh", "requirements-dev.txt", "Dockerfile", ".dockerignore"} & sent
    # what a build or a test run leaves in the checkout stays out too
    for left in ("build/lib/mixviz/engine.py", "mixviz.egg-info/PKG-INFO", ".venv/bin/python", ".git/HEAD",
                 "out/image/figures.json", "tests/e2e/screenshots/a.png", "mixviz/__pycache__/engine.cpython-311.pyc"):
        assert dockerignored(left), left
    # what the app runs comes in: its pages, glue, library, photos, server settings, and what `pip install .` reads
    for needed in ("app.py", "views/gallery.py", "ui/scrubber", "mixviz/engine.py", "assets/photos/cat.jpg",
                   "assets/photos/SOURCES.md", ".streamlit/config.toml", "pyproject.toml", "README.md", "LICENSE",
                   "requirements.txt"):
        assert any(f == needed or f.startswith(needed + "/") for f in sent), needed
    # every module of this repository that the entry points import
    for entry in ("app.py", "asgi.py"):
        if not (ROOT / entry).exists():
            continue
        for node in ast.walk(ast.parse((ROOT / entry).read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            for name in names:
                top = name.split(".")[0]
                if (ROOT / top).is_dir() or (ROOT / f"{top}.py").is_file():
                    assert not dockerignored(f"{top}/__init__.py" if (ROOT / top).is_dir() else f"{top}.py"), top


def test_torch_comes_from_pytorchs_cpu_index_unless_the_build_names_another():
    assert re.search(r"^ARG TORCH_INDEX_URL=https://download\.pytorch\.org/whl/cpu$", DOCKERFILE, re.M)
    pins = dict(line.split("==") for line in (ROOT / "requirements.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    assert (f'--index-url "$TORCH_INDEX_URL" torch=={pins["torch"]} torchvision=={pins["torchvision"]}'
            in DOCKERFILE)


def test_the_image_serves_as_any_user():
    env = dict(re.findall(r"^\s*(?:ENV\s+)?([A-Z_]+)=(\S+?)\s*\\?$", DOCKERFILE, re.M))
    # the weights are found by a user id with no home in the image (a Space's 1000), caches are written to /tmp
    assert env["TORCH_HOME"].startswith("/opt/") and env["MPLCONFIGDIR"].startswith("/tmp/")
    assert "--chown" not in DOCKERFILE  # the app's files are root's: readable by everyone, changed by no one
    assert re.search(r"^USER 10001$", DOCKERFILE, re.M)


def test_the_image_serves_the_warmed_app():
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.M).group(1))
    # asgi.py: the port opens once the model is loaded and the default page ran (tests/test_warm.py), so the
    # HEALTHCHECK, compose's and Kubernetes' probes send no one to a cold server
    assert cmd[:5] == ["python", "-m", "streamlit", "run", "asgi.py"] and not dockerignored("asgi.py")


def _front_matter(path: Path) -> dict:
    import yaml

    text = path.read_text()
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_the_space_readme_has_what_a_docker_space_needs():
    meta = _front_matter(SPACE)
    assert meta["sdk"] == "docker"
    assert meta["app_port"] == int(re.search(r"^EXPOSE (\d+)$", DOCKERFILE, re.M).group(1)) == 8501
    assert meta["title"] and meta.get("license") == "apache-2.0"
    assert not (ROOT / "README.md").read_text().startswith("---")  # the repository's README keeps no front matter


def test_the_spaces_xsrf_setting_is_the_streamlit_option_and_nothing_overrides_it():
    from streamlit import config

    text = SPACE.read_text()
    option = config._config_options_template["server.enableXsrfProtection"]
    assert option.env_var == "STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION" and option.env_var + "=false" in text
    # a command-line flag would win over the Space's variable (flags > environment > config.toml)
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.M).group(1))
    assert not [a for a in cmd if "Xsrf" in a]
    assert "STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION" not in DOCKERFILE  # on everywhere else


def test_the_build_script_parses():
    for script in ("scripts/build_image.sh",):
        assert subprocess.run(["bash", "-n", str(ROOT / script)], capture_output=True).returncode == 0


@pytest.mark.skipif(os.environ.get("MIXVIZ_IMAGE_TEST") != "1",
                    reason="builds the Docker image with buildah (root; ~8 min from nothing, under 1 min cached): "
                           "a release step, run with MIXVIZ_IMAGE_TEST=1 (README: 'The image, built and run here')")
def test_the_image_builds_runs_and_passes_its_checks(tmp_path):
    out = tmp_path / "image"
    start = time.perf_counter()
    run = subprocess.run(["bash", str(ROOT / "scripts" / "build_image.sh")], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "MIXVIZ_IMAGE_OUT": str(out), "PYTHON": sys.executable}, timeout=3600)
    took = time.perf_counter() - start
    sys.stdout.write(run.stdout)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    fig = json.loads((out / "figures.json").read_text())
    assert fig["healthcheck_rc"] == 0 and fig["server_uid"] not in (None, 0)
    assert fig["browser"]["mixing_lab"] and fig["browser"]["exceptions"] == 0
    assert (out / "mixing_lab.png").stat().st_size > 10_000
    assert fig["space"]["server_uid"] == 1000 and fig["space"]["browser"]["upload_s"] > 0
    assert fig["size_bytes"] > 0 and not fig["failures"]
    print(f"\nthe whole script: {took:.0f} s; image {fig['size']}; build {fig['build_s']:.0f} s")
