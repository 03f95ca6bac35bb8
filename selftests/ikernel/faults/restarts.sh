#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What a restart of the driver VM costs the faults host, generation after
# generation: a measurement, not a test (it asserts nothing).  In the full
# campaign the KASAN test host grew slower as it went (the shim's set-up
# of a new VM from 11 s to 28 s, a driver VM's boot from 42 s to 131 s);
# this finds out whether something grows with the restarts.
#
# The campaign's driver VM (lib.sh's campaign_config: one shim serving
# ikfifo and ikbuggy) under the campaign's load (lib.sh's start_load:
# fault_load, 4 processes, each pausing IKERNEL_RESTARTS_PAUSE ms after a
# failed call, default the campaign's 200; IKERNEL_RESTARTS_LOAD=0 for no
# load).  IKERNEL_RESTARTS times (default 12) an oops in ikbuggy kills the
# driver VM and the shim starts the next generation.  Per generation it
# prints the shim's set-up time (its "restart" line to its "booting"
# line), the boot to READY, the host's memory in MiB (free, slab,
# unreclaimable slab, vmalloc, kernel stacks, page tables), the shim's open
# files and threads, KVM's VMs in debugfs and kmemleak's tracked objects.
# At the end: the slab caches that grew most and the kernel threads that
# used most CPU.
# Run it on the faults kernel with
# `selftests/ikernel/faults/run-in-vm.sh restarts`.
. "$(dirname "$0")/lib.sh"
N=${IKERNEL_RESTARTS:-12}
load_kvm

LOAD_PAUSE_MS=${IKERNEL_RESTARTS_PAUSE:-$LOAD_PAUSE_MS}
cfg=$OUT/restarts.toml
campaign_config "$cfg" restarts "" "" 1000

meminfo() { awk -v k="$1:" '$1 == k { print int($2 / 1024) }' /proc/meminfo; }
slab_active() { awk -v c="$1" '$1 == c { print $2 }' /proc/slabinfo; }
slabs() { awk 'NR > 2 { print $1, $2 * $4 }' /proc/slabinfo | sort; }
# The seconds from the shim's restart event before generation $1's
# booting event to that event, and generation $1's boot-to-ready.
setup_s() {
	ev "$OUT/restarts.log" 'select(.event == "restart" or .event == "booting") |
		"\(.event) \(.generation // 0) \(.unix)"' | tr -d '"' | awk -v g="$1" '
		$1 == "restart" { r = $3 }
		$1 == "booting" && $2 == g { if (r) printf "%.1f", $3 - r; exit }'
}
ready_s() {
	ev "$OUT/restarts.log" "select(.event == \"ready\" and .generation == $1) | .boot_to_ready_s" |
		awk '{ printf "%.1f", $1 }'
}
kvm_vms() { ls /sys/kernel/debug/kvm 2>/dev/null | grep -c '^[0-9]'; }

start_shim "$OUT/restarts.log" "$cfg"
if ! wait_node /dev/ik_buggy 60; then
	echo "# the first driver VM did not export ik_buggy"
	show_logs restarts
	stop_shim
	exit 1
fi
# The campaign's load on the nodes (IKERNEL_RESTARTS_LOAD=0: none).
[ "${IKERNEL_RESTARTS_LOAD:-1}" = 0 ] || start_load
slabs >"$OUT/restarts.slab.first"
printf '# %3s %7s %7s %7s %6s %6s %7s %6s %6s %4s %4s %4s %8s\n' gen setup_s \
	ready_s free_mb slab_mb sunrec vmalloc kstack ptable fds thr vms kmemleak
for i in $(seq 0 "$N"); do
	# (A generation that dies in boot under nested TCG has no row.)
	g=$(ready_generation "$OUT/restarts.log")
	wait_node /dev/ik_buggy 30
	printf '  %3s %7s %7s %7s %6s %6s %7s %6s %6s %4s %4s %4s %8s\n' "$g" \
		"$(setup_s "$g")" "$(ready_s "$g")" "$(meminfo MemFree)" \
		"$(meminfo Slab)" "$(meminfo SUnreclaim)" "$(meminfo VmallocUsed)" \
		"$(meminfo KernelStack)" "$(meminfo PageTables)" \
		"$(ls /proc/"$SHIM_PID"/fd | wc -l)" "$(ls /proc/"$SHIM_PID"/task | wc -l)" \
		"$(kvm_vms)" "$(slab_active kmemleak_object)"
	[ "$i" -lt "$N" ] || break
	"$CALL" -w 60 -d /dev/ik_buggy oops >/dev/null 2>&1
	if ! wait_generation "$OUT/restarts.log" $((g + 1)) 300; then
		echo "# no generation after $g became READY in 300 s"
		break
	fi
done
slabs >"$OUT/restarts.slab.last"
[ -n "${LOAD_PID:-}" ] && stop_load
stop_shim
[ -n "${LOAD_PID:-}" ] && echo "# load: $(cat "$OUT/load.status")"
echo "# slab caches that grew most (KiB, first READY to last):"
join "$OUT/restarts.slab.first" "$OUT/restarts.slab.last" |
	awk '{ d = ($3 - $2) / 1024; if (d > 0) printf "%-28s %9.0f\n", $1, d }' |
	sort -k2 -n -r | head -n 10 | sed 's/^/#   /'
echo "# kernel threads with the most CPU time (s):"
# Kernel threads are the children of kthreadd (pid 2), and kthreadd.
ps -eo pid=,ppid=,time=,comm= |
	awk '$1 == 2 || $2 == 2 {
		n = split($3, t, /[-:]/)
		s = t[n] + 60 * t[n - 1] + 3600 * t[n - 2] + (n > 3 ? 86400 * t[1] : 0)
		print s, $4
	}' | sort -n -r | head -n 8 | sed 's/^/#   /'
