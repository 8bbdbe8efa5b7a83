#!/usr/bin/env bash
# Builds the app's Docker image from the repository's Dockerfile on a machine with no Docker engine, runs it, and
# checks it (scripts/check_image.py): the HEALTHCHECK command answers 0, the server runs as a non-root user, the
# Mixing Lab draws in Chromium (a screenshot), the image also serves as uid 1000 with a Space's settings, and how
# large it is.
#
#   bash scripts/build_image.sh          (as root: it installs buildah and debootstrap when they are missing)
#
# How, on a machine like ours (../shared/ENVIRONMENT.md: no Docker engine, no image registry, no PyTorch index):
#  1. buildah and debootstrap from Debian's packages (apt-get; it waits for apt's locks like install_system.sh).
#     buildah alone builds, stores and runs the image (`buildah bud`, `buildah from` + `buildah run`, both with
#     `--isolation chroot`); podman is not needed (its `podman run` does not work here anyway).
#  2. The base: python:3.11-slim-bookworm cannot be pulled, so a stand-in is made once from Debian bookworm (whose
#     Python is 3.11) with debootstrap: python3, venv, pip, ca-certificates, `python`/`pip` in /usr/local/bin and no
#     EXTERNALLY-MANAGED marker, as in the official image. `buildah from scratch` + `buildah add` (of the root
#     file system as a tar) + `buildah commit` make it an image, tagged docker.io/library/python:3.11-slim-bookworm
#     in this machine's store only, so the Dockerfile's FROM finds it with --pull=never. It is kept for the next
#     build (remove it with `buildah rmi docker.io/library/python:3.11-slim-bookworm`) and never pushed anywhere.
#  3. `buildah bud --isolation chroot --pull=never --format docker --layers` (docker format: an OCI image has no
#     HEALTHCHECK; --layers: a rebuild after a code change reuses the pip layer). TLS from here goes through a proxy
#     whose CA is in this machine's bundle: the RUN steps see that bundle in place of the image's own (a bind mount,
#     so the image itself trusts what Debian trusts). PyTorch's CPU index does not answer here, so the build gets
#     TORCH_INDEX_URL=PyPI plus this machine's own wheel folders and indexes (what `pip config list` shows, mounted
#     read-only into the RUN steps and named in a pip.conf they read; nothing of it stays in the image, which
#     scripts/check_image.py checks): the pinned torch 2.14.1 and
#     torchvision 0.29.1, as requirements.txt has them. The only 2.14.1 here is the CUDA build, so the image built
#     here is about 7 GB where the CPU-only one of a build with internet is far smaller; scripts/check_image.py
#     says how much of it is CUDA. (The CPU-only torch 2.13.0 on this disk would make a small image, but not the
#     torch the app pins and is tested with, and PyPI's torchvision does not work with it, not even its own 0.28.0:
#     `operator torchvision::nms does not exist`.)
#     FETCH_WEIGHTS: 1 where the Xception weights' host answers, else 0 (the app then serves EfficientNet-Lite0
#     and says so); from here it does not (no github.com).
#  4. scripts/check_image.py runs the image and checks it; its figures go to $MIXVIZ_IMAGE_OUT/figures.json.
#
# Settings (environment): MIXVIZ_IMAGE (tag built, default localhost/mixviz:local), MIXVIZ_FETCH_WEIGHTS (auto|0|1),
# MIXVIZ_TORCH_INDEX_URL (default https://pypi.org/simple), MIXVIZ_IMAGE_OUT (default out/image),
# MIXVIZ_IMAGE_SKIP_BUILD=1 (check the image already built), MIXVIZ_APT_LOCK_TIMEOUT (default 600 s).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${MIXVIZ_IMAGE:-localhost/mixviz:local}
BASE=docker.io/library/python:3.11-slim-bookworm
OUT=${MIXVIZ_IMAGE_OUT:-out/image}
PY=${PYTHON:-.venv/bin/python}
TORCH_INDEX_URL=${MIXVIZ_TORCH_INDEX_URL:-https://pypi.org/simple}
mkdir -p "$OUT"
[ -x "$PY" ] || { echo "no $PY: run \`bash run.sh test\` once (it makes the virtual environment)" >&2; exit 1; }

say() { echo "== $*"; }

# -- 1. the tools --------------------------------------------------------------------------------------------------
missing=()
command -v buildah >/dev/null || missing+=(buildah)
command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        echo "missing: ${missing[*]}. Install them as root (apt-get install ${missing[*]}) and run this again;" \
             "building an image this way also needs root (buildah --isolation chroot)" >&2
        exit 1
    fi
    wait_s=${MIXVIZ_APT_LOCK_TIMEOUT:-600}
    apt=(apt-get -o "DPkg::Lock::Timeout=$wait_s")
    say "installing ${missing[*]} (Debian packages; waits up to ${wait_s}s for apt's locks)"
    deadline=$((SECONDS + wait_s))
    # apt 2.6's `update` does not wait for the lists' lock itself: retry while another apt holds it
    until err=$("${apt[@]}" update -qq 2>&1 >/dev/null); do
        if ! grep -q -e "Could not get lock" -e "Unable to lock" <<<"$err" || [ "$SECONDS" -ge "$deadline" ]; then
            printf '%s\n' "$err" >&2
            echo "could not update apt's package lists (above); run this again once apt is free" >&2
            exit 1
        fi
        sleep 5
    done
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || { echo "could not install ${missing[*]} with apt-get (its message is above)" >&2; exit 1; }
fi
if [ "$(id -u)" != 0 ]; then
    echo "buildah --isolation chroot needs root here (rootless buildah needs user namespaces this sandbox lacks)" >&2
    exit 1
fi

# containers a killed run left behind (ours are named mixviz-check-*)
for c in $(buildah containers --format '{{.ContainerName}}' | grep '^mixviz-check-' || true); do buildah rm "$c" >/dev/null; done

# -- 2. the stand-in base image ------------------------------------------------------------------------------------
standin_s=0
if buildah inspect --type image "$BASE" >/dev/null 2>&1; then
    say "base: $BASE is in the local store (the stand-in of an earlier run)"
else
    # the Debian mirror apt uses here ($(SITE) is apt's own placeholder, not the shell's)
    # shellcheck disable=SC2016
    mirror=$(apt-get indextargets --format '$(SITE) $(RELEASE)' 2>/dev/null | awk '$2 == "bookworm" {print $1; exit}')
    mirror=${mirror:-http://deb.debian.org/debian}
    root=$(mktemp -d /var/tmp/mixviz-standin.XXXXXX)
    trap 'rm -rf "$root"' EXIT
    say "base: making a stand-in for $BASE with debootstrap from $mirror (about a minute)"
    start=$SECONDS
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
        bookworm "$root" "$mirror" >"$OUT/debootstrap.log" 2>&1 \
        || { tail -20 "$OUT/debootstrap.log" >&2; echo "debootstrap failed (log: $OUT/debootstrap.log)" >&2; exit 1; }
    ln -sf /usr/bin/python3 "$root/usr/local/bin/python"
    ln -sf /usr/bin/pip3 "$root/usr/local/bin/pip"
    rm -f "$root"/usr/lib/python3.*/EXTERNALLY-MANAGED  # the official image has none: pip installs system-wide
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*  # as slim images are shipped
    tar -C "$root" -cf "$root.tar" .
    ctr=$(buildah from scratch)
    buildah add --quiet "$ctr" "$root.tar" / >/dev/null
    buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env LANG=C.UTF-8 \
        --cmd python3 --label org.opencontainers.image.description="local stand-in for $BASE (debootstrap)" "$ctr"
    buildah commit --quiet --rm "$ctr" "$BASE" >/dev/null
    rm -rf "$root" "$root.tar"
    trap - EXIT
    standin_s=$((SECONDS - start))
    say "base: $BASE made in ${standin_s}s"
fi

# -- 3. the build --------------------------------------------------------------------------------------------------
build_s=0
if [ -n "${MIXVIZ_IMAGE_SKIP_BUILD:-}" ]; then
    say "build: skipped (MIXVIZ_IMAGE_SKIP_BUILD); checking $IMAGE as it is"
else
    fetch=${MIXVIZ_FETCH_WEIGHTS:-auto}
    if [ "$fetch" = auto ]; then
        # the same test the build's `python -m mixviz fetch-weights` makes: does the weights' host answer?
        fetch=$(env -u HF_HUB_OFFLINE "$PY" -c "from mixviz.maps.models import _xception_url, network_answers
print(int(network_answers(_xception_url(), timeout=5)))")
        [ "$fetch" = 1 ] || say "build: the Xception weights' host does not answer from here: FETCH_WEIGHTS=0" \
                                "(the image serves EfficientNet-Lite0 and says so)"
    fi
    # this machine's pip sources, for the RUN steps: its extra indexes and wheel folders (file:// or paths), each
    # mounted read-only under /root/local-N, and a pip.conf naming them. All of it under a host folder mounted as
    # root's home (/root, which the base has): the mount points land in that folder, not in the image (a mount
    # point buildah has to create is left in the layer as an empty file or folder). pip reads ~/.config/pip/pip.conf.
    home=$(mktemp -d /var/tmp/mixviz-build.XXXXXX)
    trap 'rm -rf --one-file-system "$home"' EXIT
    mkdir -p "$home/.config/pip"
    extra=$("$PY" -m pip config get global.extra-index-url 2>/dev/null || true)
    links=${PIP_FIND_LINKS:-$("$PY" -m pip config get global.find-links 2>/dev/null || true)}
    mounts=(-v "/etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro" -v "$home:/root")
    n=0 build_extra="" build_links=""
    local_source() {  # $1: an index URL or a wheel folder; sets `mapped` to what the RUN steps call it
        local src=$1 dir sub=""
        mapped=""
        case $src in
            file://*/simple|file://*/simple/) dir=$(dirname "${src#file://}"); sub=/simple ;;  # its files/ beside it
            file://*) dir=${src#file://} ;;
            /*) dir=$src ;;
            *) mapped=$src; return ;;  # an http index: as it is
        esac
        [ -d "$dir" ] || return 0
        n=$((n + 1))
        mounts+=(-v "$dir:/root/local-$n:ro")
        case $src in file://*) mapped="file:///root/local-$n$sub" ;; *) mapped="/root/local-$n" ;; esac
    }
    for src in $extra; do local_source "$src"; build_extra+=${mapped:+ $mapped}; done
    for src in $links; do local_source "$src"; build_links+=${mapped:+ $mapped}; done
    { echo "[global]"
      [ -z "${build_extra// /}" ] || echo "extra-index-url =$build_extra"
      [ -z "${build_links// /}" ] || echo "find-links =$build_links"
    } >"$home/.config/pip/pip.conf"
    say "build: $IMAGE (torch from $TORCH_INDEX_URL${extra:+ and $extra}; FETCH_WEIGHTS=$fetch)"
    old=$(buildah images --format '{{.ID}}' --noheading "$IMAGE" 2>/dev/null || true)
    start=$SECONDS
    if ! buildah bud --isolation chroot --pull=never --format docker --layers \
            --build-arg "TORCH_INDEX_URL=$TORCH_INDEX_URL" --build-arg "FETCH_WEIGHTS=$fetch" \
            "${mounts[@]}" -t "$IMAGE" -f Dockerfile . >"$OUT/build.log" 2>&1; then
        tail -30 "$OUT/build.log" >&2
        echo "the build failed (whole log: $OUT/build.log)" >&2
        exit 1
    fi
    build_s=$((SECONDS - start))
    rm -rf --one-file-system "$home"
    trap - EXIT
    say "build: done in ${build_s}s (log: $OUT/build.log)"
    new=$(buildah images --format '{{.ID}}' --noheading "$IMAGE")
    if [ -n "$old" ] && [ "$old" != "$new" ]; then  # the image this build replaced, now untagged
        buildah rmi "$old" >/dev/null 2>&1 || true
    fi
fi

# -- 4. run it and check it ----------------------------------------------------------------------------------------
exec "$PY" scripts/check_image.py --image "$IMAGE" --out "$OUT" --build-seconds "$build_s" \
    --standin-seconds "$standin_s"
