"""Run the app's image with buildah (no Docker engine here) and check what a deployment relies on.

    .venv/bin/python scripts/check_image.py --image localhost/mixviz:local [--out out/image]

(scripts/build_image.sh builds the image and then runs this.) Two runs of the image's own CMD, each in a container
made from the image (`buildah from`, `buildah run --isolation chroot --network host`), on a free loopback port (the
CMD's `--server.address`/`--server.port` are given again after it: the last one counts):
  1. as the image has it (its USER): /_stcore/health answers; the image's HEALTHCHECK command, run inside the
     container with the port swapped in, exits 0; the server process's uid (from /proc) is not 0; the Mixing Lab
     draws in Chromium with no exception box (a screenshot); an upload without the XSRF token is refused (403).
  2. as a Hugging Face Space runs it: uid 1000, which has no home in the image (HOME=/), and the Space's setting
     STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION=false: the page draws, a photo uploads in Chromium, no XSRF cookie.
Also: what /app holds (none of tests/, bench/, docs/, .ci/, build/, *.egg-info ...), where uid 1000 finds the
weights, the image's size and how much of it is the CUDA build of torch. Figures go to OUT/figures.json and are
printed; the exit status is 1 when a check fails.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from serve import ROOT, free_port, launch, settle

EXCEPTION = '[data-testid="stException"]'
LIVE = '[data-testid="mixviz-scrubber"][data-ready="true"]'  # the Mixing Lab's live picture, its frames decoded
UPLOADER = '[data-testid="stSidebar"] [data-testid="stFileUploader"] input[type="file"]'
NOT_IN_APP = {"tests", "bench", "docs", "deploy", "scripts", ".ci", ".git", ".venv", "build", "dist", "out",
              "requirements-dev.txt", "run.sh", "Dockerfile", ".dockerignore"}
SPACE_ENV = {"HOME": "/", "STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION": "false"}


def buildah(*args: str, timeout: float = 300) -> str:
    return subprocess.run(["buildah", *args], check=True, capture_output=True, text=True, timeout=timeout).stdout


def run_in(ctr: str, argv: list[str], user: str | None = None, env: dict | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess:
    """One command in the container, as `buildah run` runs the image's processes."""
    return subprocess.run(["buildah", "run", "--isolation", "chroot", "--network", "host",
                           *(["--user", user] if user else []), *[f"--env={k}={v}" for k, v in (env or {}).items()],
                           ctr, "--", *argv], capture_output=True, text=True, timeout=timeout)


