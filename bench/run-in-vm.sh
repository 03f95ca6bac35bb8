#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The part of `make bench` that runs inside the test VM (as root): the
# sample driver samples/ikfifo (capacity=1048576) natively, then the same
# module isolated in a driver VM exported as /dev/ik_fifo, measured with
# the same program (build/bench/fifo_bench), then a second driver VM that
# panics once ready, for the restart-to-service time.
#
# Raw results go to $BENCH_OUT/raw.txt (default build/bench), one line per
# measurement: "SIDE WHAT key=value ...".  bench/report.py turns them into
# the table.  Exit status 1 only on real breakage (a node missing, a call
# failing, data read back differing); slowness is never an error.
#
# Environment: IVT_KDIR (kernel build tree, for the driver VM's bzImage),
# BENCH_SECS (seconds per point, default 3), BENCH_DEEP_POLL_US (the
# host's poll bound in the "deep polling" series, default 20000, the
# largest host_stub accepts).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${BENCH_OUT:-$ROOT/build/bench}
RAW=$OUT/raw.txt
BIN=$OUT/fifo_bench
KO=$ROOT/samples/ikfifo/ikfifo.ko
SHIM=$ROOT/target/release/ivt-shim
SECS=${BENCH_SECS:-3}
DEEP_POLL=${BENCH_DEEP_POLL_US:-20000}
POLL_KNOB=/sys/module/ikernel_host/parameters/poll_max_us
COPY_KNOB=/sys/module/ikernel_host/parameters/direct_copy
CAPACITY=1048576
MEMORY_MIB=128
export IKERNEL_IMAGE_CACHE=$OUT/images
mkdir -p "$OUT"
: >"$RAW"

say() { printf '[bench] %s\n' "$*"; }
# rec SIDE WHAT KEY=VALUE...: one line of raw results, also shown.
rec() { echo "$*" >>"$RAW"; echo "  $*"; }
broken() { say "ERROR: $*"; rec error "msg=$(echo "$*" | tr ' =' '_:')"; exit 1; }

# wait_node PATH SECONDS
wait_node() {
	local i=0
	while [ ! -c "$1" ] && [ $i -lt "$2" ]; do sleep 0.2; i=$((i + 1)); done
	[ -c "$1" ]
}

# bench SIDE NODE: the latency, throughput and concurrency points; with
# SIDE=isolated* each point is bracketed by counter snapshots.
bench() {
	local side=$1 node=$2 out s
	local maxlat=20000
	case $side in isolated*) maxlat=2000 ;; esac
	run_point "$side" lat "$BIN" lat -d "$node" -n $maxlat -t "$SECS" || return 1
	for s in 64 4096 65536; do
		run_point "$side" "tput$s" "$BIN" tput -d "$node" -s $s -t "$SECS" || return 1
	done
	for s in 1 4 16; do
		run_point "$side" "par$s" "$BIN" par -d "$node" -p $s -t "$SECS" || return 1
	done
}

# run_point SIDE PHASE CMD...: runs one measurement, records its line.
run_point() {
	local side=$1 phase=$2 out rc
	shift 2
	case $side in isolated*) snap >"$OUT/snap.before" ;; esac
	out=$("$@" 2>"$OUT/err.txt")
	rc=$?
	if [ $rc != 0 ]; then
		say "$side $phase failed: $(cat "$OUT/err.txt")"
		return 1
	fi
	rec "$side $out"
	case $side in isolated*)
		snap >"$OUT/snap.after"
		rec "$side counters phase=$phase $(delta "$OUT/snap.before" "$OUT/snap.after")"
	esac
}

# The per-VM KVM statistics directory of the shim's current VM: named
# PID-FD by the task that created the VM (the shim's main thread), else
# the newest one (the driver VM is the only VM in the test VM).
kvm_dir() {
	local d
	d=$(ls -d /sys/kernel/debug/kvm/"$SHIM_PID"-* 2>/dev/null | tail -n 1)
	[ -n "$d" ] || d=$(ls -td /sys/kernel/debug/kvm/*-*/ 2>/dev/null | head -n 1)
	echo "${d%/}"
}

KVM_STATS="exits io_exits mmio_exits irq_injections halt_exits irq_exits irq_window_exits"

HOST_STATS="calls kicks interrupts polls polled direct_bytes bounced_bytes"

