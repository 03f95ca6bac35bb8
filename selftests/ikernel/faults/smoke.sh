#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The fault tests' set-up works: the host runs the faults kernel with KASAN,
# kmemleak and lockdep active; the host_stub and ikfifo built against it
# load; a driver VM on the default kernel exports ikfifo and fifo_test gives
# the same transcript through it as natively; and afterwards kmemleak finds
# no new leak and the kernel log has no report.
. "$(dirname "$0")/lib.sh"
start=$(date +%s)
t_plan 16
t_diag "host kernel $(uname -r), up $(cut -d' ' -f1 /proc/uptime) s at test start"
[ -n "${FAULTS_T0:-}" ] &&
	t_diag "test VM boot: $(( $(date +%s) - FAULTS_T0 )) s from vm-run to the test (wall clock)"
t_diag "driver VMs boot $BZIMAGE"

t_check "KASAN is initialised (dmesg)" kasan_on
t_check "kmemleak is active ($KMEMLEAK)" kmemleak_on
t_check "lockdep is active and has not turned itself off" lockdep_on
s0=$(date +%s)
kmemleak_baseline
t_check "kmemleak baseline scan (forgot ${KMEMLEAK_FORGOTTEN:-?} boot-time suspects, $(( $(date +%s) - s0 )) s)" \
	[ -n "${KMEMLEAK_FORGOTTEN:-}" ]
dmesg_mark smoke

t_check "ikernel_host.ko of the faults build is KASAN-instrumented" ko_kasan "$HOST_KO"
t_check "it loads (/dev/ikernel)" load_host_stub
load_kvm_modules

# Native, with the ikfifo built for this kernel.
ko=$FAULTS_MODULES/samples/ikfifo/ikfifo.ko
insmod "$ko" && wait_node /dev/ikfifo 10
"$SELF/fifo_test" -d /dev/ikfifo -t "$OUT/smoke-native.txt" >"$OUT/smoke-native.tap" 2>&1
t_check "fifo_test passes against the native ikfifo (faults build)" [ $? = 0 ]
rmmod ikfifo

# Isolated: the default kernel and the default in-tree ikfifo.ko in the
# driver VM.
cfg=$OUT/smoke.toml
write_config "$cfg" smoke "$(ikfifo_export legacy)"
s0=$(date +%s)
start_shim "$OUT/smoke.log" "$cfg"
if wait_node /dev/ik_fifo 30; then
	t_ok "driver VM exports /dev/ik_fifo ($(( $(date +%s) - s0 )) s)"
	"$SELF/fifo_test" -d /dev/ik_fifo -t "$OUT/smoke-isolated.txt" >"$OUT/smoke-isolated.tap" 2>&1
	rc=$?
	t_check "fifo_test passes against the isolated ikfifo" [ $rc = 0 ]
	[ $rc = 0 ] || grep -v '^ok' "$OUT/smoke-isolated.tap" | sed 's/^/# /' | head -n 40
	t_check "native and isolated transcripts are identical" \
		diff -q "$OUT/smoke-native.txt" "$OUT/smoke-isolated.txt"
	echo smoke >"$OUT/smoke-payload"
	for i in 1 2 3; do cat "$OUT/smoke-payload" >/dev/ik_fifo; done
	t_check "three writes and a read through /dev/ik_fifo" \
		[ "$(timeout 10 head -c 18 /dev/ik_fifo)" = "$(printf 'smoke\nsmoke\nsmoke\n')" ]
else
	t_not_ok "driver VM exports /dev/ik_fifo"
	t_skip "no node"; t_skip "no node"; t_skip "no node"
	show_logs smoke
fi
stop_shim
t_check "the shim shut down in order" [ "$SHIM_RC" = 0 ]

s0=$(date +%s)
kmemleak_check smoke-shim >"$OUT/kmemleak-smoke-shim.out"
rc=$?
t_check "kmemleak: no new leak after the driver VM ($(( $(date +%s) - s0 )) s)" [ $rc = 0 ]
[ $rc = 0 ] || sed 's/^/# /' "$OUT/kmemleak-smoke-shim.out"
t_check "rmmod ikernel_host" rmmod ikernel_host
kmemleak_check smoke-rmmod >"$OUT/kmemleak-smoke-rmmod.out"
rc=$?
t_check "kmemleak: no new leak after rmmod ikernel_host" [ $rc = 0 ]
[ $rc = 0 ] || sed 's/^/# /' "$OUT/kmemleak-smoke-rmmod.out"

dmesg_sound smoke >"$OUT/dmesg-smoke.out"
rc=$?
t_check "dmesg: no KASAN, lockdep, hung-task, kmemleak, WARN or BUG report" [ $rc = 0 ]
[ $rc = 0 ] || sed 's/^/# /' "$OUT/dmesg-smoke.out"
t_diag "smoke test: $(( $(date +%s) - start )) s"
t_done
