#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Nothing ikernel's tests did may leave a WARN, BUG, oops, lockdep report,
# hung task or sanitizer report in the kernel log.  Run last.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/ktap.sh"

pattern='WARNING:|BUG:|Oops|general protection fault|kernel BUG|'
pattern+='possible recursive locking|possible circular locking|'
pattern+='inconsistent lock state|suspicious RCU usage|DEBUG_LOCKS_WARN_ON|'
pattern+='turning off the locking correctness validator|'
pattern+='INFO: task .* blocked for more than|KASAN|UBSAN|'
pattern+='unreferenced object|Kernel panic|Call Trace:'

clean() {
	local hits
	hits=$(dmesg | grep -E "$pattern" || true)
	[ -z "$hits" ] && return 0
	printf '%s\n' "$hits"
	return 1
}
lockdep_on() { [ -e /proc/lockdep ] && grep -q 'debug_locks:.*1' /proc/lockdep_stats; }

ktap_plan 2
ktap_check "lockdep is active and has not turned itself off" lockdep_on
ktap_check "no WARN, BUG, oops or lockdep splat in dmesg" clean
ktap_finish
