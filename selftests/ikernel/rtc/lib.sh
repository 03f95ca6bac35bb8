# SPDX-License-Identifier: GPL-2.0
# Sourced by the rtctest runs (selftests/ikernel/rtc_native.sh now, the run
# on the host against a node exported from a driver VM later): TAP helpers
# with the plan printed last, and rtctest_tap, which turns one rtctest run
# into one TAP line per case, so that both runs report alike.
#
# rtc-test's alarm is a timer_list armed for whole seconds: it fires up to
# 1 s late (the sub-second part of "now" is dropped) plus the timer wheel's
# granularity, which at HZ=250 is 256 ms for 2-16 s and 2048 ms for 16-131 s.
# rtctest wants the RTC, read right after the alarm, to show exactly the
# alarm second, so its *_minute cases (alarm 16-60 s away) often fail and
# the 3 s cases occasionally do, natively, with "Expected new (T+d) == secs
# (T)".  Such a failure with d of 1-3 s is reported as "not ok ... # TODO";
# every other failure counts.

rtc_n=0
rtc_failed=0
echo "TAP version 13"
ok() { rtc_n=$((rtc_n + 1)); echo "ok $rtc_n $*"; }
not_ok() { rtc_n=$((rtc_n + 1)); echo "not ok $rtc_n $*"; rtc_failed=$((rtc_failed + 1)); }
# A known failure of the driver, not of what is tested: not counted.
todo() { rtc_n=$((rtc_n + 1)); echo "not ok $rtc_n $1 # TODO $2"; }
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
finish() { echo "1..$rtc_n"; [ "$rtc_failed" = 0 ]; exit; }

# Bash builtins only below, as every fork is slow in a TCG guest.
# ${EPOCHREALTIME//[.,]/} is the time in microseconds (6 decimals always).
# secs2 VAR MICROSECONDS: VAR=the seconds with two decimals.
secs2() { printf -v "$1" '%d.%02d' $(($2 / 1000000)) $(($2 % 1000000 / 10000)); }

# rtctest_tap RTCTEST NODE LABEL LOG: runs RTCTEST on NODE, keeps its output
# with a timestamp per line in LOG, echoes it as TAP comments, then one TAP
# line per case with its runtime, and one line for the run as a whole.
# Sets rtc_rc (exit status), rtc_cases and rtc_skipped (names).
rtctest_tap() {
	local rtctest=$1 node=$2 label=$3 log=$4
	local start ts rest t0 late name dir dt desc fails=0 totals=
	local re_case='^(not )?ok [0-9]+ ([^ ]+)( (# .*))?$'
	local re_late='Expected new \(([0-9]+)\) == secs \(([0-9]+)\)'
	start=${EPOCHREALTIME//[.,]/}
	"$rtctest" "$node" 2>&1 | while IFS= read -r line; do
		printf '%s %s\n' "${EPOCHREALTIME//[.,]/}" "$line"
	done >"$log"
	rtc_rc=${PIPESTATUS[0]}
	secs2 rtc_secs $((${EPOCHREALTIME//[.,]/} - start))
	# "#  RUN  rtc.X ..." starts a case; "ok N rtc.X" (with "# SKIP
	# reason" when skipped) or "not ok N rtc.X" ends it.
	rtc_cases=0 rtc_skipped=
	t0=$start late=
	while read -r ts rest; do
		echo "# $rest"
		if [[ $rest == '#  RUN '* ]]; then
			t0=$ts late=
		elif [[ $rest =~ $re_late ]]; then
			# An alarm case read the RTC after its alarm: how late?
			late=$((BASH_REMATCH[1] - BASH_REMATCH[2]))
			[ $late -ge 1 ] && [ $late -le 3 ] || late=
		elif [[ $rest == '# Totals: '* ]]; then
			totals=${rest#\# }
		elif [[ $rest =~ $re_case ]]; then
			rtc_cases=$((rtc_cases + 1))
			name=${BASH_REMATCH[2]}
			dir=${BASH_REMATCH[3]}
			[[ $dir == ' # SKIP'* ]] && rtc_skipped="$rtc_skipped $name"
			secs2 dt $((ts - t0))
			desc="rtctest $node ($label): $name ${dt}s"
			if [ -z "${BASH_REMATCH[1]}" ]; then
				ok "$desc$dir"
			elif [ -n "$late" ]; then
				todo "$desc" "alarm seen ${late}s late: rtc-test's alarm is a timer_list (rtc/lib.sh)"
			else
				not_ok "$desc$dir"
				fails=$((fails + 1))
			fi
		fi
	done <"$log"
	echo "# $label: rtctest exit $rtc_rc after ${rtc_secs}s, ${totals:-no totals}"
	# Exit 1 is rtctest's "some case failed": all of them late alarms here.
	check "rtctest $node ($label) ran $rtc_cases cases, every failure a late alarm" \
		test "$rtc_cases" -gt 0 -a "$fails" = 0 -a \( "$rtc_rc" = 0 -o "$rtc_rc" = 1 \)
}
