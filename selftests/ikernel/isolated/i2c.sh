#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# An in-tree driver whose ioctls hold pointers: i2c-dev over the i2c-stub
# chip.  I2C_SMBUS takes a struct whose data member points at the
# transfer's bytes, I2C_RDWR an array of messages with a buffer each, and
# I2C_FUNCS a pointer as its integer; none has an _IOC size, and no ioctl
# table entry is given.  selftests/ikernel/i2c_xfer makes the calls (byte,
# word and I2C block registers written and read back, data pointers that
# fault at the start and part-way, messages and buffers that fault), first
# natively against i2c-stub in the test VM, then against the same chip in
# a driver VM through /dev/ik_i2c: the transcripts must be identical, and
# host_stub must have run the calls as remote ioctls (stats/remote_pages)
# with no bad step.
. "$(dirname "$0")/lib.sh"
xfer=$SELF/i2c_xfer
chip=0x50
log=$OUT/i2c
mkdir -p "$log"
rm -f "$log"/*
plan_done() { echo "1..$t_n"; t_done; }

# stub_node: the i2c-dev node of i2c-stub's adapter.
stub_node() {
	local d
	for d in /sys/class/i2c-dev/*; do
		[ "$(cat "$d/name" 2>/dev/null)" = "SMBus stub driver" ] && echo "/dev/${d##*/}" && return 0
	done
	return 1
}

load_kvm
# Natively.
modprobe i2c-dev
modprobe i2c-stub chip_addr=$chip
if ! native=$(stub_node); then
	t_not_ok "natively: i2c-stub's adapter has an i2c-dev node"
	plan_done
fi
"$xfer" "$native" $chip >"$log/native.txt" 2>&1
t_check "natively: i2c_xfer $native ran ($(wc -l <"$log/native.txt") lines)" [ $? = 0 ]
sed 's/^/# native: /' "$log/native.txt"
rmmod i2c_stub

# Isolated: the same chip in a driver VM, its adapter's node exported.
cfg=$OUT/i2c.toml
write_config "$cfg" i2c "
[[module]]
name = \"i2c-dev\"

[[module]]
name = \"i2c-stub\"
params = \"chip_addr=$chip\"

[[export]]
guest_path = \"/dev/i2c-0\"
host_name = \"ik_i2c\"
mode = 0o600
owner = \"root:root\"
"
start_shim "$OUT/i2c.log" "$cfg"
if ! wait_node /dev/ik_i2c 30; then
	t_not_ok "driver VM exports /dev/ik_i2c"
	show_logs i2c
	stop_shim
	plan_done
fi
t_ok "driver VM exports /dev/ik_i2c (the guest's /dev/i2c-0)"
"$xfer" /dev/ik_i2c $chip >"$log/isolated.txt" 2>&1
t_check "isolated: i2c_xfer /dev/ik_i2c ran" [ $? = 0 ]
if diff -u "$log/native.txt" "$log/isolated.txt" >"$log/diff"; then
	t_ok "the transcripts are identical ($(wc -l <"$log/native.txt") lines: SMBus data pointers, I2C_RDWR messages, EFAULTs)"
else
	t_not_ok "the transcripts are identical"
	sed 's/^/# /' "$log/diff" | head -n 40
fi
check_remote ik_i2c 10 "they ran as remote ioctls, with no table"
stop_shim
t_check "the shim stopped cleanly (status $SHIM_RC)" [ "$SHIM_RC" = 0 ]
plan_done
