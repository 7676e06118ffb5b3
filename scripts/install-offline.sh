#!/bin/sh
# Install kolibri-like from this folder on a machine without internet.
#
#   sh install-offline.sh [VENV_DIR]
#
# VENV_DIR defaults to /opt/kolibri-like as root, else ~/.local/kolibri-like. Running it again
# with a newer wheelhouse upgrades in place; the next `kolibri-like start` migrates the database
# after backing it up. Exit codes: 3 no suitable Python, 4 a damaged copy, 1 anything else.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" = 0 ]; then DEFAULT_VENV=/opt/kolibri-like; else DEFAULT_VENV="$HOME/.local/kolibri-like"; fi
VENV=${1:-$DEFAULT_VENV}
WANTED=$(cat "$HERE/python-version")

# The wheels are built for one Python version (compiled parts like Pillow depend on it).
PYTHON=""
for candidate in "${KOLIBRI_LIKE_PYTHON:-}" "python$WANTED" python3; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    found=$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)
    if [ "$found" = "$WANTED" ]; then PYTHON=$candidate; break; fi
done
if [ -z "$PYTHON" ]; then
    echo "These wheels are for Python $WANTED, which is not on this machine." >&2
    echo "Install python$WANTED, or point KOLIBRI_LIKE_PYTHON at it, then run this again." >&2
    exit 3
fi

# A copy carried on a USB stick can be damaged; pip would fail later with a less clear message.
if command -v sha256sum >/dev/null 2>&1; then
    if ! (cd "$HERE" && sha256sum --quiet --check SHA256SUMS); then
        echo "Some files in $HERE are damaged (SHA256SUMS does not match): copy the folder again." >&2
        exit 4
    fi
fi

# Only this folder: no index, no pip.conf, no PIP_* variables naming another source.
for name in $(env | sed -n 's/^\(PIP_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$name"; done
PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
export PIP_CONFIG_FILE PIP_DISABLE_PIP_VERSION_CHECK PIP_NO_INPUT

# --without-pip: Debian's python3 lacks ensurepip unless python3-venv is installed; pip comes
# from its own wheel in this folder instead.
"$PYTHON" -m venv --without-pip "$VENV"
PIP_WHEEL=$(ls "$HERE"/pip-*.whl | head -n 1)
"$VENV/bin/python" "$PIP_WHEEL/pip" install --no-index --find-links "$HERE" --upgrade \
    pip kolibri-like

VERSION=$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("kolibri-like"))')
echo ""
echo "kolibri-like $VERSION is installed in $VENV."
echo "Start it (learners then open one of the addresses it prints):"
echo "  $VENV/bin/kolibri-like start"
echo "Or start it on every boot as an unprivileged user (here: kolibri):"
echo "  sudo useradd --system --create-home --home-dir /var/lib/kolibri-like --shell /usr/sbin/nologin kolibri"
echo "  sudo $VENV/bin/kolibri-like install-service --user kolibri --home /var/lib/kolibri-like"
