#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Nothing ikernel's tests did may leave a WARN, BUG, oops, lockdep report,
# hung task or sanitizer report in the kernel log.  Run last.
#
# IKERNEL_DMESG_KNOWN: a regex of module names.  A report ("cut here" to
# "end trace") whose call trace runs through one of them, as "[name]", is a
# known bug of an in-tree driver that a test deliberately ran natively for
# comparison; it is listed as a diagnostic and does not fail the test.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/ktap.sh"

# What counts as a report: the same for every test.
pattern=$("$here/kernel-reports")

# The kernel's own messages (facility kern: not what user space writes to
# /dev/kmsg, such as virtme-ng-init's "WARNING: failed to run ...") without
# the reports of known native-driver bugs.
kernel_log() {
	dmesg --kernel | awk -v known="${IKERNEL_DMESG_KNOWN:-}" '
	/-+\[ cut here \]-+/ { inblk = 1; blk = $0 "\n"; next }
	inblk {
		blk = blk $0 "\n"
		if ($0 ~ /---\[ end trace/) {
			inblk = 0
			if (known != "" && blk ~ ("\\[(" known ")\\]")) {
				split(blk, l, "\n")
				print "# known native-driver report: " l[2] > "/dev/stderr"
			} else {
				printf "%s", blk
			}
		}
		next
	}
	{ print }
	END { if (inblk) printf "%s", blk }'
}

clean() {
	local hits
	hits=$(kernel_log | grep -E "$pattern" || true)
	[ -z "$hits" ] && return 0
	printf '%s\n' "$hits"
	return 1
}
lockdep_on() { [ -e /proc/lockdep ] && grep -q 'debug_locks:.*1' /proc/lockdep_stats; }

ktap_plan 2
ktap_check "lockdep is active and has not turned itself off" lockdep_on
ktap_check "no WARN, BUG, oops or lockdep splat in dmesg" clean
ktap_finish
