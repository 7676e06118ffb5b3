#!/bin/sh
# Vendor Ruffle (the Flash player in WebAssembly) from the npm registry into
# frontend/static/frontend/ruffle/, where the sandbox origin (kolibri_like/zip_app.py) serves it.
#
#   sh scripts/vendor_ruffle.sh [VERSION]      # default: the version pinned below
#
# Needs npm and the internet, once, on a developer's machine; the files it writes are committed,
# so installing and running the server needs neither. To update: run it with a new version,
# play a Flash node in the browser test (tests/frontend/test_html5_browser.py), commit.
#
# What it keeps: `ruffle.js` (the loader), `core.ruffle.*.js` and both `.wasm` builds (Ruffle
# picks the one the browser's WebAssembly supports, so an old tablet still plays), and the
# licences. Source maps (1.5 MB of debugging aid) are left out, and the `sourceMappingURL`
# lines that name them are cut so nothing ever asks for a missing file. `kolibri-like start`
# leaves this folder out of `collectstatic` (the main origin never serves Ruffle; copying and
# compressing 28 MB of WebAssembly added 8 s to every start).
set -eu

VERSION=${1:-0.6.0}
PACKAGE=@ruffle-rs/ruffle
HERE=$(cd "$(dirname "$0")/.." && pwd)
TARGET="$HERE/frontend/static/frontend/ruffle"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
# `npm pack` downloads the published tarball as it is (no install scripts run) and prints
# its integrity, which goes into the README so the next person can compare.
npm pack --json "$PACKAGE@$VERSION" > pack.json
TARBALL=$(node -e 'console.log(require("./pack.json")[0].filename)')
INTEGRITY=$(node -e 'console.log(require("./pack.json")[0].integrity)')
PUBLISHED=$(node -e 'console.log(require("./pack.json")[0].version)')
LICENSE=$(npm view "$PACKAGE@$VERSION" license)
mkdir unpacked
tar -xzf "$TARBALL" -C unpacked
SOURCE=unpacked/package

rm -rf "$TARGET"
mkdir -p "$TARGET"
for file in "$SOURCE"/ruffle.js "$SOURCE"/core.ruffle.*.js; do
    grep -v '^//# sourceMappingURL=' "$file" > "$TARGET/$(basename "$file")"
done
cp "$SOURCE"/*.wasm "$SOURCE"/LICENSE_MIT "$SOURCE"/LICENSE_APACHE "$TARGET"/

cat > "$TARGET/README.md" <<EOF
# Ruffle $PUBLISHED (vendored)

[Ruffle](https://ruffle.rs) plays Flash (\`.swf\`) content in the browser with WebAssembly.
These files are the self-hosted build from the npm package \`$PACKAGE@$PUBLISHED\`
($TARBALL, integrity \`$INTEGRITY\`), fetched by \`scripts/vendor_ruffle.sh\`; nothing is
fetched at run time. The sandbox origin (\`kolibri_like/zip_app.py\`) serves them at
\`/ruffle/\`, so Flash content runs on the same origin as HTML5 apps, never on the main site.

Licence: $LICENSE, as the package says; \`LICENSE_MIT\` and \`LICENSE_APACHE\` are its own
licence files. Changes: the \`sourceMappingURL\` comments are removed (the maps are not
vendored); the files are otherwise as published.
EOF
echo "Vendored $PACKAGE@$PUBLISHED into $TARGET"
ls -l "$TARGET"
