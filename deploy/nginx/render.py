"""deploy/nginx's configuration for replicas at other addresses, in a folder of its own, with a small main config
that runs nginx as any user (pid, temporary files and logs inside that folder). The tests start nginx from it
on loopback; it also serves anyone who runs the replicas and nginx on one host without compose:

    python deploy/nginx/render.py OUT --listen 127.0.0.1:8080 --server 127.0.0.1:8502 --server 127.0.0.1:8503
    nginx -p OUT/ -c OUT/nginx.conf -e OUT/error.log -g 'daemon off;'     (access log: nginx's stdout)

mixviz.conf is copied as it is but for its one `listen` line; the server lines keep the parameters of the
shipped mixviz-upstreams.inc (max_fails, fail_timeout) with the given addresses. Standard library only."""
from __future__ import annotations

import argparse
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONF = HERE / "mixviz.conf"
UPSTREAMS = HERE / "mixviz-upstreams.inc"
LISTEN = re.compile(r"^(\s*)listen\s+80;.*$", re.M)
SERVER = re.compile(r"^\s*server\s+(\S+)((?:\s+[a-z_]+=\S+?)*)\s*;", re.M)

MAIN = """\
# written by deploy/nginx/render.py: deploy/nginx/mixviz.conf with {n} replica(s), listening on {listen}
worker_processes 1;
pid nginx.pid;
error_log error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    client_body_temp_path tmp/client_body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    include mixviz.conf;
}}
"""


def shipped_servers() -> list[tuple[str, str]]:
    """(address, parameters) of each server line of the shipped mixviz-upstreams.inc."""
    return [(m.group(1), m.group(2).strip()) for m in SERVER.finditer(UPSTREAMS.read_text())]


def render(out: Path, listen: str, servers: list[str]) -> Path:
    """Write nginx.conf, mixviz.conf and mixviz-upstreams.inc into `out` (created); return nginx.conf's path."""
    if not servers:
        raise ValueError("at least one replica address")
    conf, n = LISTEN.subn(lambda m: f"{m.group(1)}listen {listen};", CONF.read_text())
    if n != 1:
        raise ValueError(f"{CONF} should have exactly one `listen 80;` line, it has {n}")
    params = {p for _, p in shipped_servers()}
    if len(params) != 1:
        raise ValueError(f"{UPSTREAMS}: every server line should carry the same parameters, found {sorted(params)}")
    (param,) = params
    out.mkdir(parents=True, exist_ok=True)
    (out / "tmp").mkdir(exist_ok=True)
    (out / "mixviz.conf").write_text(conf)
    (out / "mixviz-upstreams.inc").write_text(
        "# written by deploy/nginx/render.py from deploy/nginx/mixviz-upstreams.inc\n"
        + "".join(f"server {address} {param};\n" for address in servers))
    main = out / "nginx.conf"
    main.write_text(MAIN.format(n=len(servers), listen=listen))
    return main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="the folder to write (nginx's prefix, -p)")
    ap.add_argument("--listen", default="127.0.0.1:8080", help="nginx's address (default: %(default)s)")
    ap.add_argument("--server", action="append", required=True, help="a replica's HOST:PORT; repeat per replica")
    args = ap.parse_args()
    conf = render(args.out, args.listen, args.server)
    print(f"nginx -p {args.out.resolve()}/ -c {conf.resolve()} -e {args.out.resolve()}/error.log -g 'daemon off;'")


if __name__ == "__main__":
    main()
