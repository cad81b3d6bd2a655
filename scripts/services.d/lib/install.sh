# shellcheck shell=bash
# Installing what the services run (sourced by scripts/services).
#
# Debian packages come from apt (as root). Everything else is built or downloaded once per
# version into $CACHE_DIR/<name>/<key>/, where <key> is the pinned version and, where a file of
# this repository says what to fetch (a pom, a manifest, a requirements list), a hash of it.
# An entry counts only once its build finished (DEST/.complete), so a half-made install is never
# used; the cache lock keeps two `up`s from building the same thing at once.

# First 12 hex digits of the SHA-256 of the given files' contents.
files_key() { cat "$@" | sha256sum | cut -c1-12; }

# Install the Debian packages that the selected services print from <name>_packages.
install_packages() {
    local missing=() svc pkg
    for svc in "$@"; do
        while IFS= read -r pkg; do
            if [[ -n $pkg && " ${missing[*]} " != *" $pkg "* ]]; then missing+=("$pkg"); fi
        done < <("${svc}_packages")
    done
    ((${#missing[@]} == 0)) && return 0
    is_root || die "missing packages: ${missing[*]}; install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}"
    log "installing missing packages: ${missing[*]}"
    apt-get update >&2
    # The packages of PostgreSQL, Redis, RabbitMQ and Prometheus start system instances on their
    # standard ports (RabbitMQ and Prometheus on every interface). Where nothing already forbids
    # that (containers usually have a policy-rc.d that does), forbid it while apt runs.
    local policy=/usr/sbin/policy-rc.d made_policy=
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\n# scripts/services: no service starts while it installs packages\nexit 101\n' >"$policy"
        chmod 0755 "$policy"
        made_policy=1
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
    if [[ -n $made_policy ]]; then
        rm -f "$policy"
        trap - EXIT
    fi
}

# Run "$@" to build cache entry DEST, in place (a virtual environment cannot be moved): the
# command gets DEST as $BUILD_DIR. DEST counts as built only once DEST/.complete exists, which is
# written after the command succeeded; a half-made DEST is wiped and built again. The command's
# output goes to DEST/build.log, whose tail is shown on failure.
cache_build() {
    local name=$1 dest=$2 what=$3 started=$SECONDS
    shift 3
    [[ -f $dest/.complete ]] && return 0
    [[ -n $CACHE_LOCKED ]] || die "$name: cache_build called without the cache lock"
    rm -rf "$dest"
    mkdir -p "$dest"
    log "$name: $what (once; cached in $dest)"
    if ! BUILD_DIR="$dest" "$@" >"$dest/build.log" 2>&1 </dev/null 9>&-; then
        show_log_tail "$dest/build.log"
        die "$name: $what failed"
    fi
    touch "$dest/.complete"
    log "$name: $what took $((SECONDS - started))s"
}

# Cache entry of the jars that POM (a pom.xml in this repository) resolves to, in <dest>/libs.
maven_dest() { printf '%s/%s/%s\n' "$CACHE_DIR" "$1" "$(files_key "$2")"; }

maven_fetch() {
    local name=$1 pom=$2
    command -v mvn >/dev/null || die "$name: mvn not found (Debian: apt-get install maven)"
    cache_build "$name" "$(maven_dest "$name" "$pom")" "fetching its jars from Maven Central" \
        _maven_copy_dependencies "$pom"
}

_maven_copy_dependencies() {
    # Maven writes target/ next to the pom: run it on a copy inside the cache entry.
    cp "$1" "$BUILD_DIR/pom.xml"
    mvn -B -f "$BUILD_DIR/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$BUILD_DIR/libs"
    rm -rf "$BUILD_DIR/target"
}

# Cache entry of Go program MODULE@VERSION built with `go install`, in <dest>/bin.
go_dest() { printf '%s/%s/%s\n' "$CACHE_DIR" "$1" "$2"; }

require_go() {
    command -v go >/dev/null ||
        die "$1: go not found; install Go 1.22 or newer (older Debian golang packages cannot build it)"
}

go_fetch() {
    local name=$1 module=$2 version=$3
    require_go "$name"
    cache_build "$name" "$(go_dest "$name" "$version")" "building $module@$version with go install" \
        _go_install "$module@$version"
}

_go_install() { GOBIN="$BUILD_DIR/bin" GOFLAGS=-mod=mod go install "$1"; }

# Cache entry of a Python virtual environment with the pinned REQUIREMENTS, in <dest>/venv.
venv_dest() { printf '%s/%s/%s\n' "$CACHE_DIR" "$1" "$(files_key "$2")"; }

venv_fetch() {
    local name=$1 requirements=$2
    cache_build "$name" "$(venv_dest "$name" "$requirements")" "installing its Python packages from PyPI" \
        _venv_install "$requirements"
}

_venv_install() {
    # uv when present (seconds); the standard library's venv and pip otherwise.
    if command -v uv >/dev/null; then
        uv venv --python "$(command -v python3)" "$BUILD_DIR/venv"
        uv pip install --python "$BUILD_DIR/venv/bin/python" --no-deps -r "$1"
    else
        python3 -m venv "$BUILD_DIR/venv"
        "$BUILD_DIR/venv/bin/pip" install --disable-pip-version-check --no-deps -r "$1"
    fi
}
