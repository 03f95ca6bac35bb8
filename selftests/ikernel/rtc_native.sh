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
# rtc-test's alarm is a timer_list armed for whole seconds: it fires up to
# 1 s late (the sub-second part of "now" is dropped) plus the timer wheel's
# granularity, which at HZ=250 is 256 ms for 2-16 s and 2048 ms for 16-131 s.
# rtctest wants the RTC, read right after the alarm, to show exactly the
# alarm second, so the *_minute cases (alarm 16-60 s away) usually fail and
# the 3 s cases occasionally do, natively, with "Expected new (T+d) == secs
# (T)".  Such a failure with d of 1-3 s is reported as TODO; every other
# failure counts.
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

n=0
failed=0
echo "TAP version 13"
ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n $*"; failed=$((failed + 1)); }
# A known failure of the driver, not of what is tested: not counted.
todo() { n=$((n + 1)); echo "not ok $n $1 # TODO $2"; }
check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc"
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
	fi
}
finish() { echo "1..$n"; [ $failed = 0 ]; exit $?; }

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

total_start=$EPOCHREALTIME
for id in $ids; do
	node=$(rtc_node "$id") || node=
	if [ -z "$node" ]; then
		not_ok "rtc-test.$id registered an RTC"
		continue
	fi
	check "rtc-test.$id is $node, a char device matching sysfs" node_matches_sysfs "$node"
	log=$logdir/rtc-test.$id.log
	start=$EPOCHREALTIME
	# Timestamp each output line, to give every case its runtime.
	"$rtctest" "$node" 2>&1 | while IFS= read -r line; do
		printf '%s %s\n' "$EPOCHREALTIME" "$line"
	done >"$log"
	rc=${PIPESTATUS[0]}
	secs=$(echo "$EPOCHREALTIME - $start" | bc)
	sed 's/^[0-9.]* /# /' "$log"
	# One TAP line per case: "#  RUN  rtc.X ..." starts it, "ok N rtc.X"
	# (with "# SKIP reason" when skipped) or "not ok N rtc.X" ends it.
	cases=0 skipped= real_fails=0
	while read -r ts rest; do
		case $rest in
		'#  RUN '*)
			t0=$ts late=
			;;
		*'Expected new ('*') == secs ('*)
			# An alarm case read the RTC after its alarm: how late?
			read -r a b < <(echo "$rest" |
				sed -nE 's/.*Expected new \(([0-9]+)\) == secs \(([0-9]+)\).*/\1 \2/p')
			if [ -n "$a" ] && [ $((a - b)) -ge 1 ] && [ $((a - b)) -le 3 ]; then
				late=$((a - b))
			fi
			;;
		'ok '* | 'not ok '*)
			cases=$((cases + 1))
			name=$(echo "$rest" | sed -E 's/^(not )?ok [0-9]+ ([^ ]+).*/\2/')
			dir=$(echo "$rest" | sed -nE 's/^[^#]*(# .*)$/ \1/p')
			dt=$(printf '%.2f' "$(echo "$ts - ${t0:-$start}" | bc)")
			case $dir in *'# SKIP'*) skipped="$skipped $name" ;; esac
			desc="rtctest $node (rtc-test.$id): $name ${dt}s"
			if [ "${rest#not }" = "$rest" ]; then
				ok "$desc$dir"
			elif [ -n "${late:-}" ]; then
				todo "$desc" "alarm seen ${late}s late: rtc-test's alarm is a timer_list (see the header)"
			else
				not_ok "$desc$dir"
				real_fails=$((real_fails + 1))
			fi
			;;
		esac
	done <"$log"
	totals=$(grep -o 'Totals: .*' "$log")
	echo "# rtc-test.$id: rtctest exit $rc after ${secs}s, $totals"
	check "rtctest $node (rtc-test.$id) ran $cases cases, every failure a late alarm" \
		test "$cases" -gt 0 -a "$real_fails" = 0 -a \( "$rc" = 0 -o "$rc" = 1 \)
	if [ "$id" = 0 ]; then
		# No set_alarm: the core clears RTC_FEATURE_ALARM, so exactly the
		# cases that need alarms skip.
		alarms=$(grep -oE '^[0-9.]+ (not )?ok [0-9]+ rtc\.alarm_[a-z_]+' "$log" |
			awk '{print $NF}' | sort | tr '\n' ' ')
		check "rtc-test.0 has no alarm: exactly the alarm cases skip (${alarms% })" \
			test "$(echo $skipped | tr ' ' '\n' | sort | tr '\n' ' ')" = "$alarms" -a -n "$alarms"
	else
		check "rtc-test.$id has alarms: no case skips" test -z "$skipped"
	fi
done
echo "# all rtctest runs: $(echo "$EPOCHREALTIME - $total_start" | bc | xargs printf '%.1f')s"
check "rmmod rtc-test" rmmod rtc_test
finish
