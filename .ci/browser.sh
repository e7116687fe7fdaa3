#!/usr/bin/env bash
# The browser the console's tests drive (tests/console): Debian's chromium, and a CJK font so
# that Chinese text renders in screenshots. Installed from Debian's packages when missing;
# Playwright (a Python package of the dev extra) drives it, and never downloads a browser.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "WenQuanYi Micro Hei" || missing+=(fonts-wqy-microhei)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "browser.sh: install ${missing[*]}: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq "${missing[@]}" fontconfig >/dev/null
command -v chromium >/dev/null || { echo "browser.sh: apt-get did not bring chromium" >&2; exit 1; }
