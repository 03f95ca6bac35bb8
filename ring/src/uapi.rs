// SPDX-License-Identifier: GPL-2.0

//! The control devices' user-space ABI: `include/uapi/linux/ikernel.h` in
//! Rust.
//!
//! This is the one Rust definition of the ioctl numbers, argument structs
//! and limits of `/dev/ikernel` (host_stub) and `/dev/ikernel_guest`
//! (guest_stub).  host_stub and guest_stub get it with the ring
//! (`ring::uapi`), ivt-shim as `ikernel_ring::uapi`.  Like the rest of the
//! ring it uses only `core`.  The sizes and offsets below are checked at
//! compile time; `ring/tests/uapi_header.rs` compiles a C program against
//! the header and checks that every number here is the header's.
//!
//! The kernel's byte-conversion traits (`FromBytes`, `AsBytes`) for these
//! structs are implemented in `common/uapi.rs`, since this file cannot name
//! the kernel crate.

use super::{MAX_EXPORTS, MAX_SLOTS, MAX_SLOT_DATA};

/// The ioctl magic of both control devices (`IKERNEL_IOC_MAGIC`).
pub const IOC_MAGIC: u32 = 0xB7;

// `_IOC` as in `include/uapi/asm-generic/ioctl.h`, the encoding of x86,
// arm64 and riscv.  The kernel modules check these numbers against the
// kernel's own `_IOR`/`_IOW`/`_IOWR` at compile time (`common/uapi.rs`).
const IOC_NRSHIFT: u32 = 0;
const IOC_TYPESHIFT: u32 = 8;
const IOC_SIZESHIFT: u32 = 16;
const IOC_DIRSHIFT: u32 = 30;
const IOC_SIZEMASK: usize = (1 << 14) - 1;
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;

/// `_IOC(dir, IKERNEL_IOC_MAGIC, nr, size)`; a size that does not fit the
/// 14-bit field fails the build.
const fn ioc(dir: u32, nr: u32, size: usize) -> u32 {
    assert!(size <= IOC_SIZEMASK && nr < 256);
    // CAST: `size` fits 14 bits (asserted above).
    (dir << IOC_DIRSHIFT)
        | ((size as u32) << IOC_SIZESHIFT)
        | (IOC_MAGIC << IOC_TYPESHIFT)
        | (nr << IOC_NRSHIFT)
}

/// `_IOR(IKERNEL_IOC_MAGIC, nr, T)`.
const fn ior<T>(nr: u32) -> u32 {
    ioc(IOC_READ, nr, core::mem::size_of::<T>())
}

/// `_IOW(IKERNEL_IOC_MAGIC, nr, T)`.
const fn iow<T>(nr: u32) -> u32 {
    ioc(IOC_WRITE, nr, core::mem::size_of::<T>())
}

/// `_IOWR(IKERNEL_IOC_MAGIC, nr, T)`.
const fn iowr<T>(nr: u32) -> u32 {
    ioc(IOC_READ | IOC_WRITE, nr, core::mem::size_of::<T>())
}

// ---------------------------------------------------------------------------
// Both control devices.

/// `IKERNEL_SIDE_*`: which stub answered [`IOC_VERSION`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Side {
    /// `IKERNEL_SIDE_HOST`: host_stub.
    Host = 1,
    /// `IKERNEL_SIDE_GUEST`: guest_stub.
    Guest = 2,
}

impl From<Side> for u32 {
    fn from(s: Side) -> u32 {
        // CAST: `Side` is `repr(u32)`; this reads its discriminant.
        s as u32
    }
}

/// `struct ikernel_version`: [`IOC_VERSION`]'s argument.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Version {
    /// Module major version.
    pub major: u32,
    /// Module minor version.
    pub minor: u32,
    /// Module patch level.
    pub patch: u32,
    /// The shared window's ABI version ([`super::ABI_VERSION`]).
    pub ring_abi: u32,
    /// A [`Side`].
    pub side: u32,
    /// Zero.
    pub reserved: u32,
}

/// `IKERNEL_IOC_VERSION`.
pub const IOC_VERSION: u32 = ior::<Version>(0x00);

// ---------------------------------------------------------------------------
// /dev/ikernel: channel set-up.

/// `IKERNEL_VM_BOOTING` ([`StateArg::state`]).
pub const VM_BOOTING: u32 = 1;
/// `IKERNEL_VM_RUNNING`.
pub const VM_RUNNING: u32 = 2;
/// `IKERNEL_VM_DOWN`.
pub const VM_DOWN: u32 = 3;