# snap: "time T calls N kicks K ... exits E io_exits I ...", one line.
snap() {
	local line d f v
	line=$(grep '^export ik_fifo ' /sys/kernel/debug/ikernel/stats)
	printf 'time %s' "$(date +%s.%N)"
	for f in $HOST_STATS; do
		v=$(echo "$line" | sed -n "s/.* $f \([0-9]*\)\( .*\)\{0,1\}$/\1/p")
		printf ' %s %s' "$f" "${v:-0}"
	done
	d=$(kvm_dir)
	for f in $KVM_STATS; do
		v=$(cat "$d/$f" 2>/dev/null)
		printf ' %s %s' "$f" "${v:-0}"
	done
	echo
}

# delta BEFORE AFTER: "secs=S calls=N kicks=K exits=E ...".
delta() {
	awk 'NR == 1 { for (i = 1; i < NF; i += 2) a[$i] = $(i + 1); next }
	     { for (i = 1; i < NF; i += 2) {
		   k = $i; v = $(i + 1) - a[k]
		   if (k == "time") printf "secs=%.3f", v; else printf " %s=%d", k, v
	       }
	       printf "\n" }' "$1" "$2"
}

# write_config FILE NAME [IMAGE-TOML]: IMAGE-TOML goes into [image].
write_config() {
	cat >"$1" <<TOML
# Written by bench/run-in-vm.sh.
[vm]
kernel = "$IVT_KDIR/arch/x86/boot/bzImage"
memory_mib = $MEMORY_MIB
console_log = "$OUT/$2.console.log"

[image]
guest_stub = "$ROOT/guest_stub/ikernel_guest.ko"
${3:-}

[[module]]
path = "$KO"
params = "capacity=$CAPACITY"

[[export]]
guest_path = "/dev/ikfifo"
host_name = "ik_fifo"
mode = 0o666
owner = "root:root"
  [[export.ioctl]]
  cmd = 0x6b11
  dir = "read"
  size = 4

[restart]
max_restarts = 2
backoff_initial_ms = 100
ready_timeout_s = 300
TOML
	rm -f "$OUT/$2.console.log"
}

# start_shim LOG CONFIG [ARGS...]: the shim in the background (SHIM_PID).
start_shim() {
	local log=$1 cfg=$2
	shift 2
	"$SHIM" run "$@" "$cfg" >"$log" 2>&1 &
	SHIM_PID=$!
}

stop_shim() {
	local i=0
	kill -TERM "$SHIM_PID" 2>/dev/null
	while kill -0 "$SHIM_PID" 2>/dev/null && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
	kill -KILL "$SHIM_PID" 2>/dev/null
	wait "$SHIM_PID" 2>/dev/null
}

# log_secs LOG GENERATION KEY: a figure from "generation N: READY, ...".
log_secs() {
	grep "generation $2: READY" "$1" | head -n 1 |
		sed -n "s/.*$3 \([0-9.]*\) s.*/\1/p"
}

# diag LOG CONSOLE: what host_stub, the test VM's kernel, the shim and the
# driver VM said, after a failure.
diag() {
	say "diagnostics:"
	grep '^export ' /sys/kernel/debug/ikernel/stats 2>/dev/null | sed 's/^/  stats: /'
	dmesg | tail -n 25 | sed 's/^/  dmesg: /'
	tail -n 25 "$1" | sed 's/^/  shim: /'
	tail -n 25 "$2" | sed 's/^/  console: /'
}

[ -x "$BIN" ] || broken "$BIN missing (make bench builds it)"
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug

say "test VM: $(uname -r), $(nproc) vCPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
rec vm "vcpus=$(nproc) kernel=$(uname -r) hz=$(grep -o '^CONFIG_HZ=[0-9]*' "$IVT_KDIR/.config" | cut -d= -f2)"

# 1. Native.
say "native: insmod ikfifo capacity=$CAPACITY"
rmmod ikfifo 2>/dev/null
insmod "$KO" capacity=$CAPACITY || broken "insmod $KO failed"
wait_node /dev/ikfifo 50 || broken "/dev/ikfifo did not appear"
bench native /dev/ikfifo || broken "native measurement failed"
rmmod ikfifo

# 2. Isolated.
say "isolated: driver VM with ikfifo capacity=$CAPACITY, exported as /dev/ik_fifo"
[ -e /dev/kvm ] || modprobe kvm_amd 2>/dev/null || modprobe kvm_intel
[ -e /dev/ikernel ] || insmod "$ROOT/host_stub/ikernel_host.ko" || broken "insmod host_stub failed"
cfg=$OUT/bench.toml
write_config "$cfg" bench
"$SHIM" build-image "$cfg" >/dev/null 2>"$OUT/build-image.err" ||
	broken "ivt-shim build-image failed: $(tail -n 3 "$OUT/build-image.err")"
