#!/usr/bin/env bash
# Install the Debian packages the tests need besides SLURM (tests/cluster/slurm_up.sh):
# Chromium, which opens the HTML report (tests/test_pipeline.py), and opencv-doc's Megamind.avi,
# a real face video this project did not make (tests/test_predict.py). Needs root and
# Debian/Ubuntu. Images that exclude /usr/share/doc from dpkg get the video unpacked by hand.
set -euo pipefail
VIDEO=/usr/share/doc/opencv-doc/examples/data/Megamind.avi
missing=()
command -v chromium >/dev/null || missing+=(chromium)
[ -f "$VIDEO" ] || missing+=(opencv-doc)
[ ${#missing[@]} -eq 0 ] && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [ ! -f "$VIDEO" ]; then
    work=$(mktemp -d)
    (cd "$work" && apt-get download -qq opencv-doc)
    dpkg-deb --fsys-tarfile "$work"/opencv-doc_*.deb | tar -x -C / ".$VIDEO"
    rm -rf "$work"
fi
command -v chromium >/dev/null && test -f "$VIDEO"
