#!/usr/bin/env bash
# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
# Installs it with apt-get when it is missing and this shell may; otherwise says what to do.
# When another apt-get or dpkg holds the package locks (an unattended upgrade, a second test run), it waits
# for them, up to MIXVIZ_APT_LOCK_TIMEOUT seconds (default 600) for each of `update` and `install`.
set -euo pipefail
if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
    exit 0
fi
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
    echo "== installing chromium (Debian package, about a minute; waits up to ${wait_s}s for apt's locks)"
    update_lists || gave_up "update the package lists"
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq chromium >/dev/null || gave_up "install chromium"
    exit 0
fi
echo "chromium is missing: install it (sudo apt-get install chromium) for the browser tests," \
     "or set MIXVIZ_SKIP_BROWSER=1 to skip them" >&2
exit 1
