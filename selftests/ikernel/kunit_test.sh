#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The KUnit suites of the test flavour of host_stub (common/kunit_window.rs:
# the window accessor and the ring over it, in kernel memory).  KUnit runs a
# module's suites when it loads, on a kernel with CONFIG_KUNIT booted with
# kunit.enable=1 (scripts/vm-run adds it); each suite's KTAP result is read
# from debugfs.  Leaves the shipped host_stub loaded, as it found it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/ktap.sh"

test_ko=${IKERNEL_TEST_HOST_KO:-$repo/build/default-test/modules/host_stub/ikernel_host.ko}
host_ko=$repo/host_stub/ikernel_host.ko
# SUITE:CASES, each suite with its number of test cases.
suites="ikernel_window:4"
kunit=/sys/kernel/debug/kunit

loaded() { grep -q "^$1 " /proc/modules; }
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug

ktap_plan $((2 + 2 * $(wc -w <<<"$suites")))
had=no
had_guest=no
loaded ikernel_host && had=yes
loaded ikernel_guest && had_guest=yes && rmmod ikernel_guest
loaded ikernel_host && rmmod ikernel_host
ktap_check "KUnit is on in this kernel and enabled (kunit.enable=1)" \
	sh -c "[ -d $kunit ] && grep -qw 'kunit.enable=1' /proc/cmdline"
ktap_check "insmod the test flavour of ikernel_host ($test_ko)" insmod "$test_ko"
for sc in $suites; do
	s=${sc%:*}
	cases=${sc#*:}
	r=$kunit/$s/results
	# The suite's own KTAP, indented under this test's lines.
	[ -r "$r" ] && sed 's/^/# /' "$r"
	ktap_check "KUnit suite $s ran" test -r "$r"
	# debugfs keeps the suite's plan and its result line; KUnit marks a
	# suite ok only if every case passed.  The case lines go to the kernel
	# log, shown as diagnostics.
	dmesg | grep -E "^\[[ 0-9.]*\] +(not )?ok [0-9]+ " | tail -n "$cases" | sed 's/^/# dmesg: /'
	ktap_check "KUnit suite $s: all $cases cases passed (plan 1..$cases, suite ok)" \
		sh -c "grep -qE '^[[:space:]]+1\.\.$cases\$' '$r' && grep -qE '^ok [0-9]+ $s\$' '$r' && ! grep -q 'not ok' '$r'"
done
loaded ikernel_host && rmmod ikernel_host
[ $had = yes ] && insmod "$host_ko"
[ $had_guest = yes ] && insmod "$repo/guest_stub/ikernel_guest.ko"
ktap_finish
