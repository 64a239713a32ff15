#!/usr/bin/env bash
# The demo as a smoke test: scripts/demo.sh, run with this build's programs
# (no setup, no build), exits 0 and tells the story on real packets: allowed
# flows pass, the forbidden one is dropped and isolates the pump, events show
# the violation and the isolation, the critical flow passes while isolated,
# the learn proposal and the release are printed.
# Usage: demo_test.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?build dir}" && pwd)
source "$here/lab.sh"
lab_require_root
out=$(mktemp)
trap 'rm -f "$out"' EXIT

RINGFENCE_DEMO_BUILD="$build" timeout 240 bash "$here/../../scripts/demo.sh" >"$out" 2>&1
rc=$?
has() { grep -qE "$1" "$out"; }
expect_true "scripts/demo.sh exits 0" test "$rc" -eq 0
expect_true "the allowed flow passes" has "pump-3w-01 -> pump-server tcp/443 \(dose library, critical\) +PASSES"
expect_true "the forbidden flow is dropped" has "pump-3w-01 -> pump-server tcp/22 \(not in its profile\) +dropped"
expect_true "events show the violation" has "Violation pump-3w-01 outbound tcp 198.51.100.10:[0-9]+ -> 203.0.113.20:22 dropped"
expect_true "events show the isolation" has "DeviceIsolated pump-3w-01 by policy: 1 violation within 60s"
expect_true "events show the monitor-mode report" has "Violation monitor-icu-07 outbound tcp .* -> 203.0.113.99:443 allowed"
expect_true "list shows the pump isolated" has "^  pump-3w-01 +enforce +isolated +1 "
expect_true "show gives the isolation reason" has "IsolationReason: +1 violation within 60s"
expect_true "check names the deciding rule" has "allowed: profiles/devices/pump-3w-01.yaml:[0-9]+ .*critical"
expect_true "the critical flow passes while isolated" has "\(critical: stays open\) +PASSES"
expect_true "the rest is dropped while isolated" has "pump-3w-01 -> internet tcp/443 +dropped"
expect_true "the learn proposal is printed" has "to: \"203.0.113.50\""
expect_true "the release is printed" has "DeviceReleased pump-3w-01 by uid:0"
expect_true "after the release the pump passes" has "^  pump-3w-01 -> pump-server tcp/443 +PASSES"
secs=$(sed -n 's/^== done in \([0-9]*\) s$/\1/p' "$out")
echo "[ figure ] demo: the story after the build took ${secs:-?} s"
if ((LAB_FAILED)); then echo "# demo output:"; sed 's/^/#   /' "$out"; fi
lab_summary
