#!/bin/sh
# Vendor h5p-standalone (an H5P player that needs no H5P server) from the npm registry into
# frontend/static/frontend/h5p-standalone/, where the sandbox origin (kolibri_like/zip_app.py)
# serves it to its H5P player page.
#
#   sh scripts/vendor_h5p.sh [VERSION]      # default: the version pinned below
#
# It keeps the package's dist as published: main.bundle.js (the loader), frame.bundle.js
# (H5P's core scripts and jQuery, loaded into the player page), styles/, fonts/ and images/,
# and the licences; the TypeScript declarations are left out. To update: run it with a new
# version, run tests/frontend/test_reader_browser.py, commit.
set -eu

. "$(dirname "$0")/vendor_npm_pack.sh"
npm_pack h5p-standalone "${1:-3.8.2}"
TARGET="$STATIC/h5p-standalone"

rm -rf "$TARGET"
mkdir -p "$TARGET"
cp -R "$SOURCE/dist/main.bundle.js" "$SOURCE/dist/main.bundle.js.LICENSE.txt" \
    "$SOURCE/dist/frame.bundle.js" "$SOURCE/dist/styles" "$SOURCE/dist/fonts" \
    "$SOURCE/dist/images" "$TARGET"/
cp "$SOURCE/LICENSE" "$TARGET/LICENSE"

vendor_readme "$TARGET" h5p-standalone "[h5p-standalone](https://github.com/tunapanda/h5p-standalone) \
plays an H5P package from its unpacked files, without an H5P server. The sandbox origin \
(\`kolibri_like/zip_app.py\`) serves it at \`/assets/h5p/\` to its player page, and the \
package's files straight out of the stored \`.h5p\`, so an H5P package's scripts never run on \
the main site. \`frame.bundle.js\` bundles H5P's core scripts and jQuery; the fonts folder \
carries the licences of its fonts (\`inter/LICENSE.txt\`, \`open-sans/OFL.txt\`)." \
"none; \`dist/h5p.d.ts\` (TypeScript declarations) is left out. \`LICENSE\` is the package's \
own; \`main.bundle.js.LICENSE.txt\` is the bundler's notice for the code inside."
echo "Vendored $PACKAGE@$PUBLISHED into $TARGET"
ls -l "$TARGET"