/// `IKERNEL_WINDOW_MIN`: the smallest window [`IOC_CREATE_WINDOW`] accepts.
pub const WINDOW_MIN: u64 = 16 * 1024;
/// `IKERNEL_WINDOW_MAX`: the largest window [`IOC_CREATE_WINDOW`] accepts.
///
/// host_stub allocates the window from vmalloc memory that is charged to
/// nobody and never swapped, once per driver VM; 64 MiB already gives 64
/// ring entries buffers of almost [`MAX_SLOT_DATA`] each.  ivt-shim's
/// configuration check uses the same bound, also for its own memfd window.
pub const WINDOW_MAX: u64 = 64 * 1024 * 1024;
/// `IKERNEL_RING_ENTRIES_DEFAULT`: ring entries when
/// [`WindowArg::ring_entries`] is 0.
pub const RING_ENTRIES_DEFAULT: u32 = 64;
// `IKERNEL_MAX_SLOTS` (most ring entries, hence most requests in flight),
// `IKERNEL_MAX_SLOT_DATA` (the largest buffer of one entry, hence the largest
// payload or reply of one request) and `IKERNEL_MAX_EXPORTS` are the ring's
// `MAX_SLOTS`, `MAX_SLOT_DATA` and `MAX_EXPORTS`.

const _: () = assert!(WINDOW_MIN.is_multiple_of(4096) && WINDOW_MAX.is_multiple_of(4096));
// The header's window size field is a `u32`.
const _: () = assert!(WINDOW_MAX <= u32::MAX as u64);
const _: () = assert!(RING_ENTRIES_DEFAULT.is_power_of_two() && RING_ENTRIES_DEFAULT <= MAX_SLOTS);

/// `struct ikernel_window`: [`IOC_CREATE_WINDOW`]'s argument.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WindowArg {
    /// Window size in bytes, a multiple of 4096 in
    /// [`WINDOW_MIN`]`..=`[`WINDOW_MAX`].
    pub size: u64,
    /// Entries per ring, a power of two; 0 for [`RING_ENTRIES_DEFAULT`].
    pub ring_entries: u32,
    /// Zero.
    pub reserved: u32,
}

/// `struct ikernel_doorbells`: [`IOC_BIND_DOORBELLS`]'s argument.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DoorbellsArg {
    /// Eventfd the guest's doorbell signals (KVM ioeventfd).
    pub kick_fd: i32,
    /// Eventfd host_stub signals to interrupt the guest (KVM irqfd).
    pub call_fd: i32,
}

/// `struct ikernel_state`: [`IOC_SET_STATE`] and [`IOC_GET_STATE`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateArg {
    /// `VM_*`.
    pub state: u32,
    /// Incarnation of the driver VM.
    pub generation: u32,
    /// (get only) The guest's state word: 1 ready, else 0.
    pub guest_state: u32,
    /// (get only) The guest's heartbeat counter.
    pub heartbeat: u32,
    /// (get only) Doorbells rung by the guest since they were bound.
    pub kicks: u64,
    /// (get only) 0, or 1 + the ring violation that broke the window
    /// (its position in [`super::RingError::ALL`]).
    pub broken: u32,
    /// Zero.
    pub reserved: u32,
}

/// `IKERNEL_IOC_CREATE_WINDOW`.
pub const IOC_CREATE_WINDOW: u32 = iow::<WindowArg>(0x01);
/// `IKERNEL_IOC_BIND_DOORBELLS`.
pub const IOC_BIND_DOORBELLS: u32 = iow::<DoorbellsArg>(0x02);
/// `IKERNEL_IOC_SET_STATE`.
pub const IOC_SET_STATE: u32 = iow::<StateArg>(0x03);
/// `IKERNEL_IOC_GET_STATE`.
pub const IOC_GET_STATE: u32 = ior::<StateArg>(0x04);

/// `struct ikernel_guest_ram`: [`IOC_GUEST_RAM`]'s argument.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuestRamArg {
    /// A memfd holding the driver VM's RAM from guest-physical 0.
    pub fd: i32,
    /// The incarnation that runs in it (the current one).
    pub generation: u32,
    /// Bytes of RAM, a multiple of 4096.
    pub size: u64,
}

/// `IKERNEL_IOC_GUEST_RAM`.
pub const IOC_GUEST_RAM: u32 = iow::<GuestRamArg>(0x07);

