#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The legacy sample driver samples/ikfifo, unchanged, natively on the host
# and isolated in a driver VM: the same selftest binary against both, with
# identical transcripts (results, errnos, data), also with host_stub's
# direct copies off and on a driver VM serving in place in the window
# ([image] zero_copy); 16 processes at once on the isolated node; and host
# user space misbehaving.
#
# The stress: 16 processes at once, every payload checked, in rounds of
# at most a quarter of the target (16 x 1563 calls, about 4 minutes at
# the 110 calls/s of nested TCG on a slow machine) until at least 10^5
# calls have passed (4 rounds; a round lost to a driver VM death is made
# up by a fifth), all against one export, whose statistics must then
# count them.  Rounds rather than one long run because nested TCG kills a
# driver VM now and then (about once in 15 to 30 minutes of stress under
# QEMU 10: a silent triple fault, or an interrupt delivered while the
# driver VM's interrupts were off, which hangs it;
# Documentation/building.rst).  Such a death costs one round,
# not the test; see below for how it is told from a real failure.
# fifo_stress prints progress every minute and the serving process logs
# requests that wait 10 s while no server takes one.
#
# Environment: IKERNEL_FIFO_STRESS_ARGS (fifo_stress's arguments for one
# round; default "-n N", N the processes' share of the calls still
# missing, at most a quarter of the target), IKERNEL_FIFO_STRESS_CALLS
# (calls to reach, default 100000), IKERNEL_FIFO_STRESS_DEATHS (driver VM
# deaths forgiven, default 6), IKERNEL_FIFO_STRESS_TIMEOUT (one round's
# deadline in seconds, default 600).
. "$(dirname "$0")/lib.sh"
t_plan 22
load_kvm
ko=$ROOT/samples/ikfifo/ikfifo.ko

# 1. Native.
insmod "$ko" && wait_node /dev/ikfifo 10
sysfs_ident /dev/ikfifo >"$OUT/fifo-native.ident"
"$SELF/fifo_test" -d /dev/ikfifo -t "$OUT/fifo-native.txt" >"$OUT/fifo-native.tap" 2>&1
t_check "fifo_test passes against the native driver" [ $? = 0 ]
rmmod ikfifo

# 2. Isolated.  The shim restarts the driver VM after every death the
# stress may forgive, and then some.
max_deaths=${IKERNEL_FIFO_STRESS_DEATHS:-6}
cfg=$OUT/fifo.toml
IVT_MAX_RESTARTS=$((max_deaths + 2)) write_config "$cfg" fifo "$(ikfifo_export legacy)"
# The shim runs as a Type=notify service would: a datagram socket stands
# for the service manager and records what it is told, one message a line.
rm -f "$OUT/notify.sock" "$OUT/notify.txt"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", " | ") + "\n")
        f.flush()
' "$OUT/notify.sock" "$OUT/notify.txt" &
NOTIFY_PID=$!
for _ in 1 2 3 4 5; do [ -S "$OUT/notify.sock" ] && break; sleep 1; done
NOTIFY_SOCKET=$OUT/notify.sock start_shim "$OUT/fifo.log" "$cfg"
if ! wait_node /dev/ik_fifo 30; then
	t_not_ok "driver VM exports /dev/ik_fifo"
	show_logs fifo
	stop_shim
	t_done
fi
t_ok "driver VM exports /dev/ik_fifo"
t_check "/dev/ik_fifo has the configured mode 0666" [ "$(stat -c %a /dev/ik_fifo)" = 666 ]

"$SELF/fifo_test" -d /dev/ik_fifo -t "$OUT/fifo-isolated.txt" >"$OUT/fifo-isolated.tap" 2>&1
rc=$?
t_check "fifo_test passes against the isolated driver" [ $rc = 0 ]
[ $rc = 0 ] || grep -v '^ok' "$OUT/fifo-isolated.tap" | sed 's/^/# /' | head -n 40
if diff -u "$OUT/fifo-native.txt" "$OUT/fifo-isolated.txt" >"$OUT/fifo.diff"; then
	t_ok "native and isolated transcripts are identical ($(wc -l <"$OUT/fifo-native.txt") operations)"
