#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# soak.sh: how often does the driver VM die or stall under load?  Not part
# of make check: a measurement for nested-TCG (or real KVM) runs.
#
#   IKERNEL_SOAK_S=900 selftests/ikernel/isolated/run-in-vm.sh soak
#
# One driver VM serves samples/ikfifo as /dev/ik_fifo (restarted up to 50
# times); fifo_stress rounds (16 processes, IKERNEL_SOAK_N calls each,
# default 1000, deadline IKERNEL_SOAK_T s, default 400) run against it
# back to back for IKERNEL_SOAK_S seconds (default 900).  Prints one line
# per round and a summary: rounds passed and failed, checked calls,
# stress time, and every driver-VM death with its reason.  host_stub's
# statistics line is sampled every 10 s into build/ivt-shim-tests/
# soak-stats.log; when a round runs 200 s, the kernel stacks of the stress
# processes and of the shim's threads go to soak-ROUND.stacks.
# IKERNEL_SOAK_KVM passes parameters to kvm_amd (e.g. "vgif=0"), and
# IKERNEL_SOAK_CMDLINE adds to the driver VM's command line.
. "$(dirname "$0")/lib.sh"
if [ -n "${IKERNEL_SOAK_KVM:-}" ]; then
	modprobe kvm_amd $IKERNEL_SOAK_KVM || modprobe kvm_intel $IKERNEL_SOAK_KVM
fi
load_kvm
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
soak_s=${IKERNEL_SOAK_S:-900}
calls_per=${IKERNEL_SOAK_N:-1000}
deadline=${IKERNEL_SOAK_T:-400}
echo "# soak: ${soak_s} s of fifo_stress -p 16 -n $calls_per; $(nproc) CPUs; kvm: $(
	cd /sys/module/kvm_amd/parameters 2>/dev/null && for p in vgif npt nrips avic; do
		printf '%s=%s ' $p "$(cat $p 2>/dev/null)"; done)"
cfg=$OUT/soak.toml
write_config "$cfg" soak "$(ikfifo_export)"
sed -i 's/^max_restarts = 2$/max_restarts = 50/' "$cfg"
[ -n "${IKERNEL_SOAK_CMDLINE:-}" ] &&
	sed -i "/^memory_mib/a cmdline = \"$IKERNEL_SOAK_CMDLINE\"" "$cfg"
: >"$OUT/soak-stats.log"
start_shim "$OUT/soak.log" "$cfg"
end=$(($(date +%s) + soak_s))
r=0 ok=0 bad=0 calls=0 secs=0
while [ "$(date +%s)" -lt $end ]; do
	wait_node /dev/ik_fifo 300 || { echo "# no /dev/ik_fifo for 300 s"; break; }
	r=$((r + 1))
	t0=$(date +%s)
	"$SELF/fifo_stress" -d /dev/ik_fifo -p 16 -T "$deadline" -n "$calls_per" >"$OUT/soak-$r.tap" 2>&1 &
	sp=$!
	i=0
	while kill -0 $sp 2>/dev/null; do
		[ $((i % 10)) = 0 ] &&
			echo "$r $i s: $(grep '^export ik_fifo ' /sys/kernel/debug/ikernel/stats)" >>"$OUT/soak-stats.log"
		if [ $i = 200 ]; then
			for p in $(pgrep -x fifo_stress) $(pgrep -x ivt-shim); do
				for t in /proc/$p/task/*; do
					echo "== $t $(cat $t/comm) $(cat $t/wchan)"
					cat $t/stack
				done
			done >"$OUT/soak-$r.stacks" 2>&1
		fi
		sleep 1
		i=$((i + 1))
	done
	wait $sp
	rc=$?
	secs=$((secs + $(date +%s) - t0))
	c=$(sed -n 's/^# \([0-9]*\) calls in.*/\1/p' "$OUT/soak-$r.tap")
	calls=$((calls + ${c:-0}))
	if [ $rc = 0 ]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
	echo "# round $r: exit $rc; $(grep -h 'calls in\|returned\|timed out' "$OUT/soak-$r.tap" | sed 's/^# //' | tr '\n' ' ')"
	# A failed round: let the shim restart the driver VM.
	[ $rc = 0 ] || sleep 5
done
echo "# soak: $r rounds, $ok passed, $bad failed; $calls checked calls in $secs s of stress"
echo "# driver-VM deaths: $(ev_count "$OUT/soak.log" down)"
ev "$OUT/soak.log" 'select(.event == "down") | "generation \(.generation): \(.detail)"' | sed 's/^/#   /'
stop_shim
