#!/usr/bin/env bash
# Reference for what `corral new NAME --lang LANG` writes, and the tool the
# template check uses: instantiates one template as DEST/NAME/ and prints its
# build command (run it from DEST, the directory holding manifest.toml).
#
#   runtime/templates/instantiate.sh rust|python|js NAME DEST
#
# Every file under runtime/templates/LANG/ but build-command is copied to
# DEST/NAME/ at the same relative path with `{{name}}` replaced by NAME and
# `{{crate}}` by NAME with `_` turned into `-`; the repository's wit/task.wit
# and the templates' worlds (runtime/templates/wit/*.wit) go to DEST/NAME/wit/, the
# repository's wit/deps/*.wit to DEST/NAME/wit/deps/.
set -euo pipefail

if [[ $# -ne 3 ]]; then
    echo "usage: $0 rust|python|js NAME DEST" >&2
    exit 2
fi
lang=$1 name=$2 dest=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
[[ $lang != wit && -d $here/$lang ]] || { echo "no template for '$lang' (rust, python, js)" >&2; exit 2; }
[[ $name =~ ^[a-z0-9_]+$ ]] || { echo "task id '$name' must match [a-z0-9_]+" >&2; exit 2; }
crate=${name//_/-}
out=$dest/$name
[[ ! -e $out ]] || { echo "$out already exists" >&2; exit 1; }

fill() { sed -e "s/{{name}}/$name/g" -e "s/{{crate}}/$crate/g"; }

(cd "$here/$lang" && find . -type f ! -name build-command) | while read -r file; do
    mkdir -p "$(dirname "$out/$file")"
    fill <"$here/$lang/$file" >"$out/$file"
done
mkdir -p "$out/wit/deps"
cp "$root/wit/task.wit" "$here"/wit/*.wit "$out/wit/"
cp "$root"/wit/deps/*.wit "$out/wit/deps/"
fill <"$here/$lang/build-command"