start_shim "$OUT/shim.log" "$cfg"
if ! wait_node /dev/ik_fifo 1500; then
	diag "$OUT/shim.log" "$OUT/bench.console.log"
	stop_shim
	broken "/dev/ik_fifo did not appear"
fi
# The first generation to be ready (an earlier one may have died booting).
gen=$(sed -n 's/.*generation \([0-9]*\): READY.*/\1/p' "$OUT/shim.log" | head -n 1)
boot=$(log_secs "$OUT/shim.log" "${gen:-1}" boot-to-ready)
rec isolated "boot boot_to_ready_s=${boot:-nan} generation=${gen:-0}"
[ "${gen:-1}" = 1 ] || { say "generation 1 died before it was ready:"; diag "$OUT/shim.log" "$OUT/bench.console.log"; }
if [ -n "$(kvm_dir)" ]; then
	say "KVM statistics of the driver VM: $(kvm_dir) (shim pid $SHIM_PID)"
else
	say "no KVM debugfs directory for the driver VM: KVM counters read as 0"
fi

# Idle baseline of the KVM counters: timer ticks, console and the like.
sleep 2
snap >"$OUT/snap.before"
sleep 5
snap >"$OUT/snap.after"
rec "isolated counters phase=idle $(delta "$OUT/snap.before" "$OUT/snap.after")"

rec isolated "poll host_max_us=$(cat $POLL_KNOB 2>/dev/null || echo nan)"
if ! bench isolated /dev/ik_fifo; then
	diag "$OUT/shim.log" "$OUT/bench.console.log"
	stop_shim
	broken "isolated measurement failed"
fi
# The same driver VM with the host's polling off, then with a deep bound
# (under TCG a response takes milliseconds: a 50 us window rarely catches
# the next one): the latency and concurrency points again.
poll_series() {
	local side=$1 us=$2 s
	echo "$us" >$POLL_KNOB || return 1
	rec "$side" "poll host_max_us=$us"
	run_point "$side" lat "$BIN" lat -d /dev/ik_fifo -n 2000 -t "$SECS" || return 1
	for s in 4 16; do
		run_point "$side" "par$s" "$BIN" par -d /dev/ik_fifo -p $s -t "$SECS" || return 1
	done
}
def=$(cat $POLL_KNOB)
if ! poll_series isolated-poll0 0 || ! poll_series isolated-deep "$DEEP_POLL"; then
	diag "$OUT/shim.log" "$OUT/bench.console.log"
	stop_shim
	broken "isolated measurement (polling series) failed"
fi
echo "$def" >$POLL_KNOB
# The bulk points again with host_stub's direct copies off: every byte
# through its kernel buffer, as before the one-copy change.
copy_series() {
	local s
	echo 0 >$COPY_KNOB || return 1
	rec isolated-bounce "copy direct=0"
	for s in 4096 65536; do
		run_point isolated-bounce "tput$s" "$BIN" tput -d /dev/ik_fifo -s $s -t "$SECS" || return 1
	done
}
if [ -e $COPY_KNOB ]; then
	if ! copy_series; then
		echo 1 >$COPY_KNOB
		diag "$OUT/shim.log" "$OUT/bench.console.log"
		stop_shim
		broken "isolated measurement (copy series) failed"
	fi
	echo 1 >$COPY_KNOB
fi
# Host-to-guest interrupts have no counter on the host; KVM's tracepoints
# count them: kvm_set_irq for GSI 5 raised (the ring's irqfd, level 1) and
# kvm_inj_virq per vector, over one more (traced, so not timed) run of
# null ioctls.
trace_phase() {
	local t=/sys/kernel/tracing e
	[ -d $t/events ] || mount -t tracefs nodev $t 2>/dev/null
	if [ ! -d $t/events/kvm/kvm_inj_virq ] || [ ! -d $t/events/kvm/kvm_set_irq ]; then
		rec isolated "trace available=no"
		return 0
	fi
	echo 0 >$t/tracing_on
	echo 8192 >$t/buffer_size_kb
	echo >$t/trace
	for e in kvm_inj_virq kvm_set_irq; do echo 1 >$t/events/kvm/$e/enable; done
	snap >"$OUT/snap.before"
	echo 1 >$t/tracing_on
	"$BIN" lat -d /dev/ik_fifo -n 500 -t "$SECS" >/dev/null 2>"$OUT/err.txt" ||
		say "traced run failed: $(cat "$OUT/err.txt")"
	echo 0 >$t/tracing_on
	snap >"$OUT/snap.after"
	for e in kvm_inj_virq kvm_set_irq; do echo 0 >$t/events/kvm/$e/enable; done
	cat $t/trace >"$OUT/trace.txt"
	echo >$t/trace
	rec isolated "trace available=yes $(delta "$OUT/snap.before" "$OUT/snap.after") $(
		printf 'gsi5_raised=%s gsi4_raised=%s lost=%s ' \
			"$(grep -c 'kvm_set_irq: gsi 5 level 1 ' "$OUT/trace.txt")" \
			"$(grep -c 'kvm_set_irq: gsi 4 level 1 ' "$OUT/trace.txt")" \
			"$(grep -c 'LOST' "$OUT/trace.txt")"
		grep -o 'kvm_inj_virq: [A-Za-z/]* 0x[0-9a-f]*' "$OUT/trace.txt" |
			awk '{ n[$3]++ } END { for (v in n) printf "vec_%s=%d ", v, n[v] }')"
}
trace_phase