// ---------------------------------------------------------------------------
// /dev/ikernel: exports.

/// `IKERNEL_NAME_MAX`: bytes of [`ExportArg::name`], with its NUL.
pub const NAME_MAX: usize = 32;
/// `IKERNEL_PATH_MAX`: bytes of [`ExportArg::guest_path`], with its NUL.
pub const PATH_MAX: usize = 128;
/// `IKERNEL_IOCTL_NONE` ([`IoctlDescArg::dir`]): the argument is an integer.
pub const IOCTL_NONE: u16 = 0;
/// `IKERNEL_IOCTL_WRITE`: the argument carries bytes to the driver.
pub const IOCTL_WRITE: u16 = 1;
/// `IKERNEL_IOCTL_READ`: the argument carries bytes back to user space.
pub const IOCTL_READ: u16 = 2;
/// `IKERNEL_IOCTL_RW`: both.
pub const IOCTL_RW: u16 = IOCTL_READ | IOCTL_WRITE;
/// `IKERNEL_IOCTL_SIZE_MAX`: the largest [`IoctlDescArg::size`] (the 14 bits
/// of `_IOC_SIZE`).
// CAST: 16383 fits `u16`.
pub const IOCTL_SIZE_MAX: u16 = IOC_SIZEMASK as u16;
/// `IKERNEL_EXPORT_MAX_IOCTLS`: most entries of [`ExportArg::ioctls`].
pub const EXPORT_MAX_IOCTLS: u32 = 64;
/// `IKERNEL_EXPORT_REOPEN` ([`ExportArg::flags`]): files opened before a
/// driver-VM restart reopen in the new VM instead of failing.
pub const EXPORT_REOPEN: u32 = 1 << 0;

/// `struct ikernel_ioctl_desc`: how to forward an ioctl without `_IOC`
/// encoding.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IoctlDescArg {
    /// The command.
    pub cmd: u32,
    /// `IOCTL_NONE`, `IOCTL_WRITE`, `IOCTL_READ` or `IOCTL_RW`.
    pub dir: u16,
    /// Bytes at the argument pointer, at most [`IOCTL_SIZE_MAX`] (0 for
    /// `IOCTL_NONE`).
    pub size: u16,
}

/// `struct ikernel_export`: [`IOC_EXPORT`]'s argument.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExportArg {
    /// Host node name, NUL-terminated, 1-31 bytes `[A-Za-z0-9_.-]`.
    pub name: [u8; NAME_MAX],
    /// Index of the node in the driver VM's export list.
    pub index: u32,
    /// Permission bits of the host node.
    pub mode: u32,
    /// Owner of the host node.
    pub uid: u32,
    /// Group of the host node.
    pub gid: u32,
    /// Deadline of every forwarded call, 0 for none.
    pub timeout_ms: u32,
    /// Entries at `ioctls`, at most [`EXPORT_MAX_IOCTLS`].
    pub nr_ioctls: u32,
    /// User pointer to `nr_ioctls` [`IoctlDescArg`].
    pub ioctls: u64,
    /// (out) Minor number of the new node.
    pub minor: u32,
    /// `EXPORT_*` flags.
    pub flags: u32,
    /// The node in the driver VM, NUL-terminated, 1-127 printable ASCII
    /// bytes starting with `/` (shown in the host node's sysfs directory).
    pub guest_path: [u8; PATH_MAX],
    /// The name of the driver VM, NUL-terminated, 0-31 bytes
    /// `[A-Za-z0-9_.-]` (shown in sysfs; empty: unnamed).
    pub vm_name: [u8; NAME_MAX],
}

impl Default for ExportArg {
    /// All zero (arrays of more than 32 elements have no `Default`).
    fn default() -> Self {
        Self {
            name: [0; NAME_MAX],
            index: 0,
            mode: 0,
            uid: 0,
            gid: 0,
            timeout_ms: 0,
            nr_ioctls: 0,
            ioctls: 0,
            minor: 0,
            flags: 0,
            guest_path: [0; PATH_MAX],
            vm_name: [0; NAME_MAX],
        }
    }
}

/// `IKERNEL_IOC_EXPORT`.
pub const IOC_EXPORT: u32 = iowr::<ExportArg>(0x05);

/// `IKERNEL_IFNAME_MAX`: the longest host interface name of a net export
/// (`IFNAMSIZ - 1`).
pub const IFNAME_MAX: usize = 15;

