#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# (b) A forced guest panic (sysrq c after ready) is detected, the driver VM
# restarts with a new generation and becomes ready again.
. "$(dirname "$0")/lib.sh"
t_plan 6
load_kvm
cfg=$OUT/panic_restart.toml
write_config "$cfg" panic_restart
run_shim "$OUT/panic_restart.log" run --test-panic-generation 1 --exit-after-ready 2 "$cfg"
rc=$?
sed 's/^/# /' "$OUT/panic_restart.log"
t_check "run exits 0 after two generations were ready" [ $rc = 0 ]
t_check "guest panicked (console)" grep -q "Kernel panic - not syncing: sysrq triggered crash" "$OUT/panic_restart.console.log"
t_check "death detected (the panic's KVM_EXIT_SHUTDOWN, or its console line)" \
	grep -Eq "generation 1: DOWN after .*(KVM_EXIT_SHUTDOWN|guest kernel died)" "$OUT/panic_restart.log"
t_check "restart logged with backoff" grep -q "restart 1/2 in 200 ms" "$OUT/panic_restart.log"
line=$(grep -o 'generation 2: READY, boot-to-ready [0-9.]* s, down-to-ready (restart) [0-9.]* s' "$OUT/panic_restart.log")
t_check "generation 2 ready again: ${line:-none}" [ -n "$line" ]
if [ "${IVT_HOST_STUB:-1}" = 0 ]; then
	t_skip "host_stub not used (IVT_HOST_STUB=0)"
else
	t_check "host_stub sees generation 2 attached and ready" \
		grep -q "host_stub GET_STATE: state 2 generation 2 guest_state 1" "$OUT/panic_restart.log"
fi
t_done
