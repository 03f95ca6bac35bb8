#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# One missing guest node must not take down a driver VM's other exports.
#
# One driver VM exports samples/ikfifo's /dev/ikfifo as /dev/ik_fifo and
# a second export, /dev/ik_late, whose guest node /dev/ikfifo_late does not
# exist when the driver VM boots.  The driver VM must come up READY with
# ik_late reported missing (shim log, host_stub's statistics), opens of
# /dev/ik_late must fail with ENODEV while /dev/ik_fifo passes the
# sample's selftest, and nothing may restart.  Then the node is created in
# the guest, and /dev/ik_late must start working without a restart.
#
# The trigger is deterministic: an [image] run line starts a job in the
# driver VM that waits until ikfifo's module reference count rises above
# its idle value (the serving process opened /dev/ikfifo, because the
# host opened /dev/ik_fifo; ikfifo's file operations hold their module)
# and then makes /dev/ikfifo_late with /dev/ikfifo's numbers.
. "$(dirname "$0")/lib.sh"
t_plan 11
load_kvm
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug

# The guest's job (no single quote: it goes into a TOML literal string).
job='(b=$(cat /sys/module/ikfifo/refcnt); while [ "$(cat /sys/module/ikfifo/refcnt)" -le "$b" ]; do sleep 0.2; done; IFS=: read ma mi </sys/class/misc/ikfifo/dev; mknod /dev/ikfifo_late c "$ma" "$mi" && echo "missing.sh: made /dev/ikfifo_late ($ma:$mi)") &'
cfg=$OUT/missing.toml
IVT_MAX_RESTARTS=2 IVT_IMAGE_EXTRA="run = ['$job']" \
	write_config "$cfg" missing "$(ikfifo_export legacy)

$(ikfifo_node_export /dev/ikfifo_late ik_late legacy)"
log=$OUT/missing.log
start_shim "$log" "$cfg"

stat_line() { grep "^export $1 " /sys/kernel/debug/ikernel/stats 2>/dev/null; }
# node_status NAME: present, missing, unknown or busy (host_stub's view).
node_status() { stat_line "$1" | sed -n 's/.* node \([a-z]*\) .*/\1/p'; }
# wait_status NAME STATUS SECONDS: waits for host_stub to show STATUS.
wait_status() {
	local i=0
	while [ "$(node_status "$1")" != "$2" ] && [ $i -lt "$3" ]; do
		sleep 1
		i=$((i + 1))
	done
	[ "$(node_status "$1")" = "$2" ]
}

if ! wait_node /dev/ik_fifo 30 || ! wait_node /dev/ik_late 5; then
	t_not_ok "driver VM READY, exports /dev/ik_fifo and /dev/ik_late"
	show_logs missing
	stop_shim
	t_done
fi
t_ok "driver VM READY, exports /dev/ik_fifo and /dev/ik_late"
ready=$(ev "$log" 'select(.event == "ready") | {served, missing}' | head -n 1)
t_diag "ready event: $ready"
t_check "the ready event says ik_fifo served and ik_late missing" \
	[ "$ready" = '{"served":["ik_fifo"],"missing":["ik_late"]}' ]

# host_stub's view of the guest's report (a busy channel reads again).
wait_status ik_late missing 10
late=$(node_status ik_late)
wait_status ik_fifo present 10
fifo=$(node_status ik_fifo)
t_check "host_stub's statistics: ik_late's guest node missing ($late), ik_fifo's present ($fifo)" \
	[ "$late" = missing -a "$fifo" = present ]

# Before anything opened ik_fifo: ik_late fails opens with ENODEV.
timeout 30 dd if=/dev/ik_late of=/dev/null count=0 2>"$OUT/missing-dd.err"
rc=$?
t_diag "open /dev/ik_late: rc $rc: $(head -n 1 "$OUT/missing-dd.err")"
enodev_open() { [ $rc = 1 ] && grep -q 'No such device' "$OUT/missing-dd.err"; }
t_check "open /dev/ik_late fails with ENODEV" enodev_open
enodev=$(stat_line ik_late | sed -n 's/.* enodev \([0-9]*\) .*/\1/p')
t_check "host_stub counts the open answered ENODEV (enodev ${enodev:-?})" [ "${enodev:-0}" -ge 1 ]

# The healthy export is served meanwhile: fifo_test's core cases (the
# whole test runs in fifo.sh).
core="-t open_modes -t roundtrip -t poll_states -t ioctls -t xfer_batch"
"$SELF/fifo_test" -d /dev/ik_fifo -- $core >"$OUT/missing-fifo.tap" 2>&1
rc=$?
[ $rc = 0 ] || grep -v '^ok' "$OUT/missing-fifo.tap" | sed 's/^/# /' | head -n 20
t_check "fifo_test's core cases pass against /dev/ik_fifo" [ $rc = 0 ]

# The open of ik_fifo made the guest create the node: it becomes served.
s0=$(date +%s)
wait_status ik_late present 60
t_check "ik_late's guest node turns present ($(( $(date +%s) - s0 )) s)" \
	[ "$(node_status ik_late)" = present ]
late_served() {
	[ "$(ev_count "$log" exports '.missing == [] and (.served | index("ik_late"))')" != 0 ]
}
appeared() {
	local i=0
	while ! late_served && [ $i -lt 10 ]; do
		sleep 1
		i=$((i + 1))
	done
	late_served
}
t_check "the shim reports that ik_late's node appeared (an exports event)" appeared

"$SELF/fifo_test" -d /dev/ik_late -- $core >"$OUT/missing-late.tap" 2>&1
rc=$?
[ $rc = 0 ] || grep -v '^ok' "$OUT/missing-late.tap" | sed 's/^/# /' | head -n 20
t_check "fifo_test's core cases pass against /dev/ik_late, without a restart" [ $rc = 0 ]

# One generation: no restart at any time.
readies=$(ev_count "$log" ready)
downs=$(ev_count "$log" down)
t_check "one generation, no restart (ready $readies time(s), down $downs)" \
	[ "$readies" = 1 -a "$downs" = 0 ]
t_diag "stats: $(stat_line ik_late)"

stop_shim
t_check "the shim shut down in order" [ "$SHIM_RC" = 0 ]
[ "$t_fail" = 0 ] || show_logs missing
t_done