/// `struct ikernel_export_net`: [`IOC_EXPORT_NET`]'s argument.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportNetArg {
    /// Host interface name, NUL-terminated, 1-15 bytes `[A-Za-z0-9_.-]`.
    pub name: [u8; NAME_MAX],
    /// Index of the interface in the driver VM's export list.
    pub index: u32,
    /// MTU of the host interface.
    pub mtu: u32,
    /// (out) Interface index of the new host interface.
    pub ifindex: u32,
    /// Zero.
    pub flags: u32,
    /// The interface in the driver VM, NUL-terminated (informational).
    pub guest_if: [u8; NAME_MAX],
    /// The driver VM's name, as in [`ExportArg::vm_name`].
    pub vm_name: [u8; NAME_MAX],
}

/// `IKERNEL_IOC_EXPORT_NET`.
pub const IOC_EXPORT_NET: u32 = iowr::<ExportNetArg>(0x06);

// ---------------------------------------------------------------------------
// /dev/ikernel_guest: the driver VM's serving process.

/// `IKERNEL_OPEN_SEEKABLE` ([`GuestResp::aux`] of an open): pread, pwrite
/// and llseek work on the file.
pub const OPEN_SEEKABLE: u64 = 1;
/// `IKERNEL_GUEST_IN_WINDOW` ([`GuestReq::mode`]): serve the request in
/// place in the window the caller mapped.
pub const GUEST_IN_WINDOW: u32 = 1;
/// `IKERNEL_EVENT_DEFER` ([`GuestEvent::flags`]): an answer follows at
/// once; let it notify the host for both.
pub const EVENT_DEFER: u32 = 1;

/// `struct ikernel_guest_req`: [`IOC_GUEST_GET`]'s argument.  The op
/// fields mean what they mean on the ring (`Documentation/ring.rst`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuestReq {
    /// Request id, to quote in the response.
    pub id: u32,
    /// `IKERNEL_OP_*`, a [`super::Op`].
    pub op: u32,
    /// Export index.
    pub index: u32,
    /// The open file (0 for an open).
    pub handle: u32,
    /// The host file's `f_flags`.
    pub flags: u32,
    /// (out) Payload bytes copied to `buf`.
    pub len: u32,
    /// The ring's `pos`.
    pub pos: u64,
    /// The ring's `cmd`.
    pub cmd: u32,
    /// Largest reply the host accepts.
    pub reply_max: u32,
    /// The ring's `arg`.
    pub arg: u64,
    /// (in) Buffer for the payload; (out, in window) the request's buffer.
    pub buf: u64,
    /// Size of `buf`.
    pub buf_size: u32,
    /// (in) 0 or [`GUEST_IN_WINDOW`].
    pub mode: u32,
}

/// `struct ikernel_guest_resp`: [`IOC_GUEST_PUT`]'s argument.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuestResp {
    /// The request's id.
    pub id: u32,
    /// Reply bytes at `buf`.
    pub len: u32,
    /// Result, or a negative errno.
    pub result: i64,
    /// The file's current poll mask.
    pub events: u32,
    /// Zero.
    pub reserved: u32,
    /// The ring's `aux`.
    pub aux: u64,
    /// Buffer holding the reply.
    pub buf: u64,
}

/// `struct ikernel_guest_event`: [`IOC_GUEST_EVENT`]'s argument.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuestEvent {
    /// Export index.
    pub index: u32,
    /// The open file.
    pub handle: u32,
    /// Its new poll mask.
    pub events: u32,
    /// `EVENT_*`.
    pub flags: u32,
}

/// `struct ikernel_guest_exports`: [`IOC_GUEST_EXPORTS`]'s argument.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuestExports {
    /// Exports served, at most [`MAX_EXPORTS`] (`IKERNEL_MAX_EXPORTS`).
    pub count: u32,
    /// Zero.
    pub reserved: u32,
    /// Bit `i % 32` of `map[i / 32]`: export `i`'s node exists.
    pub map: [u32; super::EXPORTS_WORDS],
}

/// `IKERNEL_IOC_GUEST_GET`.
pub const IOC_GUEST_GET: u32 = iowr::<GuestReq>(0x10);
/// `IKERNEL_IOC_GUEST_PUT`.
pub const IOC_GUEST_PUT: u32 = iow::<GuestResp>(0x11);
/// `IKERNEL_IOC_GUEST_EVENT`.
pub const IOC_GUEST_EVENT: u32 = iow::<GuestEvent>(0x12);
/// `IKERNEL_IOC_GUEST_EXPORTS`.
pub const IOC_GUEST_EXPORTS: u32 = iow::<GuestExports>(0x13);

