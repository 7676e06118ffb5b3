#!/bin/sh
# Vendor epub.js (the EPUB reader) from the npm registry into frontend/static/frontend/epubjs/,
# where the sandbox origin (kolibri_like/zip_app.py) serves it to its EPUB reader page.
#
#   sh scripts/vendor_epubjs.sh [VERSION]      # default: the version pinned below
#
# 0.3.93 is pinned, not npm's `latest` (0.4.x): 0.3.x is the line readers (Kolibri's among
# them) run. JSZip is not vendored: the sandbox origin serves a book's files straight out of
# the stored .epub, so epub.js opens it as an unpacked book and never unzips in the browser.
# To update: run it with a new version, run tests/frontend/test_reader_browser.py, commit.
set -eu

. "$(dirname "$0")/vendor_npm_pack.sh"
npm_pack epubjs "${1:-0.3.93}"
TARGET="$STATIC/epubjs"

rm -rf "$TARGET"
mkdir -p "$TARGET"
grep -v '^//# sourceMappingURL=' "$SOURCE/dist/epub.min.js" > "$TARGET/epub.min.js"
cp "$SOURCE/license" "$TARGET/LICENSE"

vendor_readme "$TARGET" epub.js "[epub.js](https://github.com/futurepress/epub.js) lays out an \
EPUB book's pages in the browser. The sandbox origin (\`kolibri_like/zip_app.py\`) serves it at \
\`/vendor/epubjs/\` to its reader page, so a book's HTML never runs on the main site." \
"only \`dist/epub.min.js\` is kept, without its \`sourceMappingURL\` comment (the map is not \
vendored); \`LICENSE\` is the package's \`license\` file."
echo "Vendored $PACKAGE@$PUBLISHED into $TARGET"
ls -l "$TARGET"
