#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo-led.sh: the iKernel LED demo, end to end; runs inside the test VM
# (booted with QEMU's "-parallel file:FILE"), as root.
#
# The parallel-port drivers parport_pc and ppdev, unchanged, run in a driver
# VM under ivt-shim, with the port's I/O range (0x378-0x37a) handed through
# to the test VM's parallel port.  The driver VM's /dev/parport0 appears
# here as /dev/ik_parport0, and ppblink (samples/ppdev_blink) blinks the
# "LEDs" on its data lines through it, strobing each byte, which QEMU
# appends to FILE.  The demo shows the bytes FILE gained and whether they are
# ppblink's.
#
# Environment:
#   IVT_LPT_OUT    FILE, QEMU's parallel-port file as seen in the test VM
#                  (required)
#   IKERNEL_KDIR   kernel build tree of the driver VM (or IVT_KDIR; default:
#                  the newest complete default-flavour one in
#                  ~/.cache/ikernel/build)
#   DEMO_DELAY_MS  delay between bytes (default 300)
#
# Exit status: 0 if the recorded bytes are exactly ppblink's, else 1.
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$repo/build/demo-led
shim=$repo/target/release/ivt-shim
ppblink=$repo/build/ppdev_blink/ppblink
node=/dev/ik_parport0
delay=${DEMO_DELAY_MS:-300}
# ppblink's default blink sequence.
want="01 02 04 08 10 20 40 80 55 aa"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo-led: $*" >&2; exit 1; }
indent() { sed 's/^/  /'; }

lpt=${IVT_LPT_OUT:-}
[ -n "$lpt" ] && [ -f "$lpt" ] ||
	die "IVT_LPT_OUT (${lpt:-unset}) is not a file: boot the test VM with -parallel file:FILE and pass IVT_LPT_OUT=FILE"
kdir=${IKERNEL_KDIR:-${IVT_KDIR:-}}
if [ -z "$kdir" ]; then
	for d in $(ls -dt "$HOME"/.cache/ikernel/build/*-default-*/ 2>/dev/null); do
		if [ -f "$d/.ikernel-complete" ]; then kdir=${d%/}; break; fi
	done
fi
[ -f "$kdir/arch/x86/boot/bzImage" ] || die "no kernel build (set IKERNEL_KDIR)"
[ -x "$shim" ] || die "no $shim (cargo build --release -p ivt-shim)"
[ -x "$repo/build/served/ikernel-served" ] || die "no ikernel-served (make served)"
if [ ! -x "$ppblink" ]; then
	make -s -C "$repo/samples/ppdev_blink" >/dev/null || die "cannot build ppblink"
fi

step "the iKernel LED demo: parport_pc + ppdev in a driver VM, ppblink on the host"
echo "  the test VM's parallel port (0x378) is recorded by QEMU to $lpt"
echo "  (QEMU keeps a data byte when STROBE is pulsed, as a printer would)"

step "loading KVM and host_stub"
modprobe kvm_amd 2>/dev/null || modprobe kvm_intel || die "cannot load KVM"
if [ ! -e /dev/ikernel ]; then
	insmod "$repo/host_stub/ikernel_host.ko" || die "cannot load host_stub"
fi
ls -l /dev/kvm /dev/ikernel | indent
# udev may have loaded the parallel-port drivers for the test VM's port.
for m in ppdev lp parport_pc parport; do
	grep -q "^$m " /proc/modules && rmmod "$m"
done
pp_mods() {
	local m
	m=$(grep -o -E '^(parport[a-z_]*|ppdev|lp) ' /proc/modules | xargs)
	echo "${m:-none}"
}
echo "  parallel-port drivers loaded here: $(pp_mods)"

step "the driver VM: ivt-shim configuration"
mkdir -p "$out"
export IKERNEL_IMAGE_CACHE=$out/images
cfg=$out/led.toml
cat >"$cfg" <<TOML
# The iKernel LED demo's driver VM; written by scripts/demo-led.sh.
[vm]
kernel = "$kdir/arch/x86/boot/bzImage"
memory_mib = 128
console_log = "$out/driver-vm.console.log"

