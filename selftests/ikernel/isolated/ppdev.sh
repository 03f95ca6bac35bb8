#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The iKernel LED demo, isolated: parport_pc and ppdev, unchanged, in a
# driver VM whose ports 0x378-0x37a are handed through to the test VM's
# parallel port; /dev/parport0 of the driver VM is /dev/ik_parport0 on the
# host, and ppblink (samples/ppdev_blink) runs there against it.  QEMU
# records each strobed data byte in $IVT_LPT_OUT (see ppdev_native.sh), so
# the file must gain exactly ppblink's bytes.  The file may be shared with
# other tests: only what it gains during the run counts, and a test VM
# booted meanwhile with the same file (run-in-vm.sh truncates it) spoils
# the check, which then says so.
#
# ppblink uses PPCLAIM and PPRELEASE (_IO), PPWDATA and PPWCONTROL (_IOW, one
# byte) and, with -v, PPRDATA (_IOR, one byte, copied back): all encode
# their direction and size, so the export needs no [[export.ioctl]] table.
. "$(dirname "$0")/lib.sh"
t_plan 9
ppblink=${PPBLINK:-$ROOT/build/ppdev_blink/ppblink}
lpt=${IVT_LPT_OUT:-$OUT/lpt.out}
dev=/dev/ik_parport0
# hex_from FILE OFFSET: the bytes of FILE from OFFSET on, as "01 02 ...".
hex_from() { tail -c +$(($2 + 1)) "$1" | od -An -v -tx1 | xargs; }
# check_new DESC: the file gained exactly $want since offset $off.
check_new() {
	local got size
	size=$(stat -c %s "$lpt")
	got=$(hex_from "$lpt" "$off")
	if [ "$got" = "$want" ]; then
		t_ok "$1 ($want)"
		return
	fi
	t_not_ok "$1"
	t_diag "expected: $want"
	t_diag "got:      ${got:-(nothing)}"
	[ "$size" -lt "$off" ] &&
		t_diag "$lpt shrank from $off to $size bytes: truncated by someone else (a test VM booted meanwhile with the same file?)"
}

load_kvm
if [ ! -x "$ppblink" ] || [ ! -f "$lpt" ]; then
	t_not_ok "ppblink ($ppblink) and QEMU's parallel-port file ($lpt) present (run-in-vm.sh provides both)"
	t_done
fi
t_ok "ppblink and QEMU's parallel-port file $lpt present"
# udev loads them for the test VM's own port; they would drive it too.
for m in ppdev lp parport_pc; do
	grep -q "^$m " /proc/modules && t_diag "$m is loaded in the test VM: unloading it" && rmmod $m
done

# A pattern of this run: two bytes of the pid, two fixed, two random.
pattern=$(printf '0x%02x 0x%02x 0x49 0x4b 0x%02x 0x%02x 0x00 0xff 0xa5 0x5a' \
	$(($$ >> 8 & 255)) $(($$ & 255)) $((RANDOM & 255)) $((RANDOM & 255)))
want=$(printf '%s\n' $pattern | sed 's/^0x//' | xargs)
nbytes=$(wc -w <<<"$pattern")

cfg=$OUT/ppdev.toml
write_config "$cfg" ppdev "
[[module]]
name = \"parport_pc\"
params = \"io=0x378 irq=none\"

[[module]]
name = \"ppdev\"

[[ports]]
base = 0x378
count = 3

[[export]]
guest_path = \"/dev/parport0\"
host_name = \"ik_parport0\"
mode = 0o600
owner = \"root:root\"
"
size0=$(stat -c %s "$lpt")
start_shim "$OUT/ppdev.log" "$cfg"
if ! wait_node $dev 30; then
	t_not_ok "driver VM exports $dev"
	show_logs ppdev
	stop_shim
	t_done
fi
t_ok "driver VM exports $dev ($(stat -c '%a %U:%G' $dev))"
if grep -q "port hand-through" "$OUT/ppdev.log"; then
	grep "port hand-through" "$OUT/ppdev.log" | sed 's/^/# shim: /'
fi
grep -ai parport "$OUT/ppdev.console.log" | tr -d '\r' | sed 's/^/# driver VM: /'

# Whatever parport_pc's probe did to the port; the run is measured from here.
off=$(stat -c %s "$lpt")
t_diag "the driver VM's boot added $((off - size0)) bytes to $lpt (now $off)"
# shellcheck disable=SC2086 # the bytes are separate arguments
o=$("$ppblink" -s -v -d 10 $dev $pattern 2>&1)
rc=$?
printf '%s\n' "$o" | sed 's/^/# ppblink: /'
# Under TCG a nested driver VM now and then dies of a silent triple fault
# (Documentation/building.rst, "The test VM").  If generation 1 died of
# that while ppblink ran, the run is repeated once on generation 2, from
# what the file holds then; any other failure stands.
if [ $rc != 0 ] &&
	[ "$(ev_count "$OUT/ppdev.log" down '.generation == 1 and .cause == "triple_fault"')" != 0 ]; then
	t_diag "generation 1 died of the TCG triple-fault flake during ppblink: once more on generation 2"
	if wait_generation "$OUT/ppdev.log" 2 120 && wait_node $dev 30; then
		off=$(stat -c %s "$lpt")
		# shellcheck disable=SC2086 # the bytes are separate arguments
		o=$("$ppblink" -s -v -d 10 $dev $pattern 2>&1)
		rc=$?
		printf '%s\n' "$o" | sed 's/^/# ppblink (generation 2): /'
	fi
fi
t_check "ppblink -s -v $dev $pattern exits 0" [ $rc = 0 ]
t_check "ppblink says it wrote $nbytes bytes (strobed)" \
	grep -qx "ppblink: wrote $nbytes bytes to $dev (strobed)" <<<"$o"
t_check "ppblink drew $nbytes LED rows" [ "$(grep -c '^0x[0-9a-f][0-9a-f]  [.*]\{8\}$' <<<"$o")" = "$nbytes" ]
check_new "QEMU's parallel-port file gained exactly the pattern"

stop_shim
t_check "the shim shut down in order" [ "$SHIM_RC" = 0 ]
t_check "$dev is gone with its channel" [ ! -e $dev ]
check_new "nothing more recorded after ppblink, shutdown included"
[ "$t_fail" = 0 ] || show_logs ppdev
t_diag "ppdev.sh: ${SECONDS}s"
t_done
