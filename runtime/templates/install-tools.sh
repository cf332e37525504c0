#!/usr/bin/env bash
# Installs the pinned tools that build corral's Python and JavaScript task
# templates into a cache under target/ (nothing global, nothing outside the
# repository), and prints where they are. Idempotent: a tool already present
# at its pinned version is left alone, so CI can call this on every run.
#
#   runtime/templates/install-tools.sh            # both tools
#   runtime/templates/install-tools.sh python     # only componentize-py
#   runtime/templates/install-tools.sh js         # only componentize-qjs
#
# CORRAL_TOOLS overrides the cache directory (default: <repo>/target/tools).
# Needs python3 (>= 3.10, with venv) and node (>= 18) with npm; reaches only
# PyPI and the npm registry. Rust tasks need no extra tool: rustup's
# wasm32-wasip2 target (rust-toolchain.toml) is enough.
set -euo pipefail

COMPONENTIZE_PY_VERSION=0.25.1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
tools=${CORRAL_TOOLS:-$root/target/tools}
what=${1:-all}

say() { printf 'install-tools: %s\n' "$*" >&2; }

install_python() {
    local venv=$tools/python bin=$tools/python/bin/componentize-py
    if [[ -x $bin ]] && [[ $("$bin" --version 2>/dev/null) == *" $COMPONENTIZE_PY_VERSION" ]]; then
        say "componentize-py $COMPONENTIZE_PY_VERSION already in $venv"
    else
        say "installing componentize-py $COMPONENTIZE_PY_VERSION into $venv"
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            --no-deps --only-binary :all: "componentize-py==$COMPONENTIZE_PY_VERSION"
    fi
    printf 'componentize-py %s\t%s\n' "$("$bin" --version | awk '{print $NF}')" "$bin"
}

install_js() {
    local dir=$tools/node bin=$tools/node/node_modules/.bin/componentize-qjs
    local want
    want=$(cat "$here/js-tools/package.json" "$here/js-tools/package-lock.json" | sha256sum | cut -d' ' -f1)
    if [[ -x $bin ]] && [[ -f $dir/.installed ]] && [[ $(cat "$dir/.installed") == "$want" ]]; then
        say "componentize-qjs already in $dir"
    else
        say "installing componentize-qjs from js-tools/package-lock.json into $dir"
        rm -rf "$dir"
        mkdir -p "$dir"
        cp "$here/js-tools/package.json" "$here/js-tools/package-lock.json" "$dir/"
        # Not `npm ci`: componentize-qjs 0.4.5 lists optional platform bindings
        # that were never published (linux-arm64-musl, win32-*), which `npm ci`
        # rejects as a lock mismatch. `npm install` still takes every locked
        # version and checks its integrity hash.
        (cd "$dir" && npm install --no-audit --no-fund --no-save --loglevel=error >&2)
        printf '%s\n' "$want" >"$dir/.installed"
    fi
    local version
    version=$(cd "$dir" && node -p 'require("componentize-qjs/package.json").version')
    printf 'componentize-qjs %s\t%s\n' "$version" "$bin"
}

case $what in
    all) install_python; install_js ;;
    python | py) install_python ;;
    js | node) install_js ;;
    *) say "unknown tool '$what' (expected python, js or nothing for both)"; exit 2 ;;
esac
