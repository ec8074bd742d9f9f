#!/usr/bin/env bash
# Generates clients from the served OpenAPI document as integrators do —
# openapi-python-client (default config) and openapi-typescript — failing on
# any warning either prints, type-checks the TypeScript, and runs an
# integrator's program through the Python client.
# Usage: tests/clients/check.sh <API base URL> <bearer token>
set -euo pipefail
cd "$(dirname "$0")"
api="$1"
token="$2"
tools="$(cd ../../.tools/clients && pwd)"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
curl -sf "$api/openapi.json" -o "$out/openapi.json"

echo "-- openapi-python-client"
PATH="$tools/bin:$PATH" "$tools/bin/openapi-python-client" generate \
  --path "$out/openapi.json" --output-path "$out/python" >"$out/python.log" 2>&1 || {
  cat "$out/python.log"
  exit 1
}
if grep -qi 'warning\|error' "$out/python.log"; then
  cat "$out/python.log"
  echo "openapi-python-client warned" >&2
  exit 1
fi

echo "-- openapi-typescript"
node_modules/.bin/openapi-typescript "$out/openapi.json" -o "$out/schema.d.ts" >"$out/typescript.log" 2>&1 || {
  cat "$out/typescript.log"
  exit 1
}
if grep -qi 'warn\|error' "$out/typescript.log"; then
  cat "$out/typescript.log"
  echo "openapi-typescript warned" >&2
  exit 1
fi
cp usage.ts "$out/"
node_modules/.bin/tsc --noEmit --strict --target es2022 --module es2022 --moduleResolution bundler "$out/usage.ts"

echo "-- an integrator's program through the Python client"
PYTHONPATH="$out/python" "$tools/bin/python" program.py "$api" "$token"
