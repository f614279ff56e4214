#!/bin/sh
# Checks that the committed bundle in install/jupyterext/ is exactly what the
# sources in frontend/ build: installs the locked dependencies (npm ci),
# builds into a temporary folder and compares. Exit 1 when they differ.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! node scripts/build.mjs --out "$tmp/out" >"$tmp/build.log" 2>&1; then
  cat "$tmp/build.log" >&2
  echo "check-bundle: the build failed" >&2
  exit 1
fi
status=0
for d in labextensions/graft-figure nbextensions/graft-figure; do
  if [ ! -d "../install/jupyterext/$d" ] || ! diff -r "$tmp/out/$d" "../install/jupyterext/$d" >"$tmp/diff.txt" 2>&1; then
    head -n 40 "$tmp/diff.txt" >&2 || true
    status=1
  fi
done
if [ "$status" -ne 0 ]; then
  echo "the embedded bundle differs from a rebuild from source; run \`cd frontend && npm ci && npm run build\` and commit install/jupyterext" >&2
  exit 1
fi
echo "check-bundle: install/jupyterext matches a rebuild from source"
