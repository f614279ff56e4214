#!/bin/sh
# Builds the JupyterLab 3.6 test application of graft's e2e tests into
# e2e/lab/build/ (see README.md): `npm ci` from package-lock.json, skipped
# when node_modules already matches it, then the webpack build (production
# mode, no source maps). Safe to run again; prints the time it took.
set -eu
cd "$(dirname "$0")"
start=$(date +%s)

stamp=node_modules/.graft-lab-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
  echo "e2e/lab: node_modules up to date"
else
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

./node_modules/.bin/webpack --config webpack.config.js --stats errors-warnings
echo "e2e/lab: built in $(( $(date +%s) - start ))s"
