#!/usr/bin/env bash
# Every relative link of README.md and docs/**/*.md names a file or directory
# of the repository: [text](path) and [text](path#anchor), relative to the
# page; web links (scheme:), mail links and links to an anchor of the same
# page are skipped. Links inside code spans and fenced code blocks are not
# links. A code span that names a path under one of the repository's
# top-level directories (`daemon/log.cc`, `systemd/ringfenced.service.in`)
# must name an existing one too, relative to the repository (globs and
# `{a,b}` lists are skipped, a `:LINE` suffix is ignored).
# Usage: markdown_links_test.sh SOURCE_DIR
set -uo pipefail

src=${1:?usage: markdown_links_test.sh SOURCE_DIR}
cd "$src" || exit 1

mapfile -t files < <({ echo README.md; find docs -type f -name '*.md'; } | sort)
# The repository's top-level directories, as a regular expression: a|b|c.
tops=$(find . -mindepth 1 -maxdepth 1 -type d ! -name '.*' ! -name build -printf '%f\n' | sort | paste -sd'|')
failed=0
checked=0
for file in "${files[@]}"; do
  dir=$(dirname "$file")
  # KIND<TAB>LINE<TAB>TARGET: every inline link outside code, every repository path in a code span.
  while IFS=$'\t' read -r kind line target; do
    [[ -z $target ]] && continue
    if [[ $kind == path ]]; then
      target=${target%%:*}
      [[ $target == *[*{]* ]] && continue
      checked=$((checked + 1))
      if [[ ! -e $target ]]; then
        echo "not ok - $file:$line: names $target, which is not in the repository"
        failed=1
      fi
      continue
    fi
    target=${target%%#*}
    target=${target%% *}  # [t](path "title")
    [[ -z $target ]] && continue
    checked=$((checked + 1))
    if [[ ! -e "$dir/$target" ]]; then
      echo "not ok - $file:$line: broken link to $target"
      failed=1
    fi
  done < <(awk -v tops="$tops" '
    /^[ \t]*(```|~~~)/ { fenced = !fenced; next }
    fenced { next }
    {
      text = $0
      spans = text
      while (match(spans, /`[^`]*`/)) {
        span = substr(spans, RSTART + 1, RLENGTH - 2)
        spans = substr(spans, RSTART + RLENGTH)
        if (span ~ ("^(" tops ")/[^ ]*$")) print "path\t" NR "\t" span
      }
      gsub(/`[^`]*`/, "", text)  # code spans
      while (match(text, /\]\([^)]*\)/)) {
        target = substr(text, RSTART + 2, RLENGTH - 3)
        text = substr(text, RSTART + RLENGTH)
        if (target ~ /^[a-zA-Z][a-zA-Z0-9+.-]*:/ || target ~ /^#/) continue
        print "link\t" NR "\t" target
      }
    }' "$file")
done
if ((failed == 0)); then
  echo "ok - $checked relative links and paths in ${#files[@]} markdown files resolve"
fi
exit "$failed"
