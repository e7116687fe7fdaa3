#!/usr/bin/env bash
# The offline installation, checked once (docs/deployment.md): `make wheelhouse`, then a fresh
# venv installs qingliu[dev] from wheelhouse/ alone (no index, no pip configuration, no other
# wheel folder), and the installed command makes a home and uses it from another directory.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
make wheelhouse
built=$(date +%s)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
wheels="$(pwd)/wheelhouse"
python3 -m venv "$work/venv"
# Only the wheelhouse: no config file (it may name local indexes or wheel folders), no index;
# --no-compile: byte-compiling the dev tools would double the time of this check.
env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL PIP_CONFIG_FILE=/dev/null \
    "$work/venv/bin/pip" install --quiet --no-compile --no-index --find-links "$wheels" 'qingliu[dev]'
installed=$(date +%s)
cd "$work"  # not the checkout: the template comes from the installed wheel
q="$work/venv/bin/qingliu"
env -u QINGLIU_CONFIG -u QINGLIU_HOME -u QINGLIU_DATABASE_URL -u QINGLIU_KEYS -u QINGLIU_BLOBS \
    bash -euo pipefail -c "
        '$q' --version
        '$q' init site
        '$q' --home site validate site/workflows
        '$q' --home site load > /dev/null
        test -f site/var/qingliu.db
    "
now=$(date +%s)
echo "wheelhouse: $(ls "$wheels" | wc -l) wheels; offline install checked in" \
    "$((now - started)) s (make wheelhouse $((built - started)) s," \
    "install $((installed - built)) s, init/validate/load $((now - installed)) s)"
