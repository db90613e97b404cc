#!/usr/bin/env bash
# Installs clients/js's npm dependencies exactly as pinned by its
# package-lock.json (`npm ci`), once per lock-file change: a stamp in
# node_modules records the lock's hash. npm's download cache stays where npm
# keeps it (~/.npm, outside the repository). Needs Node >= 20 and npm.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JS=$ROOT/clients/js
say() { printf '[js-setup] %s\n' "$*" >&2; }
command -v node >/dev/null 2>&1 || { say "FAILED: node is not installed (Node >= 20 is needed for clients/js)"; exit 1; }
command -v npm >/dev/null 2>&1 || { say "FAILED: npm is not installed"; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { say "FAILED: Node $(node --version) is too old; clients/js needs Node >= 20"; exit 1; }
lock_hash=$(sha256sum "$JS/package-lock.json" | cut -d' ' -f1)
stamp=$JS/node_modules/.ballast-lock-sha256
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_hash" ]; then
  exit 0
fi
say "npm ci in clients/js (Node $(node --version), npm $(npm --version))"
start=$SECONDS
(cd "$JS" && npm ci --no-audit --no-fund --loglevel=error >&2)
echo "$lock_hash" > "$stamp"
say "installed in $((SECONDS - start)) s"