rec isolated "memory $(awk '/^(VmRSS|VmHWM|Threads):/ { printf "%s=%s ", tolower(substr($1, 1, length($1) - 1)), $2 }' \
	"/proc/$SHIM_PID/status")guest_mib=$MEMORY_MIB window_kib=256"
rec isolated "stats $(grep '^export ik_fifo ' /sys/kernel/debug/ikernel/stats |
	awk '{ for (i = 3; i < NF; i += 2) printf "%s=%s ", $i, $(i + 1) }')"
stop_shim

# 2b. Zero copy: a driver VM whose serving process works in the window
# ([image] zero_copy): the guest copies no payload, so a byte crosses in
# the host's copy and the driver's own.  The bulk points again.
say "isolated, zero copy: a driver VM serving in place in the window"
for i in $(seq 1 50); do [ -e /dev/ik_fifo ] || break; sleep 0.2; done
write_config "$cfg" inplace "zero_copy = true"
start_shim "$OUT/inplace.log" "$cfg"
inplace_series() {
	local s
	wait_node /dev/ik_fifo 1500 || return 1
	# The guest is ready (and the node exported) once guest_stub attaches,
	# which is before ikernel-served maps the window and says so.
	for i in $(seq 1 150); do
		grep -aq 'ikernel-served: window mapped' "$OUT/inplace.console.log" && break
		sleep 0.2
	done
	grep -aq 'ikernel-served: window mapped' "$OUT/inplace.console.log" || return 1
	rec isolated-inplace "copy zero_copy=1"
	for s in 4096 65536; do
		run_point isolated-inplace "tput$s" "$BIN" tput -d /dev/ik_fifo -s $s -t "$SECS" || return 1
	done
}
if ! inplace_series; then
	diag "$OUT/inplace.log" "$OUT/inplace.console.log"
	stop_shim
	broken "isolated measurement (zero copy) failed"
fi
stop_shim

# 3. Restart: generation 1 panics one second after it is ready.
say "restart: a driver VM whose generation 1 panics once ready"
for i in $(seq 1 50); do [ -e /dev/ik_fifo ] || break; sleep 0.2; done
write_config "$cfg" restart
start_shim "$OUT/restart.log" "$cfg" --test-panic-generation 1
if ! wait_node /dev/ik_fifo 1500; then
	diag "$OUT/restart.log" "$OUT/restart.console.log"
	stop_shim
	broken "/dev/ik_fifo did not appear (restart run)"
fi
out=$("$BIN" restart -d /dev/ik_fifo -t 120 2>&1)
rc=$?
rec "isolated $out"
# No failure at all: generation 1 died while booting, so generation 2 (which
# does not panic) served throughout; nothing to measure, nothing broken.
case $out in *failure_seen=no*) say "no failure seen: generation 1 never served"; rc=0 ;; esac
sleep 1
b1=$(log_secs "$OUT/restart.log" 1 boot-to-ready)
b2=$(log_secs "$OUT/restart.log" 2 boot-to-ready)
d2=$(log_secs "$OUT/restart.log" 2 "down-to-ready (restart)")
rec isolated "restartlog gen1_boot_to_ready_s=${b1:-nan} gen2_boot_to_ready_s=${b2:-nan} down_to_ready_s=${d2:-nan}"
grep -E "generation [12]|died|down|DOWN|panic" "$OUT/restart.log" | head -n 12 | sed 's/^/  shim: /'
[ $rc = 0 ] || diag "$OUT/restart.log" "$OUT/restart.console.log"
stop_shim
[ $rc = 0 ] || broken "no service again after the forced panic: $out"
say "done"
