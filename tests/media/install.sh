#!/usr/bin/env bash
# Install the test videos this project did not make: Megamind.avi from Debian's opencv-doc,
# used by tests/test_predict.py. Needs root and Debian/Ubuntu. Images that exclude
# /usr/share/doc from dpkg get the file unpacked from the package by hand.
set -euo pipefail
VIDEO=/usr/share/doc/opencv-doc/examples/data/Megamind.avi
[ -f "$VIDEO" ] && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends opencv-doc >/dev/null
if [ ! -f "$VIDEO" ]; then
    work=$(mktemp -d)
    (cd "$work" && apt-get download -qq opencv-doc)
    dpkg-deb --fsys-tarfile "$work"/opencv-doc_*.deb | tar -x -C / ".$VIDEO"
    rm -rf "$work"
fi
test -f "$VIDEO"