else
	t_not_ok "native and isolated transcripts are identical"
	sed 's/^/# /' "$OUT/fifo.diff" | head -n 40
fi
# fifo_test's mmap tests map the driver's shared area: guest RAM pages,
# each frame the guest named checked by host_stub.
mmaps=$(cat /sys/class/ikernel/ik_fifo/stats/mmaps 2>/dev/null)
bad_mmaps=$(cat /sys/class/ikernel/ik_fifo/stats/bad_mmaps 2>/dev/null)
t_check "mmap: host_stub mapped the driver's pages (stats/mmaps ${mmaps:-?}, bad_mmaps ${bad_mmaps:-?})" \
	eval '[ "${mmaps:-0}" -ge 6 ] && [ "${bad_mmaps:-1}" = 0 ]'
# fifo_test's IKFIFO_XFER and IKFIFO_CHAIN hold pointers: they ran as
# remote ioctls, and every step kept the rules.
check_remote ik_fifo 20 "remote ioctls: the driver VM fetched the callers' pages"
# What the node is: misc, named ikfifo in the driver VM, with ikfifo's
# own attributes (a snapshot: capacity does not change, used may).
check_ident "$OUT/fifo-native.ident" ik_fifo ikfifo
t_check "ik_fifo: guest_attrs shows the driver's capacity attribute (4096)" \
	grep -qx "capacity=4096" /sys/class/ikernel/ik_fifo/guest_attrs
# Bulk data went straight between the callers' buffers and the window.
# Then the same again with direct_copy off, through host_stub's fallback
# buffer (the path a page that is not resident takes): the same transcript.
copies() {
	grep '^export ik_fifo ' /sys/kernel/debug/ikernel/stats |
		sed -n 's/.* direct_bytes \([0-9]*\) bounced_bytes \([0-9]*\).*/\1 \2/p'
}
read -r direct bounced <<<"$(copies)"
t_check "reads and writes copy straight between user memory and the window (${direct:-?} bytes; ${bounced:-?} through a buffer)" \
	[ "${direct:-0}" -gt 0 ]
# That run, and the zero_copy one below, take the cases that move data
# (not the ones that wait for signals and wake-ups, which do not depend
# on how the bytes travel), compared with the same cases' native lines.
data_cases=
for c in roundtrip zero_length wraparound bad_pointers huge_lengths \
	fault_mid_buffer unfaulted_pages ioctls new_files pread_pwrite_readv \
	xfer_batch xfer_efault chain_nodes chain_efault; do
	data_cases="$data_cases -t $c"
