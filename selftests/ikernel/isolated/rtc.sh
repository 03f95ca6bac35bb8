#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kernel's own RTC selftest (rtctest, built unmodified by
# selftests/ikernel/rtc/build.sh) against the in-tree rtc-test driver, natively
# in the test VM and isolated in a driver VM (/dev/ik_rtc0 on the host): the
# same binary must give the same result per case, and skip nothing on the
# isolated node that it does not skip natively.
#
# Both runs use rtc-test.1, an instance with alarms.  In the driver VM there
# is no CMOS RTC (the shim emulates none: rtc_cmos finds ports 0x70/0x71
# reading all ones and gives its number back), so rtc-test.0/.1/.2 are
# rtc0/1/2 there; /init prints the rtcN -> device map on the console and the
# test checks it.  rtctest sees whether the RTC has alarms through
# RTC_PARAM_GET, which is declared _IOW but copies the result back, so the
# export lists it as "rw" (struct rtc_param, 24 bytes); without that every
# alarm case would skip on the isolated node.  rtctest also uses blocking
# read (uie_read) and select (uie_select, the alarm cases), so this tests
# poll forwarding and readiness events from the driver VM.
#
# rtc-test's alarm fires up to ~3 s late, so the alarm cases, above all the
# *_minute ones, fail natively most of the time: rtc/lib.sh reports such a
# failure as TODO, and here a TODO counts as a pass on either side.  Any
# other result (ok, SKIP, not ok) must be the same natively and isolated.
#
# Runtime: each rtctest run takes 2-3 minutes (a 30 s read loop, two cases
# that wait for the next full minute); the two runs go on at the same time.
# RTC_SEQUENTIAL=1 runs them one after the other.
. "$(dirname "$0")/lib.sh"
. "$SELF/rtc/lib.sh" # TAP version line, rtctest_tap (used in subshells only)
rtctest=${RTCTEST:-$ROOT/build/rtc-selftest/rtctest}
id=1 # rtc-test instance with alarms, natively and in the driver VM
guest_node=/dev/rtc$id
# RTC_PARAM_GET = _IOW('p', 0x13, struct rtc_param): 0x40187013
param_get=$(printf '%#x' $(((1 << 30) | (24 << 16) | (0x70 << 8) | 0x13)))
start_us=${EPOCHREALTIME//[.,]/}
plan_done() { echo "1..$t_n"; t_done; }

# /dev/rtcN of rtc-test.ID (the test VM has rtc_cmos as rtc0).
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

# rtc_run NODE LABEL OUTFILE: rtctest_tap in a subshell (its own TAP
# numbering), its output to OUTFILE, the raw log next to it.
rtc_run() {
	(rtctest_tap "$rtctest" "$1" "$2" "${3%.tap}.log") >"$3" 2>&1
}

# rtc_results FILE ARRAY: ARRAY[case]=pass|skip|todo|fail from the per-case
# TAP lines of rtctest_tap; rtc_order gets the case names in order.
rtc_results() {
	local -n res=$2
	local re='^(not )?ok [0-9]+ rtctest [^ ]+ \([^)]*\): (rtc\.[A-Za-z0-9_]+) [0-9.]+s( # (SKIP|TODO).*)?$'
	local line
	rtc_order=
	while IFS= read -r line; do
		[[ $line =~ $re ]] || continue
		rtc_order="$rtc_order ${BASH_REMATCH[2]}"
		if [ "${BASH_REMATCH[4]}" = SKIP ]; then
			res[${BASH_REMATCH[2]}]=skip
		elif [ "${BASH_REMATCH[4]}" = TODO ]; then
			res[${BASH_REMATCH[2]}]=todo
		elif [ -z "${BASH_REMATCH[1]}" ]; then
			res[${BASH_REMATCH[2]}]=pass
		else
			res[${BASH_REMATCH[2]}]=fail
		fi
	done <"$1"
}

# The summary line of one rtctest_tap run ("ran N cases, every failure a
# late alarm") as a t_* line; the case lines as comments.
rtc_summary() {
	local f=$1 label=$2 last
	grep -E '^(not )?ok ' "$f" | sed "s/^/# $label: /"
	grep -E '^# [a-z.0-9-]+: rtctest exit ' "$f"
	last=$(grep -E '^(not )?ok [0-9]+ rtctest .* ran [0-9]+ cases' "$f" | tail -n 1)
	if [[ $last == ok* ]]; then
		t_ok "rtctest ${last#ok * rtctest }"
	else
		t_not_ok "$label: rtctest ran, every failure a late alarm (${last:-no summary})"
	fi
}

load_kvm
if [ ! -x "$rtctest" ]; then
	t_not_ok "rtctest built ($rtctest; run-in-vm.sh builds it)"
	plan_done
fi
t_ok "rtctest built ($rtctest)"

# Native: rtc-test in the test VM.
grep -q '^rtc_test ' /proc/modules && rmmod rtc_test
modprobe rtc-test
if ! native_node=$(rtc_node $id); then
	t_not_ok "modprobe rtc-test: rtc-test.$id registered an RTC"
	plan_done
fi
t_ok "modprobe rtc-test: rtc-test.$id is $native_node in the test VM"

# Isolated: rtc-test in a driver VM, its rtc-test.1 exported as ik_rtc0.
cfg=$OUT/rtc.toml
write_config "$cfg" rtc "
[[module]]
name = \"rtc-test\"

[[export]]
guest_path = \"$guest_node\"
host_name = \"ik_rtc0\"
mode = 0o600
owner = \"root:root\"
  [[export.ioctl]]
  cmd = $param_get   # RTC_PARAM_GET: _IOW, but the result is copied back
  dir = \"rw\"
  size = 24          # struct rtc_param
"
# An /init line (inside [image]) that prints which device each rtcN is.
run_line='run = ['\''for d in /sys/class/rtc/rtc*; do echo "ikernel-rtc: ${d##*/} is $(basename $(readlink $d/device))"; done'\'']'
awk -v l="$run_line" '{ print } /^guest_stub = / { print l }' "$cfg" >"$cfg.new" && mv "$cfg.new" "$cfg"
boot_us=${EPOCHREALTIME//[.,]/}
start_shim "$OUT/rtc.log" "$cfg"
if ! wait_node /dev/ik_rtc0 30; then
	t_not_ok "driver VM exports /dev/ik_rtc0"
	show_logs rtc
	stop_shim
	rmmod rtc_test
	plan_done
fi
secs2 boot_s $((${EPOCHREALTIME//[.,]/} - boot_us))
t_ok "driver VM exports /dev/ik_rtc0 (${boot_s}s after the shim started)"
# The export can come before /init's run line printed the map.
i=0
while ! grep -aq '^IKERNEL-READY' "$OUT/rtc.console.log" && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
rtc_map=$(grep -a '^ikernel-rtc: ' "$OUT/rtc.console.log" | tr -d '\r')
printf '%s\n' "$rtc_map" | sed 's/^/# driver VM: /'
t_check "in the driver VM, $guest_node is rtc-test.$id" \
	grep -qx "ikernel-rtc: rtc$id is rtc-test.$id" <<<"$rtc_map"
t_check "/dev/ik_rtc0 has mode 0600, owner root:root" \
	[ "$(stat -c '%a %U:%G' /dev/ik_rtc0)" = "600 root:root" ]
# What the node is: the guest's rtc1 described as the native node is
# (this kernel has no RTC attributes, CONFIG_RTC_INTF_SYSFS being off).
sysfs_ident "$native_node" >"$OUT/rtc-native.ident"
check_ident "$OUT/rtc-native.ident" ik_rtc0 rtc$id

# Both runs.
run_us=${EPOCHREALTIME//[.,]/}
if [ "${RTC_SEQUENTIAL:-0}" = 1 ]; then
	rtc_run "$native_node" native "$OUT/rtc-native.tap"
	rtc_run /dev/ik_rtc0 isolated "$OUT/rtc-isolated.tap"
else
	rtc_run "$native_node" native "$OUT/rtc-native.tap" &
	native_pid=$!
	rtc_run /dev/ik_rtc0 isolated "$OUT/rtc-isolated.tap"
	wait $native_pid
fi
secs2 run_s $((${EPOCHREALTIME//[.,]/} - run_us))
t_diag "both rtctest runs: ${run_s}s"
rtc_summary "$OUT/rtc-native.tap" native
rtc_summary "$OUT/rtc-isolated.tap" isolated

declare -A nat iso
rtc_results "$OUT/rtc-isolated.tap" iso
rtc_results "$OUT/rtc-native.tap" nat
t_check "rtctest ran the same cases natively and isolated (${rtc_order# })" \
	[ -n "$rtc_order" -a "${#nat[@]}" = "${#iso[@]}" ]
skipped_only_isolated=
for c in $rtc_order; do
	n=${nat[$c]} i=${iso[$c]:-missing}
	[ "$i" = skip ] && [ "$n" != skip ] && skipped_only_isolated="$skipped_only_isolated $c"
	# A late alarm (TODO) counts as a pass.
	[ "$n" = todo ] && n=pass
	[ "$i" = todo ] && i=pass
	t_check "$c: native ${nat[$c]}, isolated ${iso[$c]:-missing}" [ "$n" = "$i" ]
done
t_check "no case skipped on /dev/ik_rtc0 that is not skipped natively${skipped_only_isolated:+ (skipped only isolated:$skipped_only_isolated)}" \
	[ -z "$skipped_only_isolated" ]

stop_shim
t_check "the shim shut down in order" [ "$SHIM_RC" = 0 ]
t_check "/dev/ik_rtc0 is gone with its channel" [ ! -e /dev/ik_rtc0 ]
t_check "rmmod rtc-test (native)" rmmod rtc_test
if [ "$t_fail" != 0 ]; then
	sed 's/^/# isolated rtctest: /' "$OUT/rtc-isolated.log"
	show_logs rtc
	dmesg | tail -n 20 | sed 's/^/# dmesg: /'
fi
secs2 total_s $((${EPOCHREALTIME//[.,]/} - start_us))
t_diag "rtc.sh: ${total_s}s in all (driver VM boot ${boot_s}s, rtctest ${run_s}s)"
plan_done
