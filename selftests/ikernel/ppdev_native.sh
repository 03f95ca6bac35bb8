#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ppdev_native.sh: the parallel-port LED demo (samples/ppdev_blink/ppblink)
# natively on the test VM's parallel port through parport_pc and ppdev,
# checked against the bytes QEMU records for the port.  The baseline for
# the same program on /dev/ik_parport0 with the drivers in a driver VM.
#
#   PPDEV_LPT_OUT=FILE ppdev_native.sh   in a test VM booted with QEMU's
#       "-parallel file:FILE", FILE under the shared build/ directory
#       (ivt_shim/tests/vm/run-in-vm.sh boots such a VM); without
#       PPDEV_LPT_OUT the file checks are skipped, and without a parallel
#       port (plain scripts/vm-run) everything after modprobe is skipped.
#   ppdev_native.sh --boot               on the host: boots its own test VM
#       with the port recorded to build/ppdev_blink/lpt.out, runs itself
#       there, and checks the file once more from the host afterwards.
#
# What QEMU records (hw/char/parallel.c; the file backend is not a real
# parport, so the emulated "software" port is used): a data-register write
# only latches the byte.  A control-register write with INIT and SELECT set
# that raises STROBE (clear before, set now) appends the latched data byte
# to the file.  Nothing else is recorded: no control or status values, no
# unstrobed data.  So ppblink's LED mode (PPWDATA only) leaves the file as
# it is and ppblink -s appends exactly its bytes, one per STROBE pulse.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=$repo/build/ppdev_blink
ppblink=${PPBLINK:-$out/ppblink}
blink_hex="01 02 04 08 10 20 40 80 55 aa"
extra_hex="00 ff 0a 0d 1b 80"
extra_args="0x00 0xff 0x0a 0x0d 0x1b 0x80"

# Bytes of FILE from offset OFF on, as "01 02 ..." (empty if none).
hex_from() { tail -c +$(($2 + 1)) "$1" | od -An -v -tx1 | xargs; }

if [ "${1:-}" = --boot ]; then
	make -s -C "$repo/samples/ppdev_blink" OUTPUT="$out" || exit 1
	kdir=${KDIR:-$("$repo/scripts/build-kernel" --print-only)}
	lpt=$out/lpt.out
	: >"$lpt"
	echo "TAP version 13"
	echo "1..2"
	cd "$repo" || exit 1
	scripts/vm-run --kernel "$kdir" --log "$out/vm-console.log" \
		--timeout "${PPDEV_VM_TIMEOUT:-900}" --qemu-opts "-parallel file:$lpt" -- \
		env PPDEV_LPT_OUT="$lpt" selftests/ikernel/ppdev_native.sh |
		sed 's/^/    /'
	rc=${PIPESTATUS[0]}
	fails=0
	if [ "$rc" = 0 ]; then
		echo "ok 1 ppdev_native.sh in the test VM"
	else
		echo "not ok 1 ppdev_native.sh in the test VM (exit $rc)"
		fails=1
	fi
	got=$(hex_from "$lpt" 0)
	if [ "$got" = "$blink_hex $extra_hex" ]; then
		echo "ok 2 host: $lpt holds exactly the strobed bytes"
	else
		echo "not ok 2 host: $lpt holds exactly the strobed bytes"
		echo "# expected: $blink_hex $extra_hex"
		echo "# got:      $got"
		fails=1
	fi
	exit $fails
