#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Issue 20's first step, before any Rust: can a NIC of the test VM be
# handed to a nested guest through VFIO, with its DMA confined by the
# (emulated) IOMMU, and carry traffic?  run-in-vm.sh vfio boots the test
# VM on q35 with QEMU's intel-iommu and two e1000 NICs on one hub, and
# intel_iommu=on.  This script, inside it:
#
# 1. finds the two e1000 functions and their IOMMU groups;
# 2. moves one (the peer) into a network namespace with 10.99.0.1;
# 3. binds the other to vfio-pci;
# 4. boots the test kernel under QEMU with KVM (nested) and
#    -device vfio-pci,host=BDF, with a busybox initramfs that brings up
#    eth0 as 10.99.0.2 and pings the peer;
# 5. checks the ping, the peer's counters and the host's kernel log.
#
# IKERNEL_VFIO_QEMU_OPTS adds options to the nested QEMU (to try other
# interrupt set-ups).
. "$(dirname "$0")/lib.sh"
load_kvm_modules
log=$OUT/vfio
mkdir -p "$log"
rm -rf "${log:?}"/*

t_check "the test VM has an IOMMU (intel_iommu=on: /sys/class/iommu)" \
	eval '[ -n "$(ls /sys/class/iommu 2>/dev/null)" ]'
nics=()
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x8086 ] && [ "$(cat "$d/device")" = 0x100e ] &&
		nics+=("${d##*/}")
done
t_diag "e1000 functions: ${nics[*]}"
t_check "two e1000 NICs (82540EM)" [ ${#nics[@]} = 2 ]
pass=${nics[0]:-none}
peer=${nics[1]:-none}
group=$(basename "$(readlink "/sys/bus/pci/devices/$pass/iommu_group" 2>/dev/null)" 2>/dev/null)
t_diag "to hand through: $pass (IOMMU group $group: $(ls "/sys/kernel/iommu_groups/$group/devices" 2>/dev/null | tr '\n' ' '))"
t_check "the NIC to hand through has an IOMMU group of its own" \
	eval '[ "$(ls /sys/kernel/iommu_groups/$group/devices | wc -l)" = 1 ]'

# The peer: the test VM's own e1000 driver, in a namespace.
peerif=$(ls "/sys/bus/pci/devices/$peer/net" 2>/dev/null | head -n 1)
ip netns add peer
ip link set "$peerif" netns peer
ip -n peer addr add 10.99.0.1/24 dev "$peerif"
ip -n peer link set lo up
ip -n peer link set "$peerif" up
t_check "the peer NIC $peerif is up in namespace peer" \
	eval 'ip -n peer -br link show "$peerif" | grep -q UP'

# The other to vfio-pci.
modprobe vfio-pci
echo vfio-pci >"/sys/bus/pci/devices/$pass/driver_override"
[ -e "/sys/bus/pci/devices/$pass/driver" ] &&
	echo "$pass" >"/sys/bus/pci/devices/$pass/driver/unbind"
echo "$pass" >/sys/bus/pci/drivers_probe
drv=$(basename "$(readlink "/sys/bus/pci/devices/$pass/driver" 2>/dev/null)" 2>/dev/null)
t_check "$pass is bound to vfio-pci (driver: $drv)" [ "$drv" = vfio-pci ]
t_check "/dev/vfio/$group exists" [ -c "/dev/vfio/$group" ]

# The nested guest: busybox, one NIC, a ping.
rd=$log/initramfs
mkdir -p "$rd/bin" "$rd/proc" "$rd/sys" "$rd/dev"
cp /bin/busybox "$rd/bin/busybox"
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
poweroff -f
SH
chmod +x "$rd/init"
(cd "$rd" && find . | cpio -o -H newc 2>/dev/null | gzip) >"$log/initramfs.cpio.gz"
t_diag "nested VMM: $(qemu-system-x86_64 --version | head -n 1)"
s=$(date +%s)
timeout 600 qemu-system-x86_64 -accel kvm -cpu host -m 256 -smp 1 -nodefaults \
	-display none -no-reboot -serial "file:$log/guest.log" \
	-kernel "$BZIMAGE" -initrd "$log/initramfs.cpio.gz" \
	-append "console=ttyS0 panic=-1 quiet" \
	-device "vfio-pci,host=$pass" ${IKERNEL_VFIO_QEMU_OPTS:-} \
	>"$log/qemu.out" 2>&1
rc=$?
t_diag "nested QEMU exited $rc after $(($(date +%s) - s)) s"
sed 's/^/# qemu: /' "$log/qemu.out" | head -n 20
grep -a 'VFIO-GUEST\|packets\|e1000\|DMAR\|vfio' "$log/guest.log" | head -n 30 | sed 's/^/# guest: /'
t_check "the nested guest saw the handed-through e1000 (eth0)" \
	grep -aq 'VFIO-GUEST: nics:.*eth0' "$log/guest.log"
t_check "the nested guest pinged the peer through it (5 of 5)" \
	grep -aq 'VFIO-GUEST: PING-RESULT 0' "$log/guest.log"
ip -n peer -s link show "$peerif" >"$log/peer-stats" 2>&1
sed 's/^/# peer: /' "$log/peer-stats"
dmesg --kernel | grep -i 'DMAR\|vfio\|iommu' | tail -n 20 | sed 's/^/# dmesg: /'
"$SELF/dmesg_test.sh" >"$log/dmesg.tap" 2>&1
t_check "host dmesg: no oops, WARN, BUG, lockdep report or hung task" [ $? = 0 ]
t_plan "$t_n"
t_done
