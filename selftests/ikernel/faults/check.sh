#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The short fault tests, inside the test VM on the faults kernel: the
# set-up (smoke.sh), then a short campaign (campaign.sh, one round of the
# kinds in IKERNEL_FAULT_KINDS and IKERNEL_HOSTILE_KINDS, by default all).
# `make soak` runs this (scripts/soak: every kind, SOAK_FAULT_ROUNDS
# rounds); `make faults` runs the full campaign alone.
#
# The campaign runs under a watchdog: if it is still running when the
# test VM has FAULTS_WATCHDOG_RESERVE s (default 240) left of its limit
# (FAULTS_VM_TIMEOUT, counted from FAULTS_T0; both set by run-in-vm.sh),
# the watchdog says what the host was doing (the fault under way, the
# shim's last lines, blocked tasks and their kernel stacks, the kernel's
# last reports) and stops it, so that the failure is a TAP line with the
# reason rather than a test VM that timed out with nothing to say.
. "$(dirname "$0")/lib.sh"
d=$(dirname "$0")
rc=0
echo "# === fault test: smoke"
bash "$d/smoke.sh" || rc=1
echo "# === fault test: campaign (short)"

# stuck_report: what the host is doing, as TAP comments.
stuck_report() {
	local p
	[ -r "$OUT/fault.current" ] &&
		echo "fault under way: $(tr '\t' ' ' <"$OUT/fault.current")"
	echo "the shim's last lines:"
	tail -n 8 "$OUT/campaign.log" 2>/dev/null | cut -c1-200
	echo "the driver VM's last console lines:"
	tail -n 4 "$OUT/campaign.console.log" 2>/dev/null | cut -c1-200
	echo "tasks in D state, with their kernel stacks:"
	for p in $(ps -eo pid=,stat= | awk '$2 ~ /^D/ { print $1 }'); do
		echo "$p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-100)"
		head -n 12 "/proc/$p/stack" 2>/dev/null
	done
	echo "the kernel's last reports since the campaign began:"
	dmesg_since campaign 2>/dev/null | grep -E -A 6 "$DMESG_BAD" | tail -n 20
}

# The campaign in a session of its own, so that the watchdog can stop it
# with everything it started (the shim, the load, the calls).  One round
# unless IKERNEL_FAULT_ROUNDS says more (make soak: SOAK_FAULT_ROUNDS),
# and a driver that panics at load boots twice (the shim gives up after
# one restart), not three times.  smoke.sh's last kmemleak check serves as
# the campaign's baseline.
IKERNEL_FAULT_ROUNDS=${IKERNEL_FAULT_ROUNDS:-1} IKERNEL_PANIC_RESTARTS=${IKERNEL_PANIC_RESTARTS:-1} \
	FAULTS_KMEMLEAK_CLEARED=1 setsid bash "$d/campaign.sh" &
cpid=$!
if [ -n "${FAULTS_T0:-}" ] && [ -n "${FAULTS_VM_TIMEOUT:-}" ]; then
	limit=$((FAULTS_T0 + FAULTS_VM_TIMEOUT - ${FAULTS_WATCHDOG_RESERVE:-240}))
else
	limit=$(($(date +%s) + 365 * 86400))
fi
while kill -0 "$cpid" 2>/dev/null && [ "$(date +%s)" -lt "$limit" ]; do
	sleep 5
done
if kill -0 "$cpid" 2>/dev/null; then
	echo "not ok - campaign (short): still running $(($(date +%s) - FAULTS_T0)) s after the test VM started (its limit: $FAULTS_VM_TIMEOUT s); stopped by the watchdog"
	stuck_report | sed 's/^/# /'
	kill -KILL -- "-$cpid" 2>/dev/null
	rc=1
elif ! wait "$cpid"; then
	rc=1
fi
exit $rc
