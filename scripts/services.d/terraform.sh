# shellcheck shell=bash
# Terraform: nothing runs. `up` writes a CLI configuration into the state dir that installs
# registry.terraform.io/hashicorp/* providers from this machine's provider mirror (a folder
# holding registry.terraform.io/), and nothing else from anywhere: tests run offline. The
# mirror is SCAFFOLD_TF_PLUGIN_MIRROR when set, else the first registry.terraform.io folder
# found under /opt, /usr/local/share or /usr/share (no machine path is committed). Without a
# mirror the configuration installs providers directly from the registry (network needed).
# Terraform itself must be installed (it is not in Debian's packages).
# `install` also builds the matrix's provider cache (tests/matrix/provider_cache: a gRPC proxy in
# front of the shared AWS provider, keyed by its source files' hash) with Go; `env` names it in
# SCAFFOLD_TERRAFORM_PROVIDER_CACHE once built.

TERRAFORM_DIR="$STATE_DIR/terraform"
TERRAFORM_RC="$TERRAFORM_DIR/terraform.rc"

terraform_packages() { :; }

PROVIDER_CACHE_SOURCE="$REPO_ROOT/tests/matrix/provider_cache"

terraform_provider_cache_dest() {
    printf '%s/terraform-provider-cache/%s\n' "$CACHE_DIR" \
        "$(files_key "$PROVIDER_CACHE_SOURCE"/go.mod "$PROVIDER_CACHE_SOURCE"/go.sum "$PROVIDER_CACHE_SOURCE"/*.go)"
}

terraform_install() {
    require_go terraform
    cache_build terraform "$(terraform_provider_cache_dest)" \
        "building the provider cache (tests/matrix/provider_cache) with go build" _build_provider_cache
}

_build_provider_cache() { (cd "$PROVIDER_CACHE_SOURCE" && go build -trimpath -o "$BUILD_DIR/bin/provider-cache" .); }

terraform_mirror() {
    local root found
    if [[ -n ${SCAFFOLD_TF_PLUGIN_MIRROR:-} ]]; then
        [[ -d $SCAFFOLD_TF_PLUGIN_MIRROR/registry.terraform.io ]] ||
            die "terraform: SCAFFOLD_TF_PLUGIN_MIRROR=$SCAFFOLD_TF_PLUGIN_MIRROR has no registry.terraform.io folder"
        realpath "$SCAFFOLD_TF_PLUGIN_MIRROR"
        return 0
    fi
    for root in /opt /usr/local/share /usr/share; do
        found="$(find "$root" -maxdepth 3 -type d -name registry.terraform.io -print -quit 2>/dev/null)"
        if [[ -n $found ]]; then
            dirname "$found"
            return 0
        fi
    done
    return 1
}

terraform_write_config() {
    local mirror
    mkdir -p "$TERRAFORM_DIR"
    mirror="$(terraform_mirror || true)"
    if [[ -n $mirror ]]; then
        cat >"$TERRAFORM_RC.new" <<CONFIG
# Written by scripts/services on every start; edits are overwritten.
# Providers only from the machine's mirror; no other source (tests run offline).
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/*"]
  }
}
CONFIG
        mv -f "$TERRAFORM_RC.new" "$TERRAFORM_RC" # a rename: a check reading it never sees half of it
        log "terraform: providers from the mirror in $mirror"
    else
        cat >"$TERRAFORM_RC.new" <<CONFIG
# Written by scripts/services on every start; edits are overwritten.
# No provider mirror was found on this machine: providers come from the registry.
provider_installation {
  direct {}
}
CONFIG
        mv -f "$TERRAFORM_RC.new" "$TERRAFORM_RC"
        log "terraform: no provider mirror found (set SCAFFOLD_TF_PLUGIN_MIRROR); providers come from the registry"
    fi
}

terraform_up() {
    command -v terraform >/dev/null ||
        die "terraform: terraform not found on PATH (it is not a Debian package: install Terraform 1.5 or newer)"
    terraform_write_config
}

terraform_down() { :; }
terraform_is_up() { command -v terraform >/dev/null && [[ -f $TERRAFORM_RC ]]; }
terraform_where() { echo "CLI config $TERRAFORM_RC"; }
terraform_env() {
    printf 'export TF_CLI_CONFIG_FILE=%s\n' "$TERRAFORM_RC"
    local cache
    cache="$(terraform_provider_cache_dest)/bin/provider-cache"
    if [[ -x $cache ]]; then printf 'export SCAFFOLD_TERRAFORM_PROVIDER_CACHE=%s\n' "$cache"; fi
}
