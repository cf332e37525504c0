# bash completion for corral.                              -*- shell-script -*-
# Install: source this file, or copy it to
# ~/.local/share/bash-completion/completions/corral.

# Task ids are the `id = "..."` lines of the manifest named by --manifest
# (default ./manifest.toml), read without running corral.
_corral_ids() {
    [[ -r $1 ]] &&
        sed -n 's/^[[:space:]]*id[[:space:]]*=[[:space:]]*"\([a-z0-9_]*\)".*/\1/p' -- "$1"
}

_corral() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local command='' manifest=manifest.toml i
    # `--opt=value` arrives as three words: `--opt`, `=`, `value`.
    [[ $prev == = ]] && prev=${COMP_WORDS[COMP_CWORD - 2]}
    [[ $cur == = ]] && cur=''
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        run | check | list | build | audit | result) [[ $command ]] || command=${COMP_WORDS[i]} ;;
        --manifest)
            [[ ${COMP_WORDS[i + 1]} == = ]] && ((i++))
            ((i + 1 < COMP_CWORD)) && manifest=${COMP_WORDS[i + 1]}
            ;;
        esac
    done

    local words
    case $prev in
    --manifest | --events)
        compopt -o filenames
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return
        ;;
    --max-concurrency) return ;;
    --only) words=$(_corral_ids "$manifest") ;;
    --mode) words='on shadow off' ;;
    --events-format) words='segment json' ;;
    *)
        case $command in
        '') words='run check list build audit result --help' ;;
        run) words='--help --manifest --only --mode --max-concurrency --events --events-format --build' ;;
        result) [[ $cur == -* ]] && words='--help --manifest' || words=$(_corral_ids "$manifest") ;;
        *) words='--help --manifest' ;;
        esac
        ;;
    esac
    mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
}

complete -F _corral corral