// Sizes and offsets, as the C compiler lays out the header's structs on
// every 64-bit and 32-bit ABI Linux has (no implicit padding anywhere).
const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<Version>() == 24);
    assert!(size_of::<WindowArg>() == 16);
    assert!(offset_of!(WindowArg, ring_entries) == 8);
    assert!(size_of::<DoorbellsArg>() == 8);
    assert!(size_of::<StateArg>() == 32);
    assert!(size_of::<GuestRamArg>() == 16);
    assert!(offset_of!(GuestRamArg, size) == 8);
    assert!(offset_of!(StateArg, kicks) == 16);
    assert!(offset_of!(StateArg, broken) == 24);
    assert!(size_of::<IoctlDescArg>() == 8);
    assert!(offset_of!(IoctlDescArg, dir) == 4);
    assert!(offset_of!(IoctlDescArg, size) == 6);
    assert!(size_of::<ExportArg>() == 232);
    assert!(offset_of!(ExportArg, index) == 32);
    assert!(offset_of!(ExportArg, timeout_ms) == 48);
    assert!(offset_of!(ExportArg, nr_ioctls) == 52);
    assert!(offset_of!(ExportArg, ioctls) == 56);
    assert!(offset_of!(ExportArg, minor) == 64);
    assert!(offset_of!(ExportArg, flags) == 68);
    assert!(offset_of!(ExportArg, guest_path) == 72);
    assert!(offset_of!(ExportArg, vm_name) == 200);
    assert!(size_of::<GuestReq>() == 64);
    assert!(offset_of!(GuestReq, pos) == 24);
    assert!(offset_of!(GuestReq, cmd) == 32);
    assert!(offset_of!(GuestReq, arg) == 40);
    assert!(offset_of!(GuestReq, buf) == 48);
    assert!(offset_of!(GuestReq, mode) == 60);
    assert!(size_of::<GuestResp>() == 40);
    assert!(offset_of!(GuestResp, result) == 8);
    assert!(offset_of!(GuestResp, aux) == 24);
    assert!(offset_of!(GuestResp, buf) == 32);
    assert!(size_of::<GuestEvent>() == 16);
    assert!(size_of::<GuestExports>() == 40);
    assert!(offset_of!(GuestExports, map) == 8);
    assert!(MAX_EXPORTS == 32 * super::EXPORTS_WORDS as u32);
};

/// `("sizeof(struct ikernel_NAME)", size_of::<T>())`, for [`C_NUMBERS`].
macro_rules! c_sizeof {
    ($c:literal, $t:ty) => {
        // CAST: struct sizes are small.
        (
            concat!("sizeof(struct ikernel_", $c, ")"),
            size_of::<$t>() as u64,
        )
    };
}

/// `("offsetof(struct ikernel_NAME, FIELD)", offset_of!(T, FIELD))`, for
/// [`C_NUMBERS`].
macro_rules! c_offsetof {
    ($c:literal, $t:ident, $f:ident) => {
        (
            concat!("offsetof(struct ikernel_", $c, ", ", stringify!($f), ")"),
            // CAST: field offsets are small.
            offset_of!($t, $f) as u64,
        )
    };
}

