"""deploy/, checked offline (no cluster, no Docker engine, no network): the Kubernetes manifests against the
Kubernetes API schemas that kubernetes-validate bundles, the compose file's services, health checks, mounts and
replica count, and the shipped nginx config through `nginx -t`. tests/e2e/test_replicas.py runs that nginx for
real in front of two replicas."""
import copy
import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from deploy.nginx.render import render, shipped_servers

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
NGINX_CONF = (DEPLOY / "nginx" / "mixviz.conf").read_text()
# The newest Kubernetes whose schemas kubernetes-validate 1.37.0 bundles, and an older minor that managed
# clusters still run; a manifest must hold for both.
K8S_VERSIONS = ("1.33", "1.37")
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).is_file()), None)


def manifests() -> dict[str, dict]:
    """kind -> the one object of that kind under deploy/k8s/."""
    out = {}
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                assert doc["kind"] not in out, f"two {doc['kind']} objects"
                out[doc["kind"]] = doc
    return out


def healthcheck_command() -> list[str]:
    """The Dockerfile's HEALTHCHECK command (exec form)."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    return json.loads(re.search(r"HEALTHCHECK [^\n]*\\\n\s*CMD (\[[^\n]*\])", dockerfile).group(1))


def memory_bytes(q: str) -> float:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 1e3, "M": 1e6, "G": 1e9}
    m = re.fullmatch(r"([\d.]+)([KMG]i?)?", q)
    return float(m.group(1)) * units.get(m.group(2) or "", 1)


def cpu_cores(q) -> float:
    return float(q[:-1]) / 1000 if str(q).endswith("m") else float(q)


def test_every_manifest_validates_against_the_kubernetes_schemas():
    objects = manifests()
    assert set(objects) == {"Deployment", "Service", "Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget"}
    for obj in objects.values():
        for version in K8S_VERSIONS:
            # strict: a field the API does not know (a typo) fails too
            assert kubernetes_validate.validate(obj, version, strict=True) == version


def test_the_validator_catches_a_misspelt_field_and_a_wrong_type():
    deployment = manifests()["Deployment"]
    typo = copy.deepcopy(deployment)
    probe = typo["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    probe["httpGett"] = probe.pop("httpGet")
    wrong = copy.deepcopy(deployment)
    wrong["spec"]["replicas"] = "two"
    for bad in (typo, wrong):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(bad, K8S_VERSIONS[-1], strict=True)


def test_the_deployment_probes_health_runs_as_the_image_user_and_sizes_memory_by_the_measured_rss():
    objects = manifests()
    pod = objects["Deployment"]["spec"]["template"]
    assert objects["Deployment"]["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    (container,) = pod["spec"]["containers"]
    (port,) = container["ports"]
    assert port["containerPort"] == 8501
    for name in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = container[name]
        assert probe["httpGet"]["path"] == "/_stcore/health" and probe["httpGet"]["port"] in (8501, port["name"])
    # never restarted while torch and the model load and the default page is drawn (asgi.py listens only then):
    # the startup probe, which holds the other two back, allows 90 s at least, as the Dockerfile's HEALTHCHECK does
    start = container["startupProbe"]
    assert start.get("initialDelaySeconds", 0) + start["periodSeconds"] * start["failureThreshold"] >= 90
    uid = re.search(r"useradd [^\n]*--uid (\d+)", (ROOT / "Dockerfile").read_text()).group(1)
    security = pod["spec"]["securityContext"]
    assert security["runAsNonRoot"] is True and str(security["runAsUser"]) == uid == "10001"
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    # bench/classroom.py --capacity: one server peaked at 2.5 GB RSS with fifteen students (its capacity), 2.7 GB
    # with twenty: the request covers a busy replica, the limit its peak
    res = container["resources"]
    assert 2e9 <= memory_bytes(res["requests"]["memory"]) < memory_bytes(res["limits"]["memory"]) <= 3 * 2**30
    assert cpu_cores(res["requests"]["cpu"]) == 0.5 and cpu_cores(res["limits"]["cpu"]) == 2
    # the threads torch starts follow the CPU limit, not the node's cores (mixviz.threads reads MIXVIZ_CORES)
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert int(env["MIXVIZ_CORES"]) == cpu_cores(res["limits"]["cpu"])


def test_the_service_ingress_autoscaler_and_budget_point_at_the_deployment():
    objects = manifests()
    deployment, service = objects["Deployment"], objects["Service"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    (svc_port,) = service["spec"]["ports"]
    container_ports = {p["name"]: p["containerPort"] for p in deployment["spec"]["template"]["spec"]["containers"][0]["ports"]}
    assert container_ports.get(svc_port["targetPort"], svc_port["targetPort"]) == 8501

    ingress = objects["Ingress"]
    notes = {k.removeprefix("nginx.ingress.kubernetes.io/"): v for k, v in ingress["metadata"]["annotations"].items()}
    assert notes["affinity"] == "cookie" and notes["session-cookie-name"] and int(notes["session-cookie-max-age"]) >= 3600
    assert int(notes["proxy-read-timeout"]) >= 3600 and int(notes["proxy-send-timeout"]) >= 3600
    max_upload_mb = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]
    assert memory_bytes(notes["proxy-body-size"].replace("m", "Mi")) >= max_upload_mb * 2**20
    assert ingress["spec"]["ingressClassName"] == "nginx"
    backends = [p["backend"]["service"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    assert backends == [{"name": service["metadata"]["name"], "port": {"name": svc_port["name"]}}]

    hpa = objects["HorizontalPodAutoscaler"]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": deployment["metadata"]["name"]}
    assert 2 <= hpa["spec"]["minReplicas"] <= deployment["spec"]["replicas"] <= hpa["spec"]["maxReplicas"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["type"] == "Resource" and metric["resource"]["name"] == "cpu"

    assert objects["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def test_the_compose_file_runs_replicas_behind_nginx_with_health_checks():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    app = services["app"]  # its threads follow its CPU limit (mixviz.threads reads MIXVIZ_CORES)
    assert float(app["environment"]["MIXVIZ_CORES"]) == float(app["deploy"]["resources"]["limits"]["cpus"])
    assert set(services) == {"app", "nginx", "postgres"}
    app, nginx = services["app"], services["nginx"]
    assert (DEPLOY / app["build"]["context"] / app["build"]["dockerfile"]).resolve() == ROOT / "Dockerfile"
    # the Dockerfile's own HEALTHCHECK command (python's urllib: the image has no curl)
    assert app["healthcheck"]["test"] == ["CMD", *healthcheck_command()]
    assert "/_stcore/health" in " ".join(app["healthcheck"]["test"])
    assert app["restart"] == nginx["restart"] == "unless-stopped"
    assert "ports" not in app and nginx["ports"]  # only nginx is reachable from outside
    assert nginx["depends_on"]["app"]["condition"] == "service_healthy"
    assert nginx["healthcheck"]["test"]

    # nginx gets the shipped config and the replica list, where mixviz.conf includes it from
    mounts = {}
    for volume in nginx["volumes"]:
        source, target, mode = volume.split(":")
        assert mode == "ro" and (DEPLOY / source).is_file(), volume
        mounts[(DEPLOY / source).resolve()] = target
    assert mounts[DEPLOY / "nginx" / "mixviz.conf"] == "/etc/nginx/conf.d/default.conf"
    include = re.search(r"^\s*include\s+(\S+);", NGINX_CONF, re.M).group(1)
    assert mounts[DEPLOY / "nginx" / "mixviz-upstreams.inc"] == f"/etc/nginx/{include}"

    # one server line per replica, named as Compose v2 names the containers (project-service-index)
    replicas = app["deploy"]["replicas"]
    assert replicas >= 2
    names = [address for address, _ in shipped_servers()]
    assert names == [f"{compose['name']}-app-{i}:8501" for i in range(1, replicas + 1)]


def test_the_replicas_share_one_postgresql_for_the_polls():
    """Every replica's Poll page reads and writes one database (ui/poll_store.py), started before them, healthy,
    its data in a named volume; the lecturer's token and the password come from the environment, not the file."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    app, db = compose["services"]["app"], compose["services"]["postgres"]
    url = app["environment"]["MIXVIZ_DATABASE_URL"]
    assert re.fullmatch(r"postgresql://mixviz:\$\{MIXVIZ_DB_PASSWORD:\?[^}]+\}@postgres:5432/mixviz", url), url
    assert app["environment"]["MIXVIZ_POLL_TOKEN"] == "${MIXVIZ_POLL_TOKEN:-}"
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert db["image"].startswith("postgres:15")  # the major version the tests run (scripts/postgres.py)
    assert db["environment"]["POSTGRES_USER"] == "mixviz" and db["environment"]["POSTGRES_DB"] == "mixviz"
    assert db["environment"]["POSTGRES_PASSWORD"].startswith("${MIXVIZ_DB_PASSWORD:?")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume, target = db["volumes"][0].split(":")
    assert volume in compose["volumes"] and target == "/var/lib/postgresql/data"
    # Kubernetes: the token and the database's URL from one Secret, optional (pods start without polls)
    deployment = next(d for d in yaml.safe_load_all((DEPLOY / "k8s" / "deployment.yaml").read_text()) if d)
    env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    for name, key in (("MIXVIZ_POLL_TOKEN", "token"), ("MIXVIZ_DATABASE_URL", "database-url")):
        ref = env[name]["valueFrom"]["secretKeyRef"]
        assert (ref["name"], ref["key"], ref["optional"]) == ("mixviz-poll", key, True)