[image]
guest_stub = "$repo/guest_stub/ikernel_guest.ko"

[restart]
max_restarts = 1
backoff_initial_ms = 200
ready_timeout_s = 600

[[module]]                      # the unmodified in-tree drivers
name = "parport_pc"
params = "io=0x378 irq=none"

[[module]]
name = "ppdev"

[[ports]]                       # the port, handed through to this machine
base = 0x378
count = 3

[[export]]                      # /dev/parport0 of the driver VM ...
guest_path = "/dev/parport0"
host_name = "ik_parport0"       # ... is /dev/ik_parport0 here
mode = 0o600
owner = "root:root"
TOML
rm -f "$out/driver-vm.console.log"
grep -v '^#' "$cfg" | indent

step "starting ivt-shim (the driver VM boots; nested KVM under TCG: 15-60 s)"
size0=$(stat -c %s "$lpt")
"$shim" run "$cfg" >"$out/shim.log" 2>&1 &
shim_pid=$!
stop() {
	local i=0
	kill -TERM "$shim_pid" 2>/dev/null
	while kill -0 "$shim_pid" 2>/dev/null && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
	kill -KILL "$shim_pid" 2>/dev/null
	wait "$shim_pid"
}
i=0
while [ ! -c "$node" ] && kill -0 "$shim_pid" 2>/dev/null && [ $i -lt 600 ]; do
	sleep 1
	i=$((i + 1))
done
if [ ! -c "$node" ]; then
	echo "  $node did not appear; the shim's log:"
	indent <"$out/shim.log"
	echo "  the driver VM's console:"
	tail -n 20 "$out/driver-vm.console.log" | tr -d '\r' | indent
	stop
	exit 1
fi
indent <"$out/shim.log"
i=0
while ! grep -aq '^IKERNEL-READY' "$out/driver-vm.console.log" && [ $i -lt 20 ]; do sleep 0.5; i=$((i + 1)); done
echo "  the driver VM's console (ikernel and parport lines):"
grep -a -i -E 'ikernel|parport' "$out/driver-vm.console.log" | tr -d '\r' | indent

step "the exported node on the host"
ls -l "$node" | indent
echo "  parallel-port drivers loaded here: $(pp_mods) (they run in the driver VM)"

step "ppblink -s -d $delay $node: blinking the LEDs (D7 left, '*' lit)"
off=$(stat -c %s "$lpt")
"$ppblink" -s -d "$delay" "$node" | indent
rc=${PIPESTATUS[0]}
echo "  ppblink exited with $rc"

step "what QEMU recorded on the parallel port ($lpt)"
sync
size=$(stat -c %s "$lpt")
echo "  the driver VM's boot added $((off - size0)) bytes; ppblink's run added $((size - off)):"
[ "$size" -lt "$off" ] && echo "  $lpt shrank from $off to $size bytes: truncated by someone else?"
tail -c +$((off + 1)) "$lpt" | od -A d -t x1 -v | indent
got=$(tail -c +$((off + 1)) "$lpt" | od -An -v -tx1 | xargs)
echo "  expected: $want"
echo "  recorded: ${got:-(nothing)}"
if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then
	match=1
	printf '  \033[1mMATCH\033[0m: the bytes ppblink wrote to %s reached the port\n' "$node"
else
	match=0
	printf '  \033[1mMISMATCH\033[0m (ppblink exit %s)\n' "$rc"
fi

step "stopping the shim"
stop
echo "  ivt-shim exited with $?"
tail -n 4 "$out/shim.log" | indent
[ -e "$node" ] && echo "  $node still exists!" || echo "  $node is gone"
echo
if [ $match = 1 ]; then
	echo "LED demo done: the pattern matches."
	exit 0
fi
echo "LED demo FAILED: the pattern does not match."
exit 1
