# SPDX-License-Identifier: GPL-2.0
# Common settings for ikernel's scripts.  Sourced, never executed.
#
# Everything that is expensive to make (the kernel source, the kernel build,
# driver-VM images) lives in a cache outside the clone, so that a fresh clone
# reuses it and `git clean` never throws away a 20-minute kernel build.

IKERNEL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IKERNEL_CACHE=${IKERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ikernel}
# The kernel series we target, and the oldest/newest we accept as fallback.
IKERNEL_KSERIES=${IKERNEL_KSERIES:-7.3}

# The kernel's Rust metadata must be produced and consumed by the same rustc:
# use Debian's rustc-web (and its clippy) and LLVM 22 for everything that
# touches the kernel, never rustup's toolchain that is first on PATH.
IKERNEL_LLVM_BIN=/usr/lib/llvm-22/bin
IKERNEL_BINDGEN=${IKERNEL_BINDGEN:-$HOME/.cargo/bin/bindgen}
export LIBCLANG_PATH=${LIBCLANG_PATH:-/usr/lib/llvm-22/lib}

# Variables every kernel make invocation needs.
kmake_vars() {
	printf '%s\n' LLVM=-22 RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc \
		"BINDGEN=$IKERNEL_BINDGEN" HOSTRUSTC=/usr/bin/rustc
}

# Run make for the kernel with the right toolchain on PATH.
kmake() {
	local vars
	mapfile -t vars < <(kmake_vars)
	PATH="$IKERNEL_LLVM_BIN:/usr/bin:$PATH" make "${vars[@]}" "$@"
}

# kernel_source KDIR: the source tree of a kernel build tree: the link
# build-kernel leaves, else kbuild's own "source" link of an O= tree, else
# KDIR itself (a tree built in place).
kernel_source() {
	readlink -e "$1/ikernel-source" 2>/dev/null ||
		readlink -e "$1/source" 2>/dev/null || echo "$1"
}

log() { printf '[ikernel] %s\n' "$*" >&2; }
die() { printf '[ikernel] error: %s\n' "$*" >&2; exit 1; }
