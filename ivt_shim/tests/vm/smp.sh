#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A driver VM with 2 vCPUs boots to ready and its kernel brings both CPUs
# online (processors from the ACPI MADT, the AP started by INIT/SIPI in
# KVM's in-kernel LAPIC); SIGTERM stops and joins both vCPU threads.
. "$(dirname "$0")/lib.sh"
t_plan 5
load_kvm
cfg=$OUT/smp.toml
write_config "$cfg" smp
sed -i 's/^memory_mib = 128$/&\nvcpus = 2/' "$cfg"
t_check "config has vcpus = 2" grep -q '^vcpus = 2$' "$cfg"
log=$OUT/smp.log
start_shim "$log" "$cfg"
boot=$(ev_last "$log" ready .boot_to_ready_s)
t_check "guest with 2 vCPUs ready: boot-to-ready ${boot:-none} s" [ "$(ev_count "$log" ready '.generation == 1')" = 1 ]
cpus=$(grep -o 'ikernel-init: up .* CPUs online' "$OUT/smp.console.log")
t_check "guest saw 2 CPUs: ${cpus:-no init line}" sh -c "echo '$cpus' | grep -q ', 2 CPUs online'"
stop_shim
rc=$SHIM_RC
sed 's/^/# /' "$log"
grep -i 'smp\|cpu\|acpi\|apic' "$OUT/smp.console.log" | sed 's/^/# console: /'
t_check "SIGTERM: orderly shutdown, exit 0" [ "$rc/$(ev_last "$log" exit .reason)" = 0/signal ]
t_check "no generation died (no vCPU error)" [ "$(ev_count "$log" down)" = 0 ]
t_done