/// Every number of the header that this file defines, by its C name, for
/// the test that compares them with the C compiler's (`sizeof`, `offsetof`
/// and macro values).  Not used by the modules.
pub const C_NUMBERS: &[(&str, u64)] = &{
    use core::mem::{offset_of, size_of};
    // CAST: widening conversions of small constants.
    [
        ("IKERNEL_IOC_MAGIC", IOC_MAGIC as u64),
        ("IKERNEL_SIDE_HOST", Side::Host as u64),
        ("IKERNEL_SIDE_GUEST", Side::Guest as u64),
        ("IKERNEL_IOC_VERSION", IOC_VERSION as u64),
        ("IKERNEL_VM_BOOTING", VM_BOOTING as u64),
        ("IKERNEL_VM_RUNNING", VM_RUNNING as u64),
        ("IKERNEL_VM_DOWN", VM_DOWN as u64),
        ("IKERNEL_WINDOW_MIN", WINDOW_MIN),
        ("IKERNEL_WINDOW_MAX", WINDOW_MAX),
        ("IKERNEL_RING_ENTRIES_DEFAULT", RING_ENTRIES_DEFAULT as u64),
        ("IKERNEL_MAX_SLOTS", MAX_SLOTS as u64),
        ("IKERNEL_MAX_SLOT_DATA", MAX_SLOT_DATA as u64),
        ("IKERNEL_IOC_CREATE_WINDOW", IOC_CREATE_WINDOW as u64),
        ("IKERNEL_IOC_BIND_DOORBELLS", IOC_BIND_DOORBELLS as u64),
        ("IKERNEL_IOC_SET_STATE", IOC_SET_STATE as u64),
        ("IKERNEL_IOC_GET_STATE", IOC_GET_STATE as u64),
        ("IKERNEL_NAME_MAX", NAME_MAX as u64),
        ("IKERNEL_PATH_MAX", PATH_MAX as u64),
        ("IKERNEL_IOCTL_NONE", IOCTL_NONE as u64),
        ("IKERNEL_IOCTL_WRITE", IOCTL_WRITE as u64),
        ("IKERNEL_IOCTL_READ", IOCTL_READ as u64),
        ("IKERNEL_IOCTL_RW", IOCTL_RW as u64),
        ("IKERNEL_IOCTL_SIZE_MAX", IOCTL_SIZE_MAX as u64),
        ("IKERNEL_EXPORT_MAX_IOCTLS", EXPORT_MAX_IOCTLS as u64),
        ("IKERNEL_EXPORT_REOPEN", EXPORT_REOPEN as u64),
        ("IKERNEL_IOC_EXPORT", IOC_EXPORT as u64),
        ("IKERNEL_IFNAME_MAX", IFNAME_MAX as u64),
        ("IKERNEL_IOC_EXPORT_NET", IOC_EXPORT_NET as u64),
        ("IKERNEL_OP_NET_XMIT", super::Op::NetXmit as u64),
        ("IKERNEL_OP_NET_RECV", super::Op::NetRecv as u64),
        ("IKERNEL_OP_NET_INFO", super::Op::NetInfo as u64),
        ("IKERNEL_OP_OPEN", super::Op::Open as u64),
        ("IKERNEL_OP_RELEASE", super::Op::Release as u64),
        ("IKERNEL_OP_READ", super::Op::Read as u64),
        ("IKERNEL_OP_WRITE", super::Op::Write as u64),
        ("IKERNEL_OP_LLSEEK", super::Op::Llseek as u64),
        ("IKERNEL_OP_IOCTL", super::Op::Ioctl as u64),
        ("IKERNEL_OP_POLL", super::Op::Poll as u64),
        ("IKERNEL_OP_CANCEL", super::Op::Cancel as u64),
        ("IKERNEL_OP_MMAP", super::Op::Mmap as u64),
        ("IKERNEL_MMAP_SHARED", super::MMAP_SHARED as u64),
        ("IKERNEL_OP_NODE_INFO", super::Op::NodeInfo as u64),
        ("IKERNEL_NODE_INFO_MAX", super::NODE_INFO_MAX as u64),
        ("IKERNEL_NODE_INFO_LINES", super::NODE_INFO_LINES as u64),
        (
            "IKERNEL_NODE_INFO_NAME_MAX",
            super::NODE_INFO_NAME_MAX as u64,
        ),
        (
            "IKERNEL_NODE_INFO_VALUE_MAX",
            super::NODE_INFO_VALUE_MAX as u64,
        ),
        ("IKERNEL_IOC_GUEST_RAM", IOC_GUEST_RAM as u64),
        ("IKERNEL_OPEN_SEEKABLE", OPEN_SEEKABLE),
        ("IKERNEL_IOCTL_ARG_LOST", super::IOCTL_ARG_LOST),
        ("IKERNEL_IOCTL_NEW_FILE", super::IOCTL_NEW_FILE),
        ("IKERNEL_IOCTL_ARG_REMOTE", super::IOCTL_ARG_REMOTE),
        ("IKERNEL_IOCTL_STEP", super::IOCTL_STEP),
        (
            "IKERNEL_IOCTL_STEP_WRITE_BACK",
            super::IOCTL_STEP_WRITE_BACK,
        ),
        ("IKERNEL_IOCTL_STEP_ADDR", super::IOCTL_STEP_ADDR),
        ("IKERNEL_OP_IOCTL_PAGE", super::Op::IoctlPage as u64),
        ("IKERNEL_PAGE_DATA", super::PageReply::Data as u64),
        (
            "IKERNEL_PAGE_UNREADABLE",
            super::PageReply::Unreadable as u64,
        ),
        ("IKERNEL_PAGE_CONTINUE", super::PageReply::Continue as u64),
        ("IKERNEL_PAGE_ABORT", super::PageReply::Abort as u64),
        ("IKERNEL_REMOTE_PAGES_MAX", super::REMOTE_PAGES_MAX as u64),
        ("IKERNEL_MEM_RANGE_WRITABLE", super::MEM_RANGE_WRITABLE),
        ("IKERNEL_WRITE_BACK_HEADER", super::WRITE_BACK_HEADER as u64),
        (
            "IKERNEL_NEW_FILE_IN_RESULT",
            super::NEW_FILE_IN_RESULT as u64,
        ),
        ("IKERNEL_GUEST_IN_WINDOW", GUEST_IN_WINDOW as u64),
        ("IKERNEL_EVENT_DEFER", EVENT_DEFER as u64),
        ("IKERNEL_MAX_EXPORTS", MAX_EXPORTS as u64),
        ("IKERNEL_IOC_GUEST_GET", IOC_GUEST_GET as u64),
        ("IKERNEL_IOC_GUEST_PUT", IOC_GUEST_PUT as u64),
        ("IKERNEL_IOC_GUEST_EVENT", IOC_GUEST_EVENT as u64),
        ("IKERNEL_IOC_GUEST_EXPORTS", IOC_GUEST_EXPORTS as u64),
        c_sizeof!("version", Version),
        c_sizeof!("window", WindowArg),
        c_offsetof!("window", WindowArg, ring_entries),
        c_sizeof!("doorbells", DoorbellsArg),
        c_offsetof!("doorbells", DoorbellsArg, call_fd),
        c_sizeof!("state", StateArg),
        c_offsetof!("state", StateArg, kicks),
        c_offsetof!("state", StateArg, broken),
        c_sizeof!("guest_ram", GuestRamArg),
        c_offsetof!("guest_ram", GuestRamArg, size),
        c_sizeof!("ioctl_desc", IoctlDescArg),
        c_offsetof!("ioctl_desc", IoctlDescArg, dir),
        c_offsetof!("ioctl_desc", IoctlDescArg, size),
        c_sizeof!("export", ExportArg),
        c_offsetof!("export", ExportArg, index),
        c_offsetof!("export", ExportArg, timeout_ms),
        c_offsetof!("export", ExportArg, nr_ioctls),
        c_offsetof!("export", ExportArg, ioctls),
        c_offsetof!("export", ExportArg, minor),
        c_offsetof!("export", ExportArg, flags),
        c_offsetof!("export", ExportArg, guest_path),
        c_offsetof!("export", ExportArg, vm_name),
        c_sizeof!("export_net", ExportNetArg),
        c_offsetof!("export_net", ExportNetArg, index),
        c_offsetof!("export_net", ExportNetArg, mtu),
        c_offsetof!("export_net", ExportNetArg, ifindex),
        c_offsetof!("export_net", ExportNetArg, flags),
        c_offsetof!("export_net", ExportNetArg, guest_if),
        c_offsetof!("export_net", ExportNetArg, vm_name),
        c_sizeof!("guest_req", GuestReq),
        c_offsetof!("guest_req", GuestReq, len),
        c_offsetof!("guest_req", GuestReq, pos),
        c_offsetof!("guest_req", GuestReq, cmd),
        c_offsetof!("guest_req", GuestReq, reply_max),
        c_offsetof!("guest_req", GuestReq, arg),
        c_offsetof!("guest_req", GuestReq, buf),
        c_offsetof!("guest_req", GuestReq, buf_size),
        c_offsetof!("guest_req", GuestReq, mode),
        c_sizeof!("guest_resp", GuestResp),
        c_offsetof!("guest_resp", GuestResp, result),
        c_offsetof!("guest_resp", GuestResp, events),
        c_offsetof!("guest_resp", GuestResp, aux),
        c_offsetof!("guest_resp", GuestResp, buf),
        c_sizeof!("guest_event", GuestEvent),
        c_offsetof!("guest_event", GuestEvent, flags),
        c_sizeof!("guest_exports", GuestExports),
        c_offsetof!("guest_exports", GuestExports, map),
    ]
};
