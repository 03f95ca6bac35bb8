# SPDX-License-Identifier: GPL-2.0
# Common settings for ikernel's scripts.  Sourced, never executed.
#
# Everything that is expensive to make (the kernel source, the kernel build,
# driver-VM images) lives in a cache outside the clone, so that a fresh clone
# reuses it and `git clean` never throws away a 20-minute kernel build.

IKERNEL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IKERNEL_CACHE=${IKERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ikernel}
# The cargo target directory of the shipped ivt-shim (no test hooks), as
# make install builds it for the tests that install it (scripts/install-test,
# selftests/ikernel/isolated/service.sh): in the cache, so that a fresh
# clone does not compile it from nothing (the clone's target/release is the
# test-hooks build of the VM tests).
IKERNEL_SHIPPED_TARGET=$IKERNEL_CACHE/cargo-install
# virtme-ng's venv, where setup-toolchain puts it when the system Python
# refuses pip installs (PEP 668).
IKERNEL_VENV=$IKERNEL_CACHE/venv
if [ -x "$IKERNEL_VENV/bin/vng" ]; then
	export PATH=$IKERNEL_VENV/bin:$PATH
fi
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

# debian_mirror: the Debian mirror URI this machine's apt is configured
# with (deb822 .sources first, then one-line .list files).
debian_mirror() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' "$f" |
			grep -E '/debian/?$' | head -n1 || true)
		[ -n "$uri" ] && { echo "${uri%/}"; return; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' "$f" |
			grep -E '/debian/?$' | head -n1 || true)
		[ -n "$uri" ] && { echo "${uri%/}"; return; }
	done
	return 1
}

# apt_private WORK SUITE...: a throw-away apt configuration in WORK for the
# given suites of the machine's own Debian mirror, signatures checked with
# Debian's keyring (IKERNEL_KEYRING) as apt does; leaves the system's apt
# state alone.  Sets APT_PRIVATE to the apt-get/apt-cache options and runs
# "apt-get update" with them.
apt_private() {
	local work=$1 uri keyring s
	shift
	uri=$(debian_mirror) || die "no Debian mirror found in /etc/apt/sources.list*"
	keyring=${IKERNEL_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
	[ -r "$keyring" ] || die "no Debian archive keyring at $keyring (package debian-archive-keyring); set IKERNEL_KEYRING"
	mkdir -p "$work/lists/partial" "$work/archives/partial"
	for s; do
		echo "deb [signed-by=$keyring] $uri $s main"
	done >"$work/sources.list"
	APT_PRIVATE=(-o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=-
		-o "Dir::State::Lists=$work/lists" -o "Dir::Cache::archives=$work/archives"
		-o "Dir::Cache::pkgcache=$work/pkgcache.bin" -o "Dir::Cache::srcpkgcache=$work/srcpkgcache.bin"
		-o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1)
	apt-get -qq "${APT_PRIVATE[@]}" update >"$work/update.log" 2>&1 ||
		{ cat "$work/update.log" >&2; die "apt-get update of the temporary sources list ($*) failed"; }
}