done
pat=${data_cases# -t }
grep -E "^(${pat// -t /|}) " "$OUT/fifo-native.txt" >"$OUT/fifo-native-data.txt"
echo 0 >/sys/module/ikernel_host/parameters/direct_copy
"$SELF/fifo_test" -d /dev/ik_fifo -t "$OUT/fifo-bounced.txt" -- $data_cases >"$OUT/fifo-bounced.tap" 2>&1
rc=$?
echo 1 >/sys/module/ikernel_host/parameters/direct_copy
params=/sys/module/ikernel_host/parameters
t_check "module parameters: poll_max_us refuses 20001 and keeps $(cat $params/poll_max_us), takes 50; direct_copy refuses 2" \
	eval '! echo 20001 2>/dev/null >$params/poll_max_us && [ "$(cat $params/poll_max_us)" = 50 ] &&
		echo 50 >$params/poll_max_us && ! echo 2 2>/dev/null >$params/direct_copy &&
		[ "$(cat $params/direct_copy)" = 1 ]'
read -r direct2 bounced2 <<<"$(copies)"
[ $rc = 0 ] || grep -v '^ok' "$OUT/fifo-bounced.tap" | sed 's/^/# /' | head -n 20
bounced_ok() {
	[ "$rc" = 0 ] && [ "$((${bounced2:-0} - ${bounced:-0}))" -gt 0 ] &&
		[ "${direct2:-0}" = "${direct:-0}" ] &&
		cmp -s "$OUT/fifo-native-data.txt" "$OUT/fifo-bounced.txt"
}
t_check "with direct_copy off: fifo_test passes, the same transcript, data through a buffer ($((${bounced2:-0} - ${bounced:-0})) bytes; direct $((${direct2:-0} - ${direct:-0})))" \
	bounced_ok

# A round gives up after IKERNEL_FIFO_STRESS_TIMEOUT seconds (default
# 600; a clean round takes about 90 s under TCG); if it has not ended 120 s
# after that (a process stuck in the kernel), the stacks of its processes
# are saved before it is killed.  host_stub's statistics (export and
# channel, one line) are sampled every 30 s into fifo-stress-stats.log
# meanwhile.  When the stress failed, the stacks, the current statistics
# and the last samples are shown after its result.
#
# A driver VM that dies of a triple fault or hangs (heartbeat stopped for
# 30 s) during the stress, with no report on its console that points at
# the driver or guest_stub, is most likely nested TCG's doing
# (Documentation/building.rst): no oops, panic, BUG or general protection
# fault, and no stack frame of ikfifo or ikernel_guest (a lockdep
# "recursive locking" report inside the kernel's own interrupt path, the
# mark of an interrupt delivered while interrupts were off, is allowed).
# The round then fails with EIO, which is the host's designed answer.
# That is checked and reported, the round does not count, and the next
# one runs on the restarted driver VM.  Any other failure of a round, or
# more than IKERNEL_FIFO_STRESS_DEATHS deaths, fails the test.
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
fifo_stats() { grep '^export ik_fifo ' /sys/kernel/debug/ikernel/stats; }
st=${IKERNEL_FIFO_STRESS_TIMEOUT:-600}
downs() { ev_count "$OUT/fifo.log" down; }
# run_stress TAG: one stress run; its status in rc, its TAP in fifo-stress-TAG.tap.
run_stress() {
	local tap=$OUT/fifo-stress-$1.tap i=0 p
	: >"$OUT/fifo-stress-$1.diag"
	"$SELF/fifo_stress" -d /dev/ik_fifo -p 16 -T "$st" ${IKERNEL_FIFO_STRESS_ARGS:--n $per} >"$tap" 2>&1 &
	sp=$!
	while kill -0 $sp 2>/dev/null && [ $i -lt $((st + 120)) ]; do
		[ $((i % 30)) = 0 ] && echo "$1 $i s: $(fifo_stats)" >>"$OUT/fifo-stress-stats.log"
		sleep 1
		i=$((i + 1))
	done
	if kill -0 $sp 2>/dev/null; then
		{
			t_diag "fifo_stress still running after $i s; its processes:"
			for p in $(pgrep -x fifo_stress); do
				t_diag "pid $p state $(awk '{ print $3 }' /proc/$p/stat) wchan $(cat /proc/$p/wchan)"
				sed 's/^/#     /' /proc/$p/stack 2>/dev/null
			done
		} >>"$OUT/fifo-stress-$1.diag"
		pkill -KILL -x fifo_stress
	fi
	wait $sp
	rc=$?
}
# vm_fault TAP BEFORE: the driver VM died after the first BEFORE deaths,
# every time of a triple fault or a hang that left no report against the
# driver or guest_stub, and the stress in TAP failed with EIO and nothing
# else.
vm_fault() {
	local new
	new=$(ev "$OUT/fifo.log" 'select(.event == "down") | .cause' | tail -n +$(($2 + 1)))
	[ -n "$new" ] && ! grep -vx '"triple_fault"\|"hang"' <<<"$new" | grep -q . &&
		grep -q '^# process [0-9]*: .*Input/output error)\?$' "$1" &&
		! grep '^# process [0-9]*: ' "$1" | grep -qv 'Input/output error)\?$' &&
		! grep -qE 'bad record|corrupt record|consumed twice' "$1" &&
		! grep -qE 'Oops|Kernel panic|BUG:|general protection|\[(ikernel_guest|ikfifo)\]' \
			"$OUT/fifo.console.log"
}
: >"$OUT/fifo-stress-stats.log"
target=${IKERNEL_FIFO_STRESS_CALLS:-100000}
total=0
rounds=0
deaths=0
run=0
rc=0
while [ $total -lt "$target" ] && [ $run -lt 100 ]; do
	run=$((run + 1))
	d0=$(downs)
	# Each process's share of what is still missing, at most a quarter
	# of the target: four rounds when no driver VM dies.
	per=$(( (target - total + 15) / 16 ))
	[ $per -gt $(( (target + 63) / 64 )) ] && per=$(( (target + 63) / 64 ))
	run_stress $run
	if [ $rc = 0 ]; then
		n=$(sed -n 's/^# \([0-9]*\) calls in .*/\1/p' "$OUT/fifo-stress-$run.tap" | tail -n 1)
		if [ "${n:-0}" -lt 1 ]; then
			t_diag "stress round $run passed but counted no calls"
			rc=1
			break
		fi
		total=$((total + n))
		rounds=$((rounds + 1))
		continue
	fi
	[ $deaths -lt "$max_deaths" ] && vm_fault "$OUT/fifo-stress-$run.tap" "$d0" || break
	deaths=$((deaths + 1))
	t_diag "stress round $run: the driver VM died, with no report against the driver or guest_stub (nested TCG): $(ev_last "$OUT/fifo.log" down '"generation \(.generation): \(.detail)"')"
	grep '^# ' "$OUT/fifo-stress-$run.tap" | tail -n 3
	grep -A3 'possible recursive locking' "$OUT/fifo.console.log" | sed 's/^/# console: /'
	# The generation after the one that died (it may be up already).
	next=$(( $(ev_last "$OUT/fifo.log" down .generation) + 1 ))
	if ! wait_generation "$OUT/fifo.log" "$next" ||
		! wait_node /dev/ik_fifo 30; then
		t_diag "no driver VM came back within 300 s"
		break
	fi
	t_diag "host_stub answered EIO and the shim restarted the driver VM; that round does not count"
done
[ $rc = 0 ] && [ $total -lt "$target" ] && rc=1
t_diag "stress: $total checked calls in $rounds passing rounds, $deaths round(s) lost to a driver VM death"
t_check "fifo_stress: 16 processes at a time, every payload checked, $total calls (at least $target) on the isolated node" [ $rc = 0 ]
if [ $rc != 0 ]; then
	grep '^#' "$OUT/fifo-stress-$run.tap" | tail -n 5
	cat "$OUT/fifo-stress-$run.diag"
	t_diag "stats: $(fifo_stats)"
	grep "^$run " "$OUT/fifo-stress-stats.log" | tail -n 4 | sed 's/^/# /'
	[ "$(downs)" -gt "$d0" ] && show_logs fifo
fi

# Statistics: every call counted (host_stub counts every forwarded call,
# the stress's and the others'), no protocol violation.
stats=$(fifo_stats)
t_diag "stats: $stats"
calls=$(echo "$stats" | sed -n 's/.* calls \([0-9]*\) .*/\1/p')
viol=$(echo "$stats" | sed -n 's/.* violations \([0-9]*\).*/\1/p')
counted=no
[ "${calls:-0}" -ge $total ] && [ "${viol:-1}" = 0 ] && counted=yes
t_check "debugfs stats count the calls (${calls:-?} calls, at least $total; ${viol:-?} protocol violations)" \
	[ $counted = yes ]

# What the node is, in sysfs (/sys/class/ikernel/ik_fifo/) and in
# `ivt-shim list`, which reads it.
sys=/sys/class/ikernel/ik_fifo
sysattr() { cat "$sys/$1" 2>/dev/null; }
# (Each check with several conditions is a function: t_check runs one
# command, and a bare "t_check ... [ a ] && [ b ]" would check a alone.)
sys_state_ok() {
	[ "$(sysattr state)" = running ] &&
		[ "$(sysattr generation)" = "$(ready_generation "$OUT/fifo.log")" ]
}
sys_identity_ok() {
	[ "$(sysattr guest_path)" = /dev/ikfifo ] && [ "$(sysattr vm_name)" = fifo ] &&
		[ "$(sysattr owner_pid)" = "$SHIM_PID" ]
}
sys_stats_ok() {
	[ "$(sysattr stats/calls)" -ge "${calls:-1}" ] && [ -n "$(sysattr stats/errors)" ]
}
t_check "sysfs: state running, generation $(ready_generation "$OUT/fifo.log") (got $(sysattr state) $(sysattr generation))" \
	sys_state_ok
t_check "sysfs: guest_path /dev/ikfifo, vm_name fifo, owner_pid the shim's ($SHIM_PID; got $(sysattr guest_path) $(sysattr vm_name) $(sysattr owner_pid))" \
	sys_identity_ok
t_check "sysfs: stats/calls ($(sysattr stats/calls)) agrees with debugfs (${calls:-?}, read before it)" \
	sys_stats_ok
t_check "sysfs: the attributes are read-only" \
	eval '! echo 1 2>/dev/null >"$sys/generation"'
"$IVT_SHIM" list >"$OUT/list.txt" 2>&1
"$IVT_SHIM" list --json >"$OUT/list.json" 2>&1
t_check "ivt-shim list shows ik_fifo, its VM and state" \
	grep -Eq "^ik_fifo +[0-9]+:[0-9]+ +fifo +$SHIM_PID +running " "$OUT/list.txt"
t_check "ivt-shim list --json: ik_fifo -> /dev/ikfifo of VM fifo" \
	[ "$(jq -r '.[] | select(.name == "ik_fifo") | "\(.guest_path) \(.vm_name) \(.stats.calls > 0)"' "$OUT/list.json")" = "/dev/ikfifo fifo true" ]
[ -s "$OUT/list.txt" ] && sed 's/^/# list: /' "$OUT/list.txt"

# Trace events (tracefs events/ikernel): a write and a read each give a
# submit and a done of the same id; the orderly shutdown below gives a
# state event (IKERNEL_VM_DOWN, 3).
tr=/sys/kernel/tracing
[ -d "$tr/events" ] || mount -t tracefs nodev "$tr" 2>/dev/null
if [ -d "$tr/events/ikernel" ]; then
	echo 0 >"$tr/tracing_on"
	: >"$tr/trace"
	echo 1 >"$tr/events/ikernel/enable"
	echo 1 >"$tr/tracing_on"
	printf 'abc' >/dev/ik_fifo
	head -c 3 /dev/ik_fifo >/dev/null
	echo 0 >"$tr/tracing_on"
	cp "$tr/trace" "$OUT/trace-calls.txt"
	ids() { sed -n "s/.*$1: channel=[0-9]* .*id=\([0-9]*\) .*/\1/p" "$OUT/trace-calls.txt" | sort; }
	subs=$(ids ikernel_call_submit | wc -l)
	traced_ok() { [ "$subs" -ge 4 ] && [ "$(ids ikernel_call_submit)" = "$(ids ikernel_call_done)" ]; }
	t_check "trace events: every submitted call ($subs) has its done, by id" traced_ok
	[ "$subs" -ge 4 ] || grep -v '^#' "$OUT/trace-calls.txt" | head -n 10 | sed 's/^/# trace: /'
	: >"$tr/trace"
	echo 1 >"$tr/tracing_on"
else
	t_not_ok "trace events: $tr/events/ikernel exists"
fi

# A second shim of the same config while this one runs: it must not take
# the node name; it stops at once with exit status 4 and a conflict event
# that names this shim, and the node goes on serving.
timeout 120 "$IVT_SHIM" run --events "$OUT/fifo-second.events" "$cfg" >"$OUT/fifo-second.log" 2>&1
rc=$?
refused_ok() { [ $rc = 4 ] && grep -q "pid $SHIM_PID" "$OUT/fifo-second.log"; }
t_check "a second shim of the same config exits 4 (conflict; got $rc) naming the first ($SHIM_PID)" \
	refused_ok
[ $rc = 4 ] || sed 's/^/# second: /' "$OUT/fifo-second.log" | tail -n 10
t_check "/dev/ik_fifo still served by the first" eval 'printf x >/dev/ik_fifo && [ "$(head -c 1 /dev/ik_fifo)" = x ]'

# Two driver VMs side by side: a second shim of another config (its own VM
# name and host node) runs beside the first; both nodes serve, and
# ivt-shim list shows both VMs.
cfg2=$OUT/fifo2.toml
write_config "$cfg2" fifo2 "$(ikfifo_export | sed 's/^host_name = "ik_fifo"$/host_name = "ik_fifo2"/')"
pid1=$SHIM_PID
start_shim "$OUT/fifo2.log" "$cfg2"
pid2=$SHIM_PID
SHIM_PID=$pid1
if wait_node /dev/ik_fifo2 30; then
	printf 'two' >/dev/ik_fifo2
	printf 'one' >/dev/ik_fifo
	got=$(head -c 3 /dev/ik_fifo2)$(head -c 3 /dev/ik_fifo)
	"$IVT_SHIM" list >"$OUT/list2.txt" 2>&1
	side_by_side_ok() {
		[ "$got" = twoone ] && grep -Eq "^ik_fifo +[0-9:]+ +fifo +$pid1 +running" "$OUT/list2.txt" &&
			grep -Eq "^ik_fifo2 +[0-9:]+ +fifo2 +$pid2 +running" "$OUT/list2.txt"
	}
	t_check "two shims side by side: each node serves its own VM (got $got), ivt-shim list shows fifo and fifo2" \
		side_by_side_ok
	sed 's/^/# list: /' "$OUT/list2.txt"
else
	t_not_ok "two shims side by side: the second exports /dev/ik_fifo2"
	show_logs fifo2
fi
kill -TERM "$pid2" 2>/dev/null
wait "$pid2"
rc2=$?
second_gone_ok() { [ $rc2 = 0 ] && [ ! -e /dev/ik_fifo2 ] && [ -c /dev/ik_fifo ]; }
t_check "the second shim shut down in order (exit $rc2), /dev/ik_fifo2 gone, /dev/ik_fifo still there" \
	second_gone_ok

# Hostile host user space: rmmod while a node is open is refused.
exec 7<>/dev/ik_fifo
if rmmod ikernel_host 2>/dev/null; then
	t_not_ok "rmmod ikernel_host refused while /dev/ik_fifo is open"
else
	t_ok "rmmod ikernel_host refused while /dev/ik_fifo is open"
fi
exec 7>&-

stop_shim
t_check "the shim shut down in order" [ "$SHIM_RC" = 0 ]
t_check "/dev/ik_fifo is gone with its channel" [ ! -e /dev/ik_fifo ]
if [ -d "$tr/events/ikernel" ]; then
	echo 0 >"$tr/tracing_on"
	t_check "trace events: the shutdown's ikernel_state (state=3)" \
		grep -q 'ikernel_state: channel=[0-9]* generation=[0-9]* state=3' "$tr/trace"
	echo 0 >"$tr/events/ikernel/enable"
	: >"$tr/trace"
fi
sleep 1
kill "$NOTIFY_PID" 2>/dev/null
wait "$NOTIFY_PID" 2>/dev/null
sed 's/^/# notify: /' "$OUT/notify.txt" | head -n 20
# READY=1 comes once, with the node already there; STOPPING=1 at the end.
first_ready=$(grep -n 'READY=1' "$OUT/notify.txt" | head -n 1 | cut -d: -f1)
ready_ok() {
	[ -n "$first_ready" ] && [ "$(grep -c 'READY=1' "$OUT/notify.txt")" = 1 ] &&
		head -n "$((first_ready - 1))" "$OUT/notify.txt" | grep -q 'STATUS=generation [0-9]*: booting' &&
		sed -n "${first_ready}p" "$OUT/notify.txt" | grep -q 'exports: /dev/ik_fifo'
}
t_check "sd_notify: a booting status, then READY=1 once, naming /dev/ik_fifo" ready_ok
t_check "sd_notify: STOPPING=1 on the orderly shutdown" \
	[ "$(tail -n 1 "$OUT/notify.txt" | cut -d' ' -f1)" = STOPPING=1 ]

# A driver VM whose serving process works in the window ([image]
# zero_copy): guest_stub hands it each request's buffer in the window, so
# the guest copies nothing.  The driver cannot tell: the same transcript.
# Then the shim dies (SIGKILL) while a read is blocked on its node:
# host_stub sees the control file close, the read fails with EIO, the node
# goes.
IVT_IMAGE_EXTRA="zero_copy = true" write_config "$OUT/fifo-zc.toml" fifo-kill "$(ikfifo_export legacy)"
start_shim "$OUT/fifo-kill.log" "$OUT/fifo-zc.toml"
if wait_node /dev/ik_fifo 30; then
	"$SELF/fifo_test" -d /dev/ik_fifo -t "$OUT/fifo-inplace.txt" -- $data_cases >"$OUT/fifo-inplace.tap" 2>&1
	rc=$?
	[ $rc = 0 ] || grep -v '^ok' "$OUT/fifo-inplace.tap" | sed 's/^/# /' | head -n 20
	inplace_ok() {
		[ "$rc" = 0 ] && cmp -s "$OUT/fifo-native-data.txt" "$OUT/fifo-inplace.txt" &&
			grep -aq 'ikernel-served: window mapped' "$OUT/fifo-kill.console.log"
	}
	t_check "zero_copy: served in place in the window, fifo_test passes with the same transcript" inplace_ok
	dd if=/dev/ik_fifo of=/dev/null bs=1 count=1 2>"$OUT/fifo-dd.err" &
	dd_pid=$!
	sleep 3
	kill -0 $dd_pid 2>/dev/null
	t_check "a read blocks on the empty isolated FIFO" [ $? = 0 ]
	kill -9 "$SHIM_PID"
	wait "$SHIM_PID" 2>/dev/null
	s0=$(date +%s)
	for i in $(seq 1 20); do kill -0 $dd_pid 2>/dev/null || break; sleep 0.5; done
	if kill -0 $dd_pid 2>/dev/null; then
		t_not_ok "the blocked read returns when the shim is killed"
		kill -9 $dd_pid
	else
		wait $dd_pid
		rc=$?
		eio=no
		[ $rc != 0 ] && grep -q "Input/output error" "$OUT/fifo-dd.err" && eio=yes
		t_check "the blocked read fails with EIO when the shim is killed ($(( $(date +%s) - s0 )) s)" \
			[ $eio = yes ]
	fi
	for i in $(seq 1 20); do [ -e /dev/ik_fifo ] || break; sleep 0.5; done
	t_check "/dev/ik_fifo is gone after the shim was killed" [ ! -e /dev/ik_fifo ]
else
	t_not_ok "second driver VM exports /dev/ik_fifo"
	t_skip "no node"; t_skip "no node"; t_skip "no node"
fi
[ "$t_fail" = 0 ] || show_logs fifo
t_done
