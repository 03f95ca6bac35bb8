# SPDX-License-Identifier: GPL-2.0
# Minimal TAP helpers for ikernel's shell selftests.  Sourced.

ktap_n=0
ktap_fail=0

ktap_plan() { echo "TAP version 13"; echo "1..$1"; }

# ktap_check DESCRIPTION CMD...: one test line from CMD's exit status.
ktap_check() {
	local desc=$1 out
	shift
	ktap_n=$((ktap_n + 1))
	if out=$("$@" 2>&1); then
		echo "ok $ktap_n $desc"
	else
		echo "not ok $ktap_n $desc"
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
		ktap_fail=$((ktap_fail + 1))
	fi
}

ktap_finish() { [ "$ktap_fail" = 0 ] && exit 0; exit 1; }