def descendants(pid: int) -> list[int]:
    """The processes below `pid` (from /proc), nearest first."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(0), []):
            out.append(child)
            todo.append(child)
    return out


def uid_of(pid: int) -> int:
    """The effective uid of a process, from /proc/PID/status."""
    line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("Uid:"))
    return int(line.split()[2])


def put_status(port: int) -> int:
    """What an upload without the XSRF token gets: 403 while XSRF protection is on; otherwise the check after it
    (an unknown session: 400)."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}/_stcore/upload_file/no-such-session/no-such-file",
                                 data=b"x", method="PUT")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def preflight_allowed(port: int, origin: str = "https://elsewhere.example") -> bool:
    """Whether the server lets a page of another site send an upload (PUT) at all: the browser asks first
    (a CORS preflight) and sends nothing unless the answer names that site."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}/_stcore/upload_file/no-such-session/no-such-file",
                                 method="OPTIONS", headers={"Origin": origin, "Access-Control-Request-Method": "PUT"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            allowed = r.headers.get("Access-Control-Allow-Origin")
    except urllib.error.HTTPError as e:
        allowed = e.headers.get("Access-Control-Allow-Origin")
    return allowed in (origin, "*")


class Server:
    """The image's CMD in a container of its own, on 127.0.0.1:port."""

    def __init__(self, image: str, cmd: list[str], port: int, log: Path, user: str | None = None,
                 env: dict | None = None):
        self.port = port
        self.ctr = buildah("from", "--pull=never", "--name", f"mixviz-check-{os.getpid()}-{port}", image).strip()
        self.log = open(log, "wb")
        argv = [*cmd, "--server.address", "127.0.0.1", "--server.port", str(port)]
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(["buildah", "run", "--isolation", "chroot", "--network", "host",
                                      *(["--user", user] if user else []),
                                      *[f"--env={k}={v}" for k, v in (env or {}).items()], self.ctr, "--", *argv],
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_healthy(self, timeout: float = 240) -> float:
        """Seconds from `buildah run` to /_stcore/health answering ok."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the container's server exited with {self.proc.returncode} (log: {self.log.name})")
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_stcore/health", timeout=2).read() == b"ok":
                    return time.perf_counter() - self.started
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"no answer on /_stcore/health within {timeout:.0f} s (log: {self.log.name})")

    def server_pid(self) -> int:
        for pid in descendants(self.proc.pid):
            try:
                if b"streamlit" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    return pid
            except OSError:
                pass
        raise RuntimeError("no streamlit process below `buildah run`")

    def stop(self) -> None:
        """The server stopped as `docker stop` would (SIGTERM), `buildah run` left to end by itself; whatever is
        still there after 30 s is killed; then the container is removed."""
        pids = [self.proc.pid, *descendants(self.proc.pid)]
        try:
            targets = [self.server_pid()]
        except RuntimeError:
            targets = list(reversed(pids))
        for pid in targets:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for pid in pids[1:]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()
        subprocess.run(["buildah", "rm", self.ctr], capture_output=True, timeout=120)


def browse(port: int, shot: Path, upload: Path | None = None) -> dict:
    """The Mixing Lab in Chromium: seconds to its live picture (frames decoded), no exception box, a screenshot;
    with `upload`, a photo sent through the sidebar's uploader until the label names it and the picture is drawn."""
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        start = time.perf_counter()
        page.goto(f"http://127.0.0.1:{port}/")
        settle(page, LIVE, timeout=180_000)  # the mixed picture itself, not only the sidebar's thumbnails
        out["page_s"] = round(time.perf_counter() - start, 2)
        out["title"] = page.title()
        out["mixing_lab"] = page.get_by_text("Mixing Lab").count() > 0
        out["xsrf_cookie"] = any(c["name"] == "_streamlit_xsrf" for c in context.cookies())
        if upload is not None:
            start = time.perf_counter()
            page.locator(UPLOADER).set_input_files(str(upload))
            name = upload.stem
            page.locator('[data-testid="mixviz-label"]').filter(has_text=name).wait_for(timeout=120_000)
            settle(page, LIVE, timeout=120_000)
            out["upload_s"] = round(time.perf_counter() - start, 2)
        out["exceptions"] = page.locator(EXCEPTION).count()
        page.screenshot(path=str(shot))
        out["screenshot"] = str(shot)
        context.close()
        browser.close()
    return out


def parse_size(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)\s*([kKMG]?B)", text.strip())
    return float(m.group(1)) * {"B": 1, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9}[m.group(2)] if m else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--image", default="localhost/mixviz:local")
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "image")
    ap.add_argument("--build-seconds", type=float, default=0)
    ap.add_argument("--standin-seconds", type=float, default=0)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    fails: list[str] = []

    def check(ok: bool, what: str) -> None:
        print(f"   {'ok  ' if ok else 'FAIL'} {what}", flush=True)
        if not ok:
            fails.append(what)

    config = json.loads(buildah("inspect", "--type", "image", args.image))["Docker"]["config"]
    cmd, user = config["Cmd"], config.get("User", "")
    health = (config.get("Healthcheck") or {}).get("Test") or []
    size = buildah("images", "--noheading", "--format", "{{.Size}}", args.image).strip()
    fig: dict = {"image": args.image, "size": size, "size_bytes": parse_size(size), "build_s": args.build_seconds,
                 "standin_s": args.standin_seconds, "cmd": cmd, "user": user, "healthcheck": health}
    print(f"== {args.image}: {size}, USER {user or '(root)'}, CMD {' '.join(cmd)}")
    check(health[:1] == ["CMD"] and len(health) > 1, "the image has a HEALTHCHECK (exec form; docker format)")

    # what the image holds
    probe = buildah("from", "--pull=never", "--name", f"mixviz-check-{os.getpid()}-probe", args.image).strip()
    try:
        listing = run_in(probe, ["ls", "-A", "/app"]).stdout.split()
        fig["app_files"] = listing
        extra = sorted(n for n in listing if n in NOT_IN_APP or n.endswith(".egg-info"))
        check(not extra, f"/app holds only what the demo runs ({' '.join(listing)}){': not ' + str(extra) if extra else ''}")
        # the build's bind mounts (CA bundle, this machine's wheels, pip.conf) leave nothing behind
        leftovers = run_in(probe, ["sh", "-c", "ls -d /etc/pip.conf /etc/xdg/pip /root/.config/pip /root/local-* "
                                               "/opt/pypi* /opt/wheels 2>/dev/null; ls -A /opt"]).stdout.split()
        check(leftovers == ["mixviz"], f"no trace of the build's mounts (/opt holds {' '.join(leftovers)})")
        site = run_in(probe, ["python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
        du = run_in(probe, ["sh", "-c", f"cd {site} && du -sm nvidia triton torch cuda* 2>/dev/null; du -sm ."]).stdout
        parts = {line.split("\t")[1]: int(line.split("\t")[0]) for line in du.splitlines() if "\t" in line}
        fig["site_packages_mb"] = parts
        # where a Space's uid 1000 (no home in the image) looks for the weights, and whether it can read them
        where = run_in(probe, ["python", "-c", "import os; from mixviz.maps.models import timm_cache_file as f; "
                               "p = f(); print(p, p.is_file() and os.access(p, os.R_OK))"],
                       user="1000:1000", env=SPACE_ENV, timeout=180)
        fig["weights_uid1000"] = where.stdout.strip() or where.stderr.strip()[-300:]
        check(where.returncode == 0 and where.stdout.startswith("/opt/mixviz/torch/"),
              f"uid 1000 looks for the weights in the image's TORCH_HOME ({fig['weights_uid1000']})")
    finally:
        subprocess.run(["buildah", "rm", probe], capture_output=True, timeout=120)

    # 1. as the image has it
    port = free_port()
    print(f"== run 1: the image's CMD as USER {user or 'root'}, on 127.0.0.1:{port}", flush=True)
    server = Server(args.image, cmd, port, args.out / "server.log")
    try:
        fig["health_s"] = round(server.wait_healthy(), 2)
        check(True, f"/_stcore/health answers ok {fig['health_s']} s after `buildah run`")
        pid = server.server_pid()
        fig["server_uid"] = uid_of(pid)
        check(fig["server_uid"] != 0, f"the server process (pid {pid}) runs as uid {fig['server_uid']}")
        hc = [part.replace("8501", str(port)) for part in health[1:]]  # the port this run listens on
        start = time.perf_counter()
        answer = run_in(server.ctr, hc)
        fig["healthcheck_rc"], fig["healthcheck_s"] = answer.returncode, round(time.perf_counter() - start, 2)
        check(answer.returncode == 0, f"the HEALTHCHECK command exits {answer.returncode} "
                                      f"({fig['healthcheck_s']} s, run inside the container) {answer.stderr[-300:]}")
        fig["id"] = run_in(server.ctr, ["id"]).stdout.strip()
        fig["browser"] = browse(port, args.out / "mixing_lab.png")
        b = fig["browser"]
        check(b["mixing_lab"] and b["exceptions"] == 0,
              f"the Mixing Lab draws in Chromium in {b['page_s']} s, no exception box ({b['screenshot']})")
        fig["xsrf_put_status"] = put_status(port)
        check(fig["xsrf_put_status"] == 403 and b["xsrf_cookie"],
              f"XSRF protection is on: an upload without the token gets {fig['xsrf_put_status']}")
    except Exception as e:  # noqa: BLE001 - reported as a failed check, the figures so far kept
        check(False, f"run 1: {e}")
    finally:
        server.stop()

    # 2. as a Hugging Face Space runs it
    port = free_port()
    print(f"== run 2: as a Space runs it: uid 1000, {' '.join(f'{k}={v}' for k, v in SPACE_ENV.items())}, "
          f"on 127.0.0.1:{port}", flush=True)
    server = Server(args.image, cmd, port, args.out / "server_space.log", user="1000:1000", env=SPACE_ENV)
    space: dict = {}
    fig["space"] = space
    try:
        space["health_s"] = round(server.wait_healthy(), 2)
        space["server_uid"] = uid_of(server.server_pid())
        check(space["server_uid"] == 1000, f"healthy in {space['health_s']} s as uid {space['server_uid']}")
        space["browser"] = browse(port, args.out / "space_upload.png", upload=ROOT / "assets" / "photos" / "koala.jpg")
        b = space["browser"]
        check(b["exceptions"] == 0 and "upload_s" in b,
              f"the page draws ({b['page_s']} s) and a photo uploads ({b['upload_s']} s) with no exception box")
        space["xsrf_put_status"] = put_status(port)
        check(space["xsrf_put_status"] != 403 and not b["xsrf_cookie"],
              f"XSRF protection is off there: no XSRF cookie, a token-less upload gets {space['xsrf_put_status']}")
        space["cross_site_preflight_allowed"] = preflight_allowed(port)
        check(not space["cross_site_preflight_allowed"],
              "CORS still keeps other sites' pages from sending uploads (the preflight names no other origin)")
        log = Path(server.log.name).read_bytes().decode(errors="replace")
        space["log_warnings"] = [line for line in log.splitlines() if re.search(r"Permission denied|not writable|"
                                                                                 r"Traceback", line)]
        check(not space["log_warnings"], f"no permission problem in its log ({len(space['log_warnings'])} lines)")
    except Exception as e:  # noqa: BLE001
        check(False, f"run 2: {e}")
    finally:
        server.stop()

    fig["failures"] = fails
    (args.out / "figures.json").write_text(json.dumps(fig, indent=2) + "\n")
    mb = fig.get("site_packages_mb", {})
    cuda = sum(v for k, v in mb.items() if k in ("nvidia", "triton") or k.startswith("cuda"))
    print(f"== figures: build {args.build_seconds:.0f} s (stand-in base {args.standin_seconds:.0f} s), image {size} "
          f"(site-packages {mb.get('.', 0)} MB, of it CUDA libraries {cuda} MB and torch/ {mb.get('torch', 0)} MB), "
          f"health {fig.get('health_s')} s, HEALTHCHECK {fig.get('healthcheck_rc')} in {fig.get('healthcheck_s')} s, "
          f"uid {fig.get('server_uid')}, page {fig.get('browser', {}).get('page_s')} s; as a Space: health "
          f"{space.get('health_s')} s, page {space.get('browser', {}).get('page_s')} s, upload "
          f"{space.get('browser', {}).get('upload_s')} s  ({args.out / 'figures.json'})")
    if fails:
        print(f"== {len(fails)} check(s) failed", file=sys.stderr)
        return 1
    print("== every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
