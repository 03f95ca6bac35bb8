#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# (c) Bad configurations are rejected with file:line: reason.
. "$(dirname "$0")/lib.sh"
t_plan 7
cfg=$OUT/bad.toml

# expect_err DESC PATTERN: check-config must fail with exit 2 and PATTERN.
expect_err() {
	local out rc
	out=$("$IVT_SHIM" check-config "$cfg" 2>&1); rc=$?
	echo "$out" | sed 's/^/# /'
	if [ $rc = 2 ] && echo "$out" | grep -q -- "$2"; then t_ok "$1"; else t_not_ok "$1 (rc=$rc)"; fi
}

printf '[vm]\nkernel = "%s"\nconsole_log = "x.log"\nmemroy_mib = 64\n' "$BZIMAGE" >"$cfg"
expect_err "unknown key names file and line" "^$cfg:4: unknown field \`memroy_mib\`"
printf '[vm]\nkernel = "%s"\nconsole_log = "x.log"\nmemory_mib = 1\n' "$BZIMAGE" >"$cfg"
expect_err "out-of-range memory names file and line" "^$cfg:4: memory_mib must be in"
printf '[vm]\nkernel = "%s"\nconsole_log = "x.log"\n[[ports]]\nbase = 0x3f8\ncount = 8\n' "$BZIMAGE" >"$cfg"
expect_err "port range over the serial console is refused" "^$cfg:5: port range 0x3f8+8 overlaps the serial console"
printf '[vm]\nkernel = "%s"\nconsole_log = "x.log"\nvcpus = "two"\n' "$BZIMAGE" >"$cfg"
expect_err "wrong type names file and line" "^$cfg:4: invalid type"
printf '[vm]\nkernel = "%s"\nconsole_log = "x.log"\n[[export]]\nguest_path = "/dev/x"\nhost_name = "ik_x"\nowner = "no_such_user_xyz:root"\n' "$BZIMAGE" >"$cfg"
expect_err "unknown export owner names file and line" "^$cfg:7: owner: no user \"no_such_user_xyz\""
printf '[vm]\nkernel = "%s"\nconsole_log = "x.log"\n[[module]]\nname = "no_such_module_xyz"\n' "$BZIMAGE" >"$cfg"
out=$("$IVT_SHIM" build-image "$cfg" 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
if [ $rc != 0 ] && echo "$out" | grep -q "$cfg:5: module \"no_such_module_xyz\" is not in"; then
	t_ok "unknown module names file and line"
else
	t_not_ok "unknown module names file and line (rc=$rc)"
fi
printf '[vm]\nkernel = "/nonexistent/bzImage"\nconsole_log = "%s/x.log"\n[restart]\nready = "console"\n' "$OUT" >"$cfg"
out=$(timeout 60 "$IVT_SHIM" run --no-host-stub "$cfg" 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
if [ $rc = 2 ] && echo "$out" | grep -q "^$cfg:2: kernel /nonexistent/bzImage: No such file"; then
	t_ok "missing kernel is a clear error"
else
	t_not_ok "missing kernel is a clear error (rc=$rc)"
fi
t_done
