#!/usr/bin/env bash
# Run the optional Rasa NLU server on nlu/ (the hub's alternative to its built-in engine).
#
#   scripts/rasa-server.sh [setup|train|serve]...   (default: setup train serve)
#
#   setup  create .rasa-venv/ with Python 3.10 and `pip install rasa==3.6.21`
#          (skipped by the default run when the venv already has rasa; `setup` alone forces it)
#   train  rasa train nlu on nlu/ into .rasa-models/ (skipped by the default run
#          when the newest model is newer than every file under nlu/)
#   serve  rasa run --enable-api on ${RASA_PORT:-5005}
#
# Rasa 3.6 runs on Python 3.8-3.10 only, hence its own venv apart from the hub's (3.11+).
# The interpreter: $PYTHON310, else a working `python3.10` on PATH, else pyenv's
# ~/.pyenv/versions/3.10.*/bin/python3.10. Only pip (the package registry) is used.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RASA_VENV:-$ROOT/.rasa-venv}"
MODELS="$ROOT/.rasa-models"
RASA_VERSION="3.6.21"
PORT="${RASA_PORT:-5005}"

log() { printf 'rasa-server: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# A candidate counts only if it runs and is 3.10 (a pyenv shim may exist yet fail).
is_py310() { [ -n "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }

find_python310() {
    if [ -n "${PYTHON310:-}" ]; then
        is_py310 "$PYTHON310" || die "\$PYTHON310=$PYTHON310 is not a working Python 3.10"
        printf '%s\n' "$PYTHON310"; return
    fi
    if command -v python3.10 >/dev/null 2>&1 && is_py310 python3.10; then
        command -v python3.10; return
    fi
    local candidate
    for candidate in $(ls -d "$HOME"/.pyenv/versions/3.10.*/bin/python3.10 2>/dev/null | sort -V -r); do
        if is_py310 "$candidate"; then printf '%s\n' "$candidate"; return; fi
    done
    die "no Python 3.10 found (Rasa 3.6 needs 3.8-3.10): set PYTHON310, or install one (pyenv install 3.10)"
}

have_rasa() { [ -x "$VENV/bin/rasa" ] && "$VENV/bin/python" -c 'import rasa' 2>/dev/null; }

setup() {
    local py
    py="$(find_python310)"
    log "using $py ($("$py" --version 2>&1))"
    [ -x "$VENV/bin/python" ] || "$py" -m venv "$VENV"
    # The pip this install was checked with (24.0); the venv's own 23.0 is older.
    # rasa 3.6.21 pins setuptools itself (70.3.0), so it is left to it.
    "$VENV/bin/python" -m pip install --quiet --upgrade 'pip==24.0' wheel
    "$VENV/bin/python" -m pip install "rasa==$RASA_VERSION"
    "$VENV/bin/rasa" --version
}

# True when the newest model is newer than every file under nlu/.
model_fresh() {
    local newest
    newest="$(ls -t "$MODELS"/*.tar.gz 2>/dev/null | head -n 1)"
    [ -n "$newest" ] || return 1
    [ -z "$(find "$ROOT/nlu" -type f -newer "$newest" -print -quit)" ]
}

train() {
    have_rasa || die "rasa is not installed in $VENV: run '$0 setup' first"
    cd "$ROOT"
    "$VENV/bin/rasa" train nlu --config nlu/config.yml --nlu nlu/data --out "$MODELS"
}

serve() {
    have_rasa || die "rasa is not installed in $VENV: run '$0 setup' first"
    [ -n "$(ls "$MODELS"/*.tar.gz 2>/dev/null)" ] || die "no model in $MODELS: run '$0 train' first"
    cd "$ROOT"
    log "serving on port $PORT"
    exec "$VENV/bin/rasa" run --enable-api --port "$PORT" --model "$MODELS"
}

if [ "$#" -eq 0 ]; then
    if have_rasa; then log "setup: $VENV has rasa, skipped"; else setup; fi
    if model_fresh; then log "train: model newer than nlu/, skipped"; else train; fi
    serve
fi

for step in "$@"; do
    case "$step" in
        setup | --setup) setup ;;
        train | --train) train ;;
        serve | --serve) serve ;;
        -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown step '$step' (setup, train, serve)" ;;
    esac
done
