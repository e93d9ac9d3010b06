#!/usr/bin/env bash
# Installs the Python client of the interop suite (pyfluss and pytest, pinned in
# python/requirements.txt) into a venv outside the repository, once per set of pins: a stamp file
# holds the hash of requirements.txt and a later run with the same pins does nothing.
# Prints the venv's python path on its last line. Cache dir: $FLUSS_INTEROP_CACHE, default
# ~/.cache/fluss-ts-interop.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${FLUSS_INTEROP_CACHE:-$HOME/.cache/fluss-ts-interop}"
venv="$cache/venv"
req="$here/python/requirements.txt"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || "$(cat "$venv/.requirements-sha" 2>/dev/null)" != "$want" ]]; then
  mkdir -p "$cache"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$want" > "$venv/.requirements-sha"
fi
echo "$venv/bin/python"
