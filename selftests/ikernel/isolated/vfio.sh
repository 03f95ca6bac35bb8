#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Issue 20: a NIC of the test VM handed to a driver VM through VFIO, its
# DMA confined by the (emulated) IOMMU.  run-in-vm.sh vfio boots the test
# VM on q35 with QEMU's intel-iommu, two e1000 NICs and an e1000e on one
# hub, and intel_iommu=on.  This script, inside it:
#
# 1. finds the two e1000 functions and their IOMMU groups, and the e1000e;
# 2. moves one e1000 (the peer) into a network namespace with 10.99.0.1
#    and 10.98.0.1;
# 3. binds the other e1000 and the e1000e to vfio-pci;
# 4. the reference: boots the test kernel under QEMU with KVM (nested) and
#    -device vfio-pci,host=BDF for both, with a busybox initramfs that
#    brings up eth0 as 10.99.0.2 and eth1 (e1000e) as 10.98.0.2 and pings
#    the peer through each;
# 5. the same with ivt-shim's [[pci]] hand-through: the driver VM's e1000
#    and e1000e drivers ping the peer in two generations (the first made
#    to panic);
# 6. a compromised driver in the driver VM aims the NIC's receive DMA at
#    the shared window: the IOMMU must block it (a DMAR fault here);
# 7. checks the peer's counters and the host's kernel log.
#
# IKERNEL_VFIO_QEMU_OPTS adds options to the nested QEMU (to try other
# interrupt set-ups); IKERNEL_VFIO_QEMU=0 skips step 4 (its checks fail).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net-lib.sh"
load_kvm_modules
log=$OUT/vfio
mkdir -p "$log"
rm -rf "${log:?}"/*

t_check "the test VM has an IOMMU (intel_iommu=on: /sys/class/iommu)" \
	eval '[ -n "$(ls /sys/class/iommu 2>/dev/null)" ]'
net_setup
nics=("${NICS[@]}")
t_diag "e1000 functions: ${nics[*]}"
t_check "two e1000 NICs (82540EM)" [ ${#nics[@]} = 2 ]
pass=$PASS
group=$(basename "$(readlink "/sys/bus/pci/devices/$pass/iommu_group" 2>/dev/null)" 2>/dev/null)
t_diag "to hand through: $pass (IOMMU group $group: $(ls "/sys/kernel/iommu_groups/$group/devices" 2>/dev/null | tr '\n' ' '))"
t_check "the NIC to hand through has an IOMMU group of its own" \
	eval '[ "$(ls /sys/kernel/iommu_groups/$group/devices | wc -l)" = 1 ]'

# The peer: the test VM's own e1000 driver, in a namespace (net_setup).
peerif=$PEERIF
t_check "the peer NIC $peerif is up in namespace peer" \
	eval 'ip -n peer -br link show "$peerif" | grep -q UP'

# The e1000e (82574L, PCIe, with MSI), handed through beside the e1000 to
# the driver VM of step 5; the peer has 10.98.0.1 for it.
pass2=$NATIVE
t_check "an e1000e NIC (82574L) as well: ${pass2:-none}" [ -n "$pass2" ]

# The others to vfio-pci (to_vfio: net-lib.sh).
to_vfio "$pass"
[ -n "$pass2" ] && to_vfio "$pass2"
drv=$(basename "$(readlink "/sys/bus/pci/devices/$pass/driver" 2>/dev/null)" 2>/dev/null)
t_check "$pass is bound to vfio-pci (driver: $drv)" [ "$drv" = vfio-pci ]
t_check "/dev/vfio/$group exists" [ -c "/dev/vfio/$group" ]

# The nested guest: busybox, one NIC, a ping.
rd=$log/initramfs
mkdir -p "$rd/bin" "$rd/proc" "$rd/sys" "$rd/dev"
cp /bin/busybox "$rd/bin/busybox"
e1000e_ko=$(find "$IVT_KDIR/.virtme_mods/lib/modules/" -path '*/kernel/*' -name e1000e.ko | head -n 1)
cp "$e1000e_ko" "$rd/e1000e.ko"
cat >"$rd/init" <<'SH'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "VFIO-GUEST: nics: $(ls /sys/class/net | tr '\n' ' ')"
ip link set lo up
ip link set eth0 up
ip addr add 10.99.0.2/24 dev eth0
i=0
while [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ] && [ $i -lt 20 ]; do
	sleep 1
	i=$((i + 1))
done
echo "VFIO-GUEST: carrier $(cat /sys/class/net/eth0/carrier 2>/dev/null) after $i s"
ping -c 5 -W 5 10.99.0.1
echo "VFIO-GUEST: PING-RESULT $?"
ip -s link show eth0
# The e1000e, made to use MSI (IntMode=1), which it tests when it opens.
insmod /e1000e.ko IntMode=1
echo 1 >/proc/sys/net/ipv4/conf/all/arp_ignore
ip link set eth1 up
ip addr add 10.98.0.2/24 dev eth1
sleep 3
ping -c 3 -W 5 10.98.0.1
echo "VFIO-GUEST: PING-E1000E $?"
grep eth1 /proc/interrupts | sed 's/^/VFIO-GUEST: /'
dmesg | grep -i 'msi' | sed 's/^/VFIO-GUEST: /'
poweroff -f
SH
chmod +x "$rd/init"
(cd "$rd" && find . | cpio -o -H newc 2>/dev/null | gzip) >"$log/initramfs.cpio.gz"
t_diag "nested VMM: $(qemu-system-x86_64 --version | head -n 1)"
s=$(date +%s)
[ "${IKERNEL_VFIO_QEMU:-1}" = 0 ] ||
timeout 600 qemu-system-x86_64 -accel kvm -cpu host -m 256 -smp 1 -nodefaults \
	-display none -no-reboot -serial "file:$log/guest.log" \
	-kernel "$BZIMAGE" -initrd "$log/initramfs.cpio.gz" \
	-append "console=ttyS0 panic=-1 quiet" \
	-device "vfio-pci,host=$pass" -device "vfio-pci,host=$pass2" ${IKERNEL_VFIO_QEMU_OPTS:-} \
	>"$log/qemu.out" 2>&1
rc=$?
t_diag "nested QEMU exited $rc after $(($(date +%s) - s)) s"
sed 's/^/# qemu: /' "$log/qemu.out" | head -n 20
grep -a 'VFIO-GUEST\|packets\|e1000\|DMAR\|vfio' "$log/guest.log" | head -n 30 | sed 's/^/# guest: /'
t_check "the nested guest saw the handed-through e1000 (eth0)" \
	grep -aq 'VFIO-GUEST: nics:.*eth0' "$log/guest.log"
t_check "the nested guest pinged the peer through it (5 of 5)" \
	grep -aq 'VFIO-GUEST: PING-RESULT 0' "$log/guest.log"
t_check "the nested guest pinged the peer through the e1000e too" \
	grep -aq 'VFIO-GUEST: PING-E1000E 0' "$log/guest.log"
ip -n peer -s link show "$peerif" >"$log/peer-stats" 2>&1
sed 's/^/# peer: /' "$log/peer-stats"

# The same NIC handed to a driver VM by ivt-shim ([[pci]], vfio.rs): the
# unmodified e1000 driver of the driver-VM kernel probes it on the shim's
# emulated PCI bus, takes INTx through KVM's irqfd, does DMA into guest
# RAM through the IOMMU, and pings the peer from the driver VM's own
# stack: its /init runs the script below on every boot, before it says
# it is ready (ready = "console").  The first generation then panics (test
# hook), so the second boot checks
# that the hand-through survives a restart: DMA unmapped and mapped
# again, bus mastering cleared, INTx unmasked for the new guest.
ping_script='( i=0; while [ ! -e /sys/class/net/eth1 ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
  echo "NIC-GUEST: nics: $(ls /sys/class/net | tr "\n" " ")"
  echo 1 >/proc/sys/net/ipv4/conf/all/arp_ignore
  ip link set lo up; ip link set eth0 up; ip addr add 10.99.0.2/24 dev eth0
  ip link set eth1 up; ip addr add 10.98.0.2/24 dev eth1
  i=0; while [ "$(cat /sys/class/net/eth0/carrier /sys/class/net/eth1/carrier 2>/dev/null)" != "$(printf "1\n1")" ] && [ $i -lt 40 ]; do sleep 0.5; i=$((i + 1)); done
  ping -c 5 -W 5 10.99.0.1; echo "NIC-GUEST: PING-RESULT $?"
  ping -c 5 -W 5 10.98.0.1; echo "NIC-GUEST: PING-E1000E $?"
  grep -E "e1000|eth" /proc/interrupts | sed "s/^/NIC-GUEST: /"
  dmesg | grep -iE "msi|legacy" | sed "s/^/NIC-GUEST-DMESG: /"
  grep -qw ikernel_test_panic /proc/cmdline ||
    { /bin/dma_escape /sys/bus/pci/devices/0000:00:01.0/resource0 0xd0000000; echo "NIC-GUEST: DMA-AIMED $?";
      ( sleep 20; /bin/dma_escape /sys/bus/pci/devices/0000:00:01.0/resource0 0xd0000000 ) & } )'
name=vfio-shim
cfg=$OUT/$name.toml
IVT_READY=console IVT_IMAGE_EXTRA="run = ['''$ping_script''']
[[image.file]]
src = \"$SELF/dma_escape\"
dst = \"/bin/dma_escape\"
mode = 0o755" write_config "$cfg" "$name" "
[[module]]
name = \"e1000e\"

[[pci]]
host = \"$pass\"

[[pci]]
host = \"$pass2\""
slog=$OUT/$name.log
rm -f "$(events_file "$slog")"
"$IVT_SHIM" run --no-host-stub --test-panic-generation 1 --events "$(events_file "$slog")" \
	"$cfg" >"$slog" 2>&1 &
SHIM_PID=$!
# The host side of the functions' interrupts (the vfio-intx and vfio-msi
# lines of /proc/interrupts) while the shim runs.
(while kill -0 "$SHIM_PID" 2>/dev/null; do grep vfio /proc/interrupts; sleep 0.05; done |
	sort -u >"$OUT/$name.vfio-irqs") &
irq_poller=$!
pings() { grep -ac "NIC-GUEST: PING-RESULT ${1:-0}" "$OUT/$name.console.log" 2>/dev/null; }
two_pings() { [ "$(pings)" -ge 2 ]; }
two_tries() { [ "$(pings '[0-9]')" -ge 2 ] || ! kill -0 "$SHIM_PID" 2>/dev/null; }
wait_for "${IKERNEL_VFIO_WAIT:-600}" two_tries
# A shim that is still running without having pinged twice is stuck: show
# where each of its threads waits in the kernel.
if kill -0 "$SHIM_PID" 2>/dev/null && ! two_tries; then
	for task in /proc/"$SHIM_PID"/task/*; do
		t_diag "stuck shim thread $(cat "$task/comm"): wchan $(cat "$task/wchan")"
		sed 's/^/#     /' "$task/stack" 2>/dev/null | head -n 12
	done
fi
t_diag "pings answered in full, by generation: $(pings)"
grep -a 'pci \|INTx\|DMA' "$slog" | head -n 5 | sed 's/^/# shim: /'
grep -a 'NIC-GUEST\|e1000' "$OUT/$name.console.log" | head -n 24 | sed 's/^/# driver VM: /'
t_check "ivt-shim handed $pass to the driver VM as 00:01.0 with BAR0 mapped and INTx on GSI 16" \
	grep -aq "pci $pass (8086:100e) as guest 00:01.0: BAR0 mem32 0x20000 mapped, BAR1 io 0x40 trapped; INTx pin 1 on GSI 16; MSI none" "$slog"
t_check "ivt-shim handed $pass2 to the driver VM as 00:02.0 with MSI on GSI 25" \
	grep -aq "pci $pass2 (8086:10d3) as guest 00:02.0: .*; MSI on GSI 25" "$slog"
t_check "the driver VM's e1000 driver probed it (eth0)" \
	grep -aq 'NIC-GUEST: nics:.*eth0' "$OUT/$name.console.log"
t_check "generation 1 pinged the peer through it (5 of 5)" [ "$(pings)" -ge 1 ]
wait_for 120 generation_ready "$slog" 2
t_check "generation 1 was made to panic and generation 2 came up" generation_ready "$slog" 2
t_check "generation 2 pinged the peer through it (5 of 5) after the restart" two_pings
"$IVT_SHIM" run --no-host-stub "$cfg" >"$OUT/$name-second.log" 2>&1
rc=$?
sed 's/^/# second shim: /' "$OUT/$name-second.log" | tail -n 2
t_check "a second shim for the same function is refused as a conflict (exit 4, status $rc)" \
	eval '[ $rc = 4 ] && grep -q "PCI function $pass" "$OUT/$name-second.log"'
t_check "its interrupts came through INTx (IO-APIC, level)" \
	grep -aq 'NIC-GUEST: .*IO-APIC.*fasteoi.*eth0' "$OUT/$name.console.log"
e1000e_pings() { grep -ac 'NIC-GUEST: PING-E1000E 0' "$OUT/$name.console.log"; }
t_check "the e1000e (eth1) pinged the peer in both generations" [ "$(e1000e_pings)" = 2 ]
# MSI: the e1000e enables it and tests it with one interrupt.  Here, under
# nested TCG, that interrupt never reaches the host's VFIO handler (its
# count stays 0), with QEMU's vfio-pci (step 4) as with the shim, so the
# driver falls back to INTx in both; what is checked is the shim's part
# up to VFIO.
t_check "the e1000e's driver enabled the emulated MSI and the shim routed it" \
	grep -aq "pci $pass2: guest MSI on, address 0xfee" "$slog"
t_check "after its MSI self-test the e1000e's interrupts came through INTx (IO-APIC)" \
	grep -aq 'NIC-GUEST: .*IO-APIC.*eth1' "$OUT/$name.console.log"
grep -a 'NIC-GUEST-DMESG: .*e1000e' "$OUT/$name.console.log" | sed 's/^/# driver VM: /' | head -n 4

# A compromised driver: generation 2 (the one without the test panic) runs
# dma_escape after its pings, pointing the NIC's receive ring at the
# window's guest-physical address, which the driver VM can reach but its
# DMA must not.  A frame from the peer then makes the NIC fetch a
# descriptor there: the IOMMU of the test VM (this host) must block it
# and report a DMAR fault, and nothing else may happen to the host.
aimed() { grep -aq 'NIC-GUEST: DMA-AIMED 0' "$OUT/$name.console.log"; }
wait_for 120 aimed
grep -a 'dma_escape:' "$OUT/$name.console.log" | sed 's/^/# driver VM: /'
t_check "the driver VM aimed the NIC's receive DMA at the window (0xd0000000)" aimed
faults_before=$(dmesg --kernel | grep -c 'DMAR: \[DMA')
ip -n peer -s link show "$peerif" | sed 's/^/# peer before: /'
ip netns exec peer busybox ping -c 3 -W 1 10.99.0.2 2>&1 | sed 's/^/# peer ping: /'
ip -n peer -s link show "$peerif" | sed 's/^/# peer after: /'
# "DMAR: [DMA Read NO_PASID] Request device [0000:00:0a.0] fault addr
# 0xd0000000 [fault reason 0x06] PTE Read access is not set"
dev_re=$(echo "${pass#0000:}" | sed 's/\./\\./g')
dmar_fault() {
	dmesg --kernel | grep -E "DMAR: \[DMA (Read|Write).*\] Request device \[(0000:)?$dev_re\] fault addr 0xd0000" |
		tail -n 1
}
wait_for 20 eval '[ -n "$(dmar_fault)" ]'
ip -n peer neigh | sed 's/^/# peer neigh: /'
t_diag "IOMMU: $(dmar_fault)"
t_check "the IOMMU blocked the NIC's DMA outside the driver VM (DMAR fault at 0xd0000000)" \
	eval '[ -n "$(dmar_fault)" ]'
t_diag "DMAR fault lines: $faults_before before, $(dmesg --kernel | grep -c 'DMAR: \[DMA') after"
t_check "the shim still runs the driver VM after the blocked DMA" kill -0 "$SHIM_PID"
stop_shim
wait "$irq_poller"
t_check "the shim stopped cleanly (status $SHIM_RC)" [ "$SHIM_RC" = 0 ]
grep 'msi' "$OUT/$name.vfio-irqs" | sed 's/^/# host vfio irqs: /' | tail -n 4
t_check "VFIO switched the e1000e to MSI on the host while the guest had it on" \
	grep -q "vfio-msi\[0\]($pass2)" "$OUT/$name.vfio-irqs"
drv=$(basename "$(readlink "/sys/bus/pci/devices/$pass/driver" 2>/dev/null)" 2>/dev/null)
t_diag "after the shim: $pass bound to $drv"
[ $t_fail = 0 ] || show_logs "$name"
ip -n peer -s link show "$peerif" >"$log/peer-stats" 2>&1
sed 's/^/# peer: /' "$log/peer-stats"
dmesg --kernel | grep -i 'DMAR\|vfio\|iommu' | tail -n 20 | sed 's/^/# dmesg: /'
"$SELF/dmesg_test.sh" >"$log/dmesg.tap" 2>&1
t_check "host dmesg: no oops, WARN, BUG, lockdep report or hung task" [ $? = 0 ]
t_plan "$t_n"
t_done
