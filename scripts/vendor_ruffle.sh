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

. "$(dirname "$0")/vendor_npm_pack.sh"
npm_pack @ruffle-rs/ruffle "${1:-0.6.0}"
TARGET="$STATIC/ruffle"

rm -rf "$TARGET"
mkdir -p "$TARGET"
for file in "$SOURCE"/ruffle.js "$SOURCE"/core.ruffle.*.js; do
    grep -v '^//# sourceMappingURL=' "$file" > "$TARGET/$(basename "$file")"
done
cp "$SOURCE"/*.wasm "$SOURCE"/LICENSE_MIT "$SOURCE"/LICENSE_APACHE "$TARGET"/

vendor_readme "$TARGET" Ruffle "[Ruffle](https://ruffle.rs) plays Flash (\`.swf\`) content in the \
browser with WebAssembly. The sandbox origin (\`kolibri_like/zip_app.py\`) serves these files at \
\`/ruffle/\`, so Flash content runs on the same origin as HTML5 apps, never on the main site." \
"the \`sourceMappingURL\` comments are removed (the maps are not vendored); the files are \
otherwise as published. \`LICENSE_MIT\` and \`LICENSE_APACHE\` are the package's licence files."
echo "Vendored $PACKAGE@$PUBLISHED into $TARGET"
ls -l "$TARGET"
