#!/usr/bin/env bash
# Every man page under docs/man renders without a single warning: through
# man(1) as a reader sees it, and through groff with every warning on.
# Usage: man_pages_test.sh SOURCE_DIR
set -uo pipefail

src=${1:?usage: man_pages_test.sh SOURCE_DIR}
for tool in man groff; do
  command -v "$tool" >/dev/null || { echo "man page test: $tool is missing (scripts/setup.sh)" >&2; exit 1; }
done

mapfile -t pages < <(find "$src/docs/man" -type f -name '*.[1-9]' | sort)
if ((${#pages[@]} == 0)); then
  echo "man page test: no pages under $src/docs/man" >&2
  exit 1
fi

failed=0
for page in "${pages[@]}"; do
  name=${page#"$src"/}
  warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
    man --warnings -E UTF-8 -l -Tutf8 "$page" 2>&1 >/dev/null)
  more=$(LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$page" 2>&1)
  [[ -n $more ]] && warnings+=${warnings:+$'\n'}$more
  if [[ -n $warnings ]]; then
    echo "not ok - $name renders with warnings:"
    sed 's/^/#   /' <<<"$warnings"
    failed=1
  else
    echo "ok - $name"
  fi
done
exit "$failed"
