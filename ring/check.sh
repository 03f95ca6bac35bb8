#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs every test stage of ring/ and prints one TAP-ish line per stage:
#   ok - ring: <stage>      or      not ok - ring: <stage>
# then "ring: N passed, M failed". Lines starting with '#' are diagnostics.
# Logs: target/ring-check/<stage>.log. Exit status 1 if any stage failed.
#
# Environment: RING_FUZZ_SECONDS (default 45), RING_STRESS_MESSAGES
# (default 200000), RING_SKIP_FUZZ=1 to skip the fuzz stage,
# RING_TARGET_DIR (cargo's target directory; default ring-target in the
# kernel cache, ~/.cache/ikernel, outside the clone, so that a fresh clone
# does not rebuild loom, proptest and the fuzzer's dependencies: about
# five minutes on two cores).
# Installs what it needs (cargo-fuzz, valgrind) if missing; never prompts.

set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
LOGS=$ROOT/target/ring-check
mkdir -p "$LOGS"
export CARGO_TERM_COLOR=never
export CARGO_TARGET_DIR=${RING_TARGET_DIR:-${IKERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ikernel}/ring-target}
mkdir -p "$CARGO_TARGET_DIR"
: "${RING_FUZZ_SECONDS:=45}"
: "${RING_STRESS_MESSAGES:=200000}"
export RING_STRESS_MESSAGES

pass=0
fail=0

# stage NAME CMD...: runs CMD with output to the stage's log.
stage() {
	local name=$1
	shift
	local log=$LOGS/$name.log
	local t0=$SECONDS
	if "$@" >"$log" 2>&1 </dev/null; then
		echo "ok - ring: $name"
		pass=$((pass + 1))
	else
		echo "not ok - ring: $name"
		echo "# $name failed after $((SECONDS - t0))s; last lines of $log:"
		tail -n 25 "$log" | sed 's/^/#   /'
		fail=$((fail + 1))
	fi
	echo "# $name: $((SECONDS - t0))s"
}

# The shared source compiles as a plain no_std module, included with #[path]
# the way the kernel modules include it, with the kernel's rustc lints.
include_check() {
	local d=$LOGS/include
	mkdir -p "$d"
	cat >"$d/lib.rs" <<EOR
//! Stand-in for a kernel module crate that includes the ring.
#![no_std]
/// A module like host_stub's, one level down.
pub mod stub {
    #[allow(dead_code, unreachable_pub, unused_imports)]
    #[path = "$ROOT/ring/src/ring.rs"]
    mod ring;
}
EOR
	rustc --edition 2021 --crate-type rlib --crate-name ring_include \
		-C panic=abort -C opt-level=2 --emit metadata,obj --out-dir "$d" \
		-D warnings -D unsafe_op_in_unsafe_fn -W missing_docs \
		-W rust_2018_idioms -W unreachable_pub "$d/lib.rs" || return 1
	# ring.rs declares the parts (files beside it); the parts declare none.
	local parts
	parts=$(ring_parts | grep -v '/ring\.rs$')
	! grep -nE 'crate::|extern crate|std::|alloc::|f32|f64' "$ROOT/ring/src/ring.rs" $parts &&
	! grep -nE '^\s*(pub(\([a-z]+\))? )?mod [a-z_]+;' $parts
}

# ring.rs and the files its `mod` lines name: the source the kernel includes.
ring_parts() {
	echo "$ROOT/ring/src/ring.rs"
	sed -nE 's/^pub mod ([a-z_]+);$/\1/p' "$ROOT/ring/src/ring.rs" |
		sed "s|.*|$ROOT/ring/src/&.rs|"
}

unit_tests() {
	cargo test -p ikernel-ring --release -- --nocapture 2>&1 | tee /dev/stderr |
		awk '/^test result:/ { p += $4; f += $6 } END { print "# cargo tests: " p " passed, " f " failed" > "/dev/stderr" }'
	return "${PIPESTATUS[0]}"
}

loom_tests() {
	RUSTFLAGS="--cfg loom" cargo test -p ikernel-ring --release \
		--target-dir "$CARGO_TARGET_DIR/loom" --test loom -- --nocapture --test-threads 1
}

valgrind_tests() {
	command -v valgrind >/dev/null || {
		apt-get update -qq && apt-get install -y -qq valgrind
	} || return 1
	local bins
	bins=$(cargo test -p ikernel-ring --release --no-run 2>&1 |
		sed -n 's/.*Executable tests\/\(unit\|stress\|prop\)\.rs (\(.*\))$/\2/p')
	[ -n "$bins" ] || return 1
	local b
	for b in $bins; do
		echo "== valgrind $b"
		RING_STRESS_MESSAGES=4000 PROPTEST_CASES=8 \
			valgrind --tool=memcheck --error-exitcode=1 --leak-check=full \
			--show-possibly-lost=no --errors-for-leak-kinds=definite --trace-children=no --child-silent-after-fork=no \
			-q "$(cd "$ROOT" && realpath "$b")" --test-threads=1 || return 1
	done
}

fuzz_run() {
	command -v cargo-fuzz >/dev/null ||
		cargo install cargo-fuzz --locked --quiet || return 1
	cd "$ROOT/ring" || return 1
	# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP enables them on stable.
	RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz --target-dir "$CARGO_TARGET_DIR/fuzz" \
		window -- -max_total_time="$RING_FUZZ_SECONDS" -print_final_stats=1
}

stage include include_check
stage tests unit_tests
grep -E '^stress: [0-9]+ messages|^# cargo tests' "$LOGS/tests.log" | sed 's/^\([^#]\)/# \1/'
stage loom loom_tests
grep -E 'interleavings' "$LOGS/loom.log" | sed 's/^/# /'
stage valgrind valgrind_tests
stage clippy "$ROOT/ring/clippy.sh"
stage rustfmt rustfmt --edition 2021 --check \
	$(ring_parts) ring/src/lib.rs ring/src/user.rs ring/tests/*.rs \
	ring/tests/common/*.rs ring/examples/*.rs ring/fuzz/fuzz_targets/*.rs
if [ "${RING_SKIP_FUZZ:-0}" != 1 ]; then
	stage fuzz fuzz_run
	grep -E '^Done [0-9]+ runs' "$LOGS/fuzz.log" | sed 's/^/# fuzz: /'
fi

echo "ring: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
