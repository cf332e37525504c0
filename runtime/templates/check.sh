#!/usr/bin/env bash
# End-to-end check of the task templates: instantiates each one in a scratch
# directory, builds it with its own build command and checks that the result
# is a component exporting the task world's `run`. With a corral binary it also
# runs each task against a small granted directory and checks its result and
# its invalid-input path.
#
#   runtime/templates/check.sh [rust] [python] [js]     # default: all three
#
# Environment: CORRAL_TOOLS (see install-tools.sh; installed if missing),
# WASM_TOOLS (a wasm-tools binary; default: wasm-tools on PATH, else only the
# component header is checked), CORRAL (a corral binary; default: none, no run),
# KEEP=1 keeps the scratch directory.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
export CORRAL_TOOLS=${CORRAL_TOOLS:-$root/target/tools}
langs=("$@")
[[ ${#langs[@]} -gt 0 ]] || langs=(rust python js)
wasm_tools=${WASM_TOOLS:-$(command -v wasm-tools || true)}
corral=${CORRAL:-}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/corral-templates.XXXXXX")
export CORRAL_CACHE_DIR=$scratch/cache
if [[ ${KEEP:-} == 1 ]]; then
    echo "check: scratch directory $scratch" >&2
else
    trap 'rm -rf "$scratch"' EXIT
fi

for lang in "${langs[@]}"; do
    case $lang in
        python) "$here/install-tools.sh" python >/dev/null ;;
        js) "$here/install-tools.sh" js >/dev/null ;;
    esac
done

mkdir -p "$scratch/data"
printf 'alpha\n' >"$scratch/data/a.txt"
printf 'beta beta\n' >"$scratch/data/b.txt"
mkdir "$scratch/data/sub"

failed=0 passed=0
fail() { echo "check: FAIL $*" >&2; failed=$((failed + 1)); }

for lang in "${langs[@]}"; do
    name=tpl_${lang}
    command=$("$here/instantiate.sh" "$lang" "$name" "$scratch")
    start=$(date +%s%N)
    if ! (cd "$scratch" && sh -c "$command") >"$scratch/$name.build.log" 2>&1; then
        fail "$lang: build failed: $command"
        tail -20 "$scratch/$name.build.log" >&2
        continue
    fi
    ms=$((($(date +%s%N) - start) / 1000000))
    wasm=$scratch/$name/$name.wasm
    # A component's header is \0asm then version 0x0d 0x00, layer 0x01 0x00.
    if [[ $(head -c 8 "$wasm" | od -An -tx1 | tr -d ' \n') != 0061736d0d000100 ]]; then
        fail "$lang: $wasm is not a component"
        continue
    fi
    if [[ -n $wasm_tools ]]; then
        # corral's engine leaves component-model async off.
        "$wasm_tools" validate --features=-cm-async "$wasm" || { fail "$lang: wasm-tools validate"; continue; }
        world=$("$wasm_tools" component wit "$wasm")
        grep -q 'export run: func(call: invocation) -> result<string, failure>;' <<<"$world" &&
            grep -q 'import corral:task/host@' <<<"$world" ||
            { fail "$lang: does not export the task world's run"; continue; }
    fi
    printf 'check: %-6s built in %6d ms, %8d bytes: %s\n' "$lang" "$ms" "$(stat -c %s "$wasm")" "$command" >&2

    if [[ -n $corral ]]; then
        manifest=$scratch/$name.toml
        for args in '["/data"]' '["--invalid"]'; do
            cat >"$manifest" <<EOF
version = 1
[runtime]
max_timeout_ms = 60000
state_dir = ".corral-$name"
[[task]]
id = "$name"
rationale = "template check"
component = "$name/$name.wasm"
timeout_ms = 10000
memory_mb = 128
args = $args
[[task.dir]]
host = "data"
guest = "/data"
mode = "ro"
EOF
            "$corral" check --manifest "$manifest" >"$scratch/$name.check.log" 2>&1 ||
                { fail "$lang: corral check"; cat "$scratch/$name.check.log" >&2; continue 2; }
            if [[ $args == '["/data"]' ]]; then
                "$corral" run --manifest "$manifest" >"$scratch/$name.run.log" 2>&1 ||
                    { fail "$lang: corral run"; cat "$scratch/$name.run.log" >&2; continue 2; }
                result=$("$corral" result "$name" --manifest "$manifest")
                [[ $result == 'files=2 first=a.txt bytes=6' ]] ||
                    { fail "$lang: result '$result'"; continue 2; }
                grep -q "name=async_task_${name}_scan " "$scratch/$name.run.log" &&
                    grep -q "LOG task=$name level=info" "$scratch/$name.run.log" ||
                    { fail "$lang: no scan segment or log line"; cat "$scratch/$name.run.log" >&2; continue 2; }
            else
                "$corral" run --manifest "$manifest" >"$scratch/$name.run.log" 2>&1 || true
                grep -q "name=async_task_${name}_fail .*reason=invalid_input" "$scratch/$name.run.log" ||
                    { fail "$lang: --invalid did not fail as invalid input"; cat "$scratch/$name.run.log" >&2; continue 2; }
            fi
        done
        echo "check: $lang ran: $result" >&2
    fi
    passed=$((passed + 1))
done

echo "templates: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
