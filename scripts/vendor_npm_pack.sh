#!/bin/sh
# The npm-pack steps every vendor script shares; sourced, not run:
#
#   . "$(dirname "$0")/vendor_npm_pack.sh"
#   npm_pack epubjs 0.3.93     # sets SOURCE (the unpacked package), TARBALL, INTEGRITY,
#                              # PUBLISHED (the version npm gave) and LICENSE
#   vendor_readme "$TARGET" "epub.js" "what it does and where it is served"
#
# `npm pack` downloads the published tarball as it is (no install scripts run) and prints its
# integrity, which goes into the vendored folder's README so the next person can compare.
# Needs npm and the internet, once, on a developer's machine; the vendored files are committed.
# The scratch folder is removed on exit.
set -eu

HERE=$(cd "$(dirname "$0")/.." && pwd)
STATIC="$HERE/frontend/static/frontend"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

npm_pack() {
    package=$1
    version=$2
    (cd "$WORK" && npm pack --json "$package@$version" > pack.json)
    TARBALL=$(cd "$WORK" && node -e 'console.log(require("./pack.json")[0].filename)')
    INTEGRITY=$(cd "$WORK" && node -e 'console.log(require("./pack.json")[0].integrity)')
    PUBLISHED=$(cd "$WORK" && node -e 'console.log(require("./pack.json")[0].version)')
    LICENSE=$(npm view "$package@$version" license)
    PACKAGE=$package
    rm -rf "$WORK/unpacked"
    mkdir "$WORK/unpacked"
    tar -xzf "$WORK/$TARBALL" -C "$WORK/unpacked"
    SOURCE="$WORK/unpacked/package"
}

# vendor_readme TARGET TITLE DESCRIPTION [CHANGES]: the README.md that says where the files
# came from, under which licence, and what was changed.
vendor_readme() {
    cat > "$1/README.md" <<README
# $2 $PUBLISHED (vendored)

$3

These files come from the npm package \`$PACKAGE@$PUBLISHED\` ($TARBALL, integrity
\`$INTEGRITY\`), fetched by \`scripts/$(basename "$0")\`; nothing is fetched at run time.

Licence: $LICENSE, as the package says; its own licence file is beside this one.
Changes: ${4:-none; the files are as published.}
README
}
