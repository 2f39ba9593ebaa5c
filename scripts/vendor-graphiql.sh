#!/usr/bin/env bash
# Vendor the GraphiQL IDE assets into gateway/static/graphiql/ so that /graphql
# never loads anything from outside the gateway's own origin.
#
# The package list mirrors the one in strawberry's own page
# (strawberry/static/graphiql.html); when upgrading strawberry, re-read that
# page, update the versions below, run this script and commit the result.
# The files are committed: a machine without npm must still serve the IDE.
#
# Usage: scripts/vendor-graphiql.sh            (needs npm, tar, openssl)
set -euo pipefail

REACT=18.2.0
REACT_DOM=18.2.0
JS_COOKIE=3.0.5
GRAPHIQL=3.8.3
EXPLORER=1.0.2

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/gateway/static/graphiql"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

fetch() {  # fetch <pkg@ver> <dir name>: npm pack + untar into $TMP/<dir>/package
  local spec="$1" dir="$2" tgz
  tgz="$(cd "$TMP" && npm pack --silent "$spec" | tail -n1)"
  mkdir -p "$TMP/$dir"
  tar -xzf "$TMP/$tgz" -C "$TMP/$dir"
}

fetch "react@$REACT" react
fetch "react-dom@$REACT_DOM" react-dom
fetch "js-cookie@$JS_COOKIE" js-cookie
fetch "graphiql@$GRAPHIQL" graphiql
fetch "@graphiql/plugin-explorer@$EXPLORER" explorer

mkdir -p "$DEST"
# Remove previously vendored third-party files; keep our own (boot.js, session.js, ide.css).
rm -f "$DEST"/*.min.js "$DEST"/*.min.css "$DEST"/*.LICENSE "$DEST"/VERSIONS.txt \
      "$DEST"/graphiql-plugin-explorer.js "$DEST"/graphiql-plugin-explorer.css

cp "$TMP/react/package/umd/react.production.min.js"         "$DEST/react.production.min.js"
cp "$TMP/react-dom/package/umd/react-dom.production.min.js" "$DEST/react-dom.production.min.js"
cp "$TMP/js-cookie/package/dist/js.cookie.min.js"           "$DEST/js.cookie.min.js"
cp "$TMP/graphiql/package/graphiql.min.js"                  "$DEST/graphiql.min.js"
cp "$TMP/graphiql/package/graphiql.min.css"                 "$DEST/graphiql.min.css"
cp "$TMP/explorer/package/dist/index.umd.js"                "$DEST/graphiql-plugin-explorer.js"
cp "$TMP/explorer/package/dist/style.css"                   "$DEST/graphiql-plugin-explorer.css"

cp "$TMP/react/package/LICENSE"     "$DEST/react.LICENSE"
cp "$TMP/react-dom/package/LICENSE" "$DEST/react-dom.LICENSE"
cp "$TMP/js-cookie/package/LICENSE" "$DEST/js-cookie.LICENSE"
cp "$TMP/graphiql/package/LICENSE"  "$DEST/graphiql.LICENSE"
if [[ -f "$TMP/explorer/package/LICENSE" ]]; then
  cp "$TMP/explorer/package/LICENSE" "$DEST/graphiql-plugin-explorer.LICENSE"
else
  # The explorer tarball ships no LICENSE file; its package.json says MIT and it
  # lives in the same monorepo (graphql/graphiql) as graphiql, whose text applies.
  license="$(node -p "require('$TMP/explorer/package/package.json').license")"
  {
    echo "@graphiql/plugin-explorer@$EXPLORER is licensed under: $license"
    echo "(package.json 'license' field; the npm tarball ships no LICENSE file."
    echo " It is developed in the graphql/graphiql monorepo, whose license follows.)"
    echo
    cat "$TMP/graphiql/package/LICENSE"
  } > "$DEST/graphiql-plugin-explorer.LICENSE"
fi

sri() { echo "sha384-$(openssl dgst -sha384 -binary "$1" | openssl base64 -A)"; }
{
  echo "# Vendored by scripts/vendor-graphiql.sh — do not edit by hand."
  echo "# file  package@version  sha384 (same hashes as the integrity= attributes in strawberry's graphiql.html)"
  echo "react.production.min.js       react@$REACT                        $(sri "$DEST/react.production.min.js")"
  echo "react-dom.production.min.js   react-dom@$REACT_DOM                    $(sri "$DEST/react-dom.production.min.js")"
  echo "js.cookie.min.js              js-cookie@$JS_COOKIE                    $(sri "$DEST/js.cookie.min.js")"
  echo "graphiql.min.js               graphiql@$GRAPHIQL                     $(sri "$DEST/graphiql.min.js")"
  echo "graphiql.min.css              graphiql@$GRAPHIQL                     $(sri "$DEST/graphiql.min.css")"
  echo "graphiql-plugin-explorer.js   @graphiql/plugin-explorer@$EXPLORER    $(sri "$DEST/graphiql-plugin-explorer.js")"
  echo "graphiql-plugin-explorer.css  @graphiql/plugin-explorer@$EXPLORER    $(sri "$DEST/graphiql-plugin-explorer.css")"
} > "$DEST/VERSIONS.txt"

# Cross-check against strawberry's page when it is installed and pins the same versions.
PY="${PYTHON:-$ROOT/.venv/bin/python}"
if [[ -x "$PY" ]]; then
  page="$("$PY" -c 'import pathlib, strawberry; print(pathlib.Path(strawberry.__file__).parent / "static" / "graphiql.html")' 2>/dev/null || true)"
  if [[ -n "$page" && -f "$page" ]]; then
    missing=0
    while read -r hash; do
      grep -q -- "$hash" "$page" || { echo "note: $hash not in strawberry's graphiql.html (versions differ?)"; missing=1; }
    done < <(awk '/^[^#]/ {print $3}' "$DEST/VERSIONS.txt")
    [[ $missing == 0 ]] && echo "all vendored files match strawberry's integrity hashes"
  fi
fi

du -ch "$DEST"/* | tail -n1
echo "vendored into $DEST"