fi

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n $*"; failed=$((failed + 1)); }
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }
check() {
	local desc=$1 o
	shift
	if o=$("$@" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc"
		[ -n "$o" ] && printf '%s\n' "$o" | sed 's/^/# /'
	fi
}
# check_hex DESC EXPECTED: the bytes after offset $off are EXPECTED.
check_hex() {
	local got
	got=$(hex_from "$lpt" "$off")
	if [ "$got" = "$2" ]; then
		ok "$1"
	else
		not_ok "$1"
		echo "# expected: ${2:-(nothing)}"
		echo "# got:      ${got:-(nothing)}"
	fi
}
node_present() { for _ in $(seq 50); do [ -c "$1" ] && return 0; sleep 0.1; done; return 1; }
is_ppdev_node() { [ "$(stat -c %Hr "$1")" = 99 ]; }
# run_ppblink EXPECT_RC EXPECT_MSG ARGS...: exit status and message.
run_ppblink() {
	local want_rc=$1 want=$2 o rc
	shift 2
	o=$("$ppblink" "$@" 2>&1)
	rc=$?
	printf '%s\n' "$o"
	[ "$rc" = "$want_rc" ] || { echo "exit $rc, expected $want_rc"; return 1; }
	printf '%s\n' "$o" | grep -qF -- "$want" || { echo "no \"$want\" in the output"; return 1; }
}
# LED mode: the blink sequence drawn D7..D0, then the summary line.
led_mode() {
	local o
	o=$("$ppblink" -v "$dev" 2>&1) || { printf '%s\n' "$o"; return 1; }
	printf '%s\n' "$o"
	[ "$(printf '%s\n' "$o" | grep -c '^0x[0-9a-f][0-9a-f]  [.*]\{8\}$')" = 10 ] &&
		[ "$(printf '%s\n' "$o" | sed -n 1p)" = "0x01  .......*" ] &&
		[ "$(printf '%s\n' "$o" | sed -n 8p)" = "0x80  *......." ] &&
		[ "$(printf '%s\n' "$o" | sed -n 10p)" = "0xaa  *.*.*.*." ] &&
		printf '%s\n' "$o" | grep -qx "ppblink: wrote 10 bytes to $dev"
}

echo "TAP version 13"
echo "1..15"
dev=/dev/parport0
lpt=${PPDEV_LPT_OUT:-}
[ -x "$ppblink" ] || make -s -C "$repo/samples/ppdev_blink" OUTPUT="$out" >/dev/null
check "ppblink built ($ppblink)" test -x "$ppblink"
for m in ppdev parport_pc parport; do
	grep -q "^$m " /proc/modules && rmmod "$m"
done
if [ -n "$lpt" ] && [ -f "$lpt" ]; then
	size0=$(stat -c %s "$lpt")
	ok "QEMU's parallel-port file $lpt is visible in the VM ($size0 bytes)"
else
	size0=
	skip "QEMU's parallel-port file is visible in the VM" "PPDEV_LPT_OUT not set or not a file"
fi
check "modprobe parport_pc" modprobe parport_pc
check "modprobe ppdev" modprobe ppdev
if ! node_present "$dev" && [ -z "$lpt" ]; then
	for d in "$dev appears" "LED mode" "file unchanged" "strobed blink" "blink bytes in file" \
		"strobed bytes" "bytes in file" "missing node" "bad byte" "nothing more recorded"; do
		skip "$d" "no parallel port in this VM (boot it with -parallel file:..., or use --boot)"
	done
	check "rmmod ppdev parport_pc parport" rmmod ppdev parport_pc parport
	[ $failed = 0 ]
	exit
fi
check "$dev appears, a ppdev node (major 99)" eval 'node_present $dev && is_ppdev_node $dev'
grep -i parport /proc/ioports | sed 's/^/# ioports: /'
dmesg | grep -i 'parport' | tail -n 5 | sed 's/^/# dmesg: /'

if [ -n "$size0" ]; then
	off=$(stat -c %s "$lpt")
	echo "# loading parport_pc and ppdev added $((off - size0)) bytes to $lpt"
fi
check "LED mode: ppblink -v $dev writes, reads back and draws the blink sequence" led_mode
if [ -n "$size0" ]; then
	check_hex "data-register writes (PPWDATA, no STROBE) leave the QEMU file unchanged" ""
else
	skip "data-register writes leave the QEMU file unchanged" "no file"
fi
check "ppblink -s -v -d 20 $dev strobes the blink sequence" \
	run_ppblink 0 "ppblink: wrote 10 bytes to $dev (strobed)" -s -v -d 20 "$dev"
if [ -n "$size0" ]; then
	check_hex "the file gained exactly the blink bytes ($blink_hex)" "$blink_hex"
	off=$(stat -c %s "$lpt")
else
	skip "the file gained exactly the blink bytes" "no file"
fi
# shellcheck disable=SC2086 # the byte arguments are separate words
check "ppblink -s -q $dev $extra_args" \
	run_ppblink 0 "ppblink: wrote 6 bytes to $dev (strobed)" -s -q "$dev" $extra_args
if [ -n "$size0" ]; then
	check_hex "the file gained exactly those bytes ($extra_hex)" "$extra_hex"
	off=$(stat -c %s "$lpt")
else
	skip "the file gained exactly those bytes" "no file"
fi
check "ppblink on a missing node fails with exit 1 and says why" \
	run_ppblink 1 "cannot open /dev/parport9: No such file or directory" /dev/parport9
check "ppblink rejects byte 0x100 with exit 2" \
	run_ppblink 2 "bad byte '0x100' (0-255)" -s "$dev" 0x01 0x100
check "rmmod ppdev parport_pc parport" rmmod ppdev parport_pc parport
if [ -n "$size0" ]; then
	check_hex "the failing runs and rmmod recorded nothing more" ""
else
	skip "the failing runs and rmmod recorded nothing more" "no file"
fi
[ $failed = 0 ]
