#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# (d) Port I/O hand-through: the driver VM's parport_pc + ppdev write a byte
# pattern to 0x378-0x37a, which the shim forwards to the test VM's own
# parallel port; QEMU's "-parallel file:$IVT_LPT_OUT" must record it.
. "$(dirname "$0")/lib.sh"
t_plan 3
load_kvm
helper=$OUT/parport-write
lpt=${IVT_LPT_OUT:-$OUT/lpt.out}
pattern="IKERNEL-PP-$$-$(date +%s)"
if [ ! -x "$helper" ]; then
	t_not_ok "parport-write helper built (run-in-vm.sh builds it)"; t_skip "no helper"; t_skip "no helper"; t_done
fi
t_ok "parport-write helper present"
cfg=$OUT/port_io.toml
write_config "$cfg" port_io "
[[module]]
name = \"parport_pc\"
params = \"io=0x378 irq=none\"

[[module]]
name = \"ppdev\"

[[ports]]
base = 0x378
count = 3
"
# Readiness: after the helper wrote the pattern (console marker).
sed -i 's/^ready = .*/ready = "console"/' "$cfg"
cat >>"$cfg" <<TOML
[[image.file]]
src = "$helper"
dst = "/bin/parport-write"
TOML
# The [image] run line goes right after guest_stub (inside [image]); the
# sed delimiter is '#' because the command itself contains '|'.
sed -i "s#^guest_stub = .*#&\nrun = [\"parport-write /dev/parport0 $pattern || echo IKERNEL-ERROR: parport-write failed\"]#" "$cfg"
grep -q '^run = ' "$cfg" || { t_not_ok "config for port_io written"; t_done; }
run_shim "$OUT/port_io.log" run --exit-after-ready 1 "$cfg"
rc=$?
sed 's/^/# /' "$OUT/port_io.log"
grep -i "parport\|IKERNEL" "$OUT/port_io.console.log" | sed 's/^/# console: /'
if grep -q "port hand-through needs ioperm" "$OUT/port_io.log"; then
	t_not_ok "driver VM with port hand-through ran (this host kernel has neither ioperm nor /dev/port)"
else
	t_check "driver VM with port hand-through ran and wrote the pattern" [ $rc = 0 ]
fi
sync
t_check "pattern $pattern appears in the QEMU parallel-port file" grep -q "$pattern" "$lpt"
t_done
