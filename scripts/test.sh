#!/usr/bin/env bash
# Sets up the machine and runs every test: format check, the sanitizer build
# with the whole unit suite, a bounded fuzzing run, the Release build (compiled
# only), then the RelWithDebInfo build's unit and lab tests, the package test
# among them (lab tests need root; under CI=true they never skip). Every
# build here treats warnings as errors (RINGFENCE_WERROR).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

echo "== the contract's copy in docs/spec"
if [[ -d ../shared/spec ]]; then
  for f in ../shared/spec/*.md; do
    cmp -s "$f" "docs/spec/$(basename "$f")" || { echo "docs/spec/$(basename "$f") differs from $f: copy the contract again" >&2; exit 1; }
  done
  echo "docs/spec: same as ../shared/spec"
else
  echo "docs/spec: no ../shared/spec beside the checkout to compare with"
fi

echo "== format"
mapfile -t sources < <(git ls-files '*.cc' '*.h')
clang-format --dry-run --Werror "${sources[@]}"
echo "format: ${#sources[@]} files clean"

echo "== sanitizer build (ASan + UBSan): unit suite"
cmake -S . -B build-asan -G Ninja -DRINGFENCE_SANITIZE=ON -DRINGFENCE_WERROR=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -L unit --output-on-failure -j2 | tail -n 8

echo "== fuzzing the profile loader"
bash scripts/fuzz.sh "${RINGFENCE_FUZZ_SECONDS:-60}"

echo "== Release build (-O3): compiles without warnings (the tests run on RelWithDebInfo below)"
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DRINGFENCE_WERROR=ON -DBUILD_TESTING=OFF >/dev/null
ninja -C build-release

echo "== release build (RelWithDebInfo): unit and lab tests"
cmake -S . -B build -G Ninja -DRINGFENCE_WERROR=ON >/dev/null
ninja -C build
ctest --test-dir build --output-on-failure -j2 -L unit
# The lab tests run once: their figures are picked out of the verbose log, and
# the whole log is printed when a test fails.
lab_log=build/lab-tests.log
rc=0
ctest --test-dir build --output-on-failure -L lab -V >"$lab_log" 2>&1 || rc=$?
grep -E '^\S+: \[ figure \]' "$lab_log" || true
grep -E '^[0-9]+: (ok|not ok) - |^\s*[0-9]+/[0-9]+ Test ' "$lab_log" | grep -E 'not ok|Test ' || true
if ((rc != 0)); then
  echo "== lab tests failed: the whole log"
  cat "$lab_log"
fi
sed -n '/tests passed\|tests failed/,$p' "$lab_log"
exit "$rc"
