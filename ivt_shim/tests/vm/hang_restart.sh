#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A guest whose heartbeat stops (the shim freezes its vCPU after ready) is
# detected as hung, reported down and restarted.
. "$(dirname "$0")/lib.sh"
t_plan 4
load_kvm
cfg=$OUT/hang_restart.toml
write_config "$cfg" hang_restart
sed -i 's/^\[restart\]$/&\nheartbeat_timeout_s = 5/' "$cfg"
run_shim "$OUT/hang_restart.log" run --test-hang-generation 1 --exit-after-ready 2 "$cfg"
rc=$?
sed 's/^/# /' "$OUT/hang_restart.log"
t_check "run exits 0 after two generations were ready" [ $rc = 0 ]
t_check "hang detected: heartbeat stopped for 5 s" grep -q "generation 1: DOWN after .*hang: heartbeat stopped for 5 s" "$OUT/hang_restart.log"
t_check "generation 2 ready again" grep -q "generation 2: READY" "$OUT/hang_restart.log"
if [ "${IVT_HOST_STUB:-1}" = 0 ]; then
	t_skip "host_stub not used (IVT_HOST_STUB=0)"
else
	t_check "host_stub sees generation 2 attached and ready" \
		grep -q "host_stub GET_STATE: state 2 generation 2 guest_state 1" "$OUT/hang_restart.log"
fi
t_done