def test_the_nginx_config_keeps_sessions_proxies_websockets_and_fails_over():
    conf = re.sub(r"#[^\n]*", "", NGINX_CONF)  # directives only
    key = re.search(r"hash\s+(\$\w+)\s+consistent;", conf).group(1)
    cookie_map = re.search(r"map \$cookie_mixviz_affinity \$(\w+) \{(.*?)\n\}", conf, re.S)
    assert key == f"${cookie_map.group(1)}" and "$request_id" in cookie_map.group(2)
    assert re.search(r'"mixviz_affinity=\$request_id; Path=/; HttpOnly; SameSite=Lax"', conf)
    assert re.search(r"add_header Set-Cookie \$\w+ always;", conf)
    assert re.search(r"proxy_set_header Upgrade \$http_upgrade;", conf)
    assert re.search(r"map \$http_upgrade \$(\w+) \{\s*default\s+upgrade;", conf)
    assert "proxy_http_version 1.1;" in conf
    stream = re.search(r"location ~ /_stcore/stream\$ \{([^}]*)\}", conf).group(1)
    assert re.search(r"proxy_read_timeout 3600s;", stream) and re.search(r"proxy_send_timeout 3600s;", stream)
    assert re.search(r"location ~ /_stcore/health\$", conf)
    assert re.search(r"proxy_next_upstream error timeout;", conf)
    body = re.search(r"client_max_body_size (\d+)m;", conf).group(1)
    assert int(body) >= tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]
    for _, params in shipped_servers():
        assert re.search(r"max_fails=[1-9]", params) and re.search(r"fail_timeout=\d+s", params)


@pytest.mark.skipif(NGINX is None, reason="no nginx binary: `apt-get install -y nginx` (scripts/install_system.sh does)")
def test_nginx_accepts_the_shipped_config(tmp_path):
    for n in (2, 3):  # the same files serve any number of replicas
        out = tmp_path / f"replicas{n}"
        conf = render(out, "127.0.0.1:8080", [f"127.0.0.1:{8501 + i}" for i in range(n)])
        assert (out / "mixviz.conf").read_text().count("listen 127.0.0.1:8080;") == 1
        done = subprocess.run([NGINX, "-p", f"{out}/", "-c", str(conf), "-e", str(out / "error.log"), "-t"],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 0 and "test is successful" in done.stderr, done.stderr
