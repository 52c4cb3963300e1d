#!/usr/bin/env bash
# Make the asv HTML report (asv publish) work without internet access: asv's
# pages load jQuery, flot, bootstrap and friends from CDNs.  This fetches the
# same versions from the npm registry (npm pack), copies them into
# .asv/html/vendor/ and points the pages at them.  Run after every `asv publish`.
set -euo pipefail
cd "$(dirname "$0")/.."
html=.asv/html
cache=.asv/vendor-cache
[ -f "$html/index.html" ] || { echo "no $html/index.html: run 'asv publish' first" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is needed to fetch the report's JavaScript" >&2; exit 1; }
mkdir -p "$cache" "$html/vendor"
# url on the CDN | npm package | file inside the package
while IFS='|' read -r url package file; do
  [ -n "$url" ] || continue
  name=$(basename "$url")
  tgz="$cache/$(echo "$package" | tr '@/' '__').tgz"
  if [ ! -f "$tgz" ]; then
    (cd "$cache" && npm pack --silent "$package" >/dev/null && mv "$(ls -t ./*.tgz | head -1)" "$(basename "$tgz")")
  fi
  tar -xzOf "$tgz" "package/$file" > "$html/vendor/$name"
  grep -rl --include='*.html' "$url" "$html" | xargs -r sed -i "s#$url#vendor/$name#g"
done <<'LIST'
https://code.jquery.com/jquery-3.3.1.min.js|jquery@3.3.1|dist/jquery.min.js
https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.min.js|flot@0.8.3|jquery.flot.js
https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.time.min.js|flot@0.8.3|jquery.flot.time.js
https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.selection.min.js|flot@0.8.3|jquery.flot.selection.js
https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.categories.min.js|flot@0.8.3|jquery.flot.categories.js
https://cdn.jsdelivr.net/npm/flot-orderbars@1.0.0/js/jquery.flot.orderBars.js|flot-orderbars@1.0.0|js/jquery.flot.orderBars.js
https://cdnjs.cloudflare.com/ajax/libs/stupidtable/1.0.1/stupidtable.min.js|stupid-table-plugin@1.1.3|stupidtable.min.js
https://cdnjs.cloudflare.com/ajax/libs/blueimp-md5/2.19.0/js/md5.min.js|blueimp-md5@2.19.0|js/md5.min.js
https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/js/bootstrap.min.js|bootstrap@3.1.1|dist/js/bootstrap.min.js
https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/css/bootstrap.min.css|bootstrap@3.1.1|dist/css/bootstrap.min.css
LIST
# The CDN tags carry subresource-integrity hashes of the CDN's (minified) files;
# the local copies come from the npm packages, so drop the hashes for them.
grep -rl --include='*.html' 'src="vendor/\|href="vendor/' "$html" \
  | xargs -r sed -i -E '/(src|href)="vendor\//s/ integrity="[^"]*"//'
echo "report in $html now loads its scripts from $html/vendor"
