#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rtc_native.sh: the kernel's own RTC selftest (tools/testing/selftests/rtc/
# rtctest, built unmodified by rtc/build.sh) against the nodes of the
# in-tree rtc-test driver, natively in the test VM.  This is the baseline for
# the same binary run on the host against a node exported from a driver VM.
#
# rtc-test registers three RTCs: rtc-test.0 without alarm ops (rtctest's
# four alarm cases must SKIP, update interrupts are refused with EINVAL,
# which rtctest counts as a pass) and rtc-test.1/.2 with alarms (every case
# must run).  RTC_TEST_IDS picks the instances (default "1 0").  Each rtctest
# case becomes one TAP line with its runtime; the raw output is kept in
# build/rtc-selftest/rtc-test.N.log.  The plan comes last, since the number
# of cases is rtctest's.
#
# rtc-test's alarm fires up to ~3 s late (a timer_list armed for whole
# seconds), so rtctest's alarm cases can fail natively: rtc/lib.sh reports
# those failures as TODO and counts every other.
#
# Runtime: date_read_loop reads for 30 s on each instance, and the two
# *_minute cases each wait for the next full minute (up to 60 s); rtctest
# has no option to shorten or select cases (it takes exactly one argument,
# the device, so the harness's -t/-f/-r filters cannot be passed).
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
rtctest=${RTCTEST:-$repo/build/rtc-selftest/rtctest}
logdir=$(dirname "$rtctest")
ids=${RTC_TEST_IDS:-1 0}

. "$here/rtc/lib.sh"

# /dev/rtcN of rtc-test.ID, found through sysfs (rtc_cmos may be rtc0).
rtc_node() {
	local d
	for d in /sys/class/rtc/rtc*; do
		[ -e "$d/device" ] || continue
		if [ "$(basename "$(readlink -f "$d/device")")" = "rtc-test.$1" ]; then
			echo "/dev/${d##*/}"
			return 0
		fi
	done
	return 1
}
# The node is a char device with the numbers sysfs gives for it.
node_matches_sysfs() {
	local node=$1 i
	for i in $(seq 50); do [ -c "$node" ] && break; sleep 0.1; done
	[ -c "$node" ] || { echo "$node is not a char device"; return 1; }
	[ "$(stat -c '%Hr:%Lr' "$node")" = "$(cat "/sys/class/rtc/${node#/dev/}/dev")" ] ||
		{ echo "$node: $(stat -c '%Hr:%Lr' "$node") but sysfs says $(cat "/sys/class/rtc/${node#/dev/}/dev")"; return 1; }
}

if [ ! -x "$rtctest" ]; then
	"$here/rtc/build.sh" "" "$logdir" >/dev/null
fi
check "rtctest built ($rtctest)" test -x "$rtctest"
grep -q '^rtc_test ' /proc/modules && rmmod rtc_test
check "modprobe rtc-test" modprobe rtc-test

total_start=${EPOCHREALTIME//[.,]/}
for id in $ids; do
	node=$(rtc_node "$id") || node=
	if [ -z "$node" ]; then
		not_ok "rtc-test.$id registered an RTC"
		continue
	fi
	check "rtc-test.$id is $node, a char device matching sysfs" node_matches_sysfs "$node"
	rtctest_tap "$rtctest" "$node" "rtc-test.$id" "$logdir/rtc-test.$id.log"
	if [ "$id" = 0 ]; then
		# No set_alarm: the core clears RTC_FEATURE_ALARM, so exactly the
		# cases that need alarms skip.
		alarms=$(grep -oE '^[0-9]+ (not )?ok [0-9]+ rtc\.alarm_[a-z_]+' "$logdir/rtc-test.0.log" |
			awk '{print $NF}' | sort | tr '\n' ' ')
		check "rtc-test.0 has no alarm: exactly the alarm cases skip (${alarms% })" \
			test "$(echo $rtc_skipped | tr ' ' '\n' | sort | tr '\n' ' ')" = "$alarms" -a -n "$alarms"
	else
		check "rtc-test.$id has alarms: no case skips" test -z "$rtc_skipped"
	fi
done
secs2 total $((${EPOCHREALTIME//[.,]/} - total_start))
echo "# all rtctest runs: ${total}s"
check "rmmod rtc-test" rmmod rtc_test
finish
