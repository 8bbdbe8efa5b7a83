#!/usr/bin/env bash
# The Debian packages the tests start: Chromium for the browser tests (Playwright drives it; it never downloads a
# browser), nginx, which tests/e2e/test_replicas.py runs on loopback in front of two app replicas (and
# tests/test_deploy.py asks `nginx -t` about deploy/nginx/mixviz.conf), and PostgreSQL, whose server
# scripts/postgres.py starts for tests/test_poll_postgres.py (a cluster of its own in a temporary directory).
# Installs what is missing with apt-get, in one `update` and one `install`, when this shell may (root with apt-get);
# otherwise says what to do. Does nothing, fast, when all three are there.
# When another apt-get or dpkg holds the package locks (an unattended upgrade, a second test run), it waits
# for them, up to MIXVIZ_APT_LOCK_TIMEOUT seconds (default 600) for each of `update` and `install`.
# nginx and PostgreSQL are only ever started by the tests (`nginx -p DIR -c CONF`, `pg_ctl` on a temporary cluster,
# on 127.0.0.1): their packages' own services (nginx; postgresql's `main` cluster) are not started by this install
# (a policy-rc.d says no for the install's duration, unless the system already has one).
set -euo pipefail

missing=()
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing+=(chromium)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
# the server's binaries are not on PATH: /usr/lib/postgresql/VERSION/bin (psql alone comes from postgresql-client)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ ${#missing[@]} -gt 0 ] || exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    wait_s=${MIXVIZ_APT_LOCK_TIMEOUT:-600}
    # DPkg::Lock::Timeout: apt-get waits this long for the dpkg lock instead of failing at once. apt 2.6's
    # `update` does not apply it to the package lists' lock, so update_lists also retries while that is held.
    apt=(apt-get -o "DPkg::Lock::Timeout=$wait_s")
    gave_up() {
        echo "could not $1 with apt-get (its message is above). If another apt-get or dpkg held apt's lock" \
             "for more than ${wait_s}s, let it finish (or raise MIXVIZ_APT_LOCK_TIMEOUT) and run this again;" \
             "or set MIXVIZ_SKIP_BROWSER=1 to skip the browser tests" >&2
        exit 1
    }
    update_lists() {
        local deadline=$((SECONDS + wait_s)) err said=""
        while true; do
            if err=$("${apt[@]}" update -qq 2>&1 >/dev/null); then
                [ -z "$err" ] || printf '%s\n' "$err" >&2  # warnings
                return 0
            fi
            if ! grep -q -e "Could not get lock" -e "Unable to lock" <<<"$err" || [ "$SECONDS" -ge "$deadline" ]; then
                printf '%s\n' "$err" >&2
                return 1
            fi
            [ -n "$said" ] || echo "== another apt-get or dpkg holds apt's lock; waiting for it (up to ${wait_s}s)"
            said=1
            sleep 5
        done
    }
    # Debian's way to keep a package's daemon from starting at install: policy-rc.d answering 101 ("action
    # forbidden"). Only ours if the system has none, and removed again whatever happens.
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\n# written by mixviz scripts/install_system.sh for the duration of an install\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        trap 'rm -f "$policy"' EXIT
    fi
    echo "== installing ${missing[*]} (Debian packages, about a minute; waits up to ${wait_s}s for apt's locks)"
    update_lists || gave_up "update the package lists"
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq "${missing[@]}" >/dev/null \
        || gave_up "install ${missing[*]}"
    exit 0
fi
echo "missing for the browser and server tests: ${missing[*]}. Install them (sudo apt-get install ${missing[*]})," \
     "or set MIXVIZ_SKIP_BROWSER=1 to skip those tests" >&2
exit 1
