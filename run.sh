#!/usr/bin/env bash
# The two commands of the README:
#   bash run.sh app    set everything up, then serve the app on http://localhost:8501
#   bash run.sh test   set everything up, then run the whole test suite
# Set-up is a virtual environment in .venv, refreshed whenever a requirements file changes.
set -euo pipefail
cd "$(dirname "$0")"

PY=${PYTHON:-python3}
VENV=.venv

setup() {  # $1: requirements file
    local req=$1 stamp="$VENV/.installed-$(basename "$1" .txt)"
    local want
    want=$(cat requirements*.txt pyproject.toml | sha256sum | cut -d' ' -f1)
    [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        echo "== installing $req into $VENV (first time: a few minutes)"
        "$VENV/bin/python" -m pip install -q --upgrade pip
        "$VENV/bin/python" -m pip install -q -r "$req"
        "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e .
        echo "$want" > "$stamp"
    fi
}

case "${1:-}" in
    app)
        setup requirements.txt
        shift
        exec "$VENV/bin/python" -m streamlit run asgi.py --browser.gatherUsageStats false "$@"
        ;;
    test)
        setup requirements-dev.txt
        shift
        [ -n "${MIXVIZ_SKIP_BROWSER:-}" ] || bash scripts/install_system.sh  # chromium and nginx
        export HF_HUB_OFFLINE=1 MPLBACKEND=Agg
        exec "$VENV/bin/python" -m pytest -n 2 --dist loadfile "$@"
        ;;
    *)
        echo "usage: bash run.sh app | test [extra pytest or streamlit arguments]" >&2
        exit 2
        ;;
esac
