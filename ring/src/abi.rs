// SPDX-License-Identifier: GPL-2.0

//! The wire constants: magic, version, features, sizes and limits, the
//! header page's field offsets, and the state and opcode enums.

use super::*;

/// Magic number at offset 0 of the window: the bytes `"IKRN"`.
pub const MAGIC: u32 = u32::from_le_bytes(*b"IKRN");

/// ABI version of this layout. Any incompatible change bumps it.
///
/// Version 2 added the guest's report of the exports it can serve
/// ([`hdr::EXPORTS_MAP`], [`hdr::EXPORTS_SEQ`]).
pub const ABI_VERSION: u32 = 2;

/// Feature bit: virtio-style event-index notification suppression.
///
/// Always set in version 1; a peer that does not accept it is refused.
pub const FEATURE_EVENT_IDX: u32 = 1 << 0;
/// Feature bit: network ops ([`Op::NetXmit`], [`Op::NetRecv`],
/// [`Op::NetInfo`]) may be used.
pub const FEATURE_NET: u32 = 1 << 1;
/// Feature bit: block ops ([`Op::BlkRead`] and friends) may be used.
pub const FEATURE_BLOCK: u32 = 1 << 2;
/// Feature bit: [`Op::Mmap`] may be used (the guest can map a node's
/// memory and name its guest-physical pages).
pub const FEATURE_MMAP: u32 = 1 << 3;
/// Feature bit: [`Op::NodeInfo`] may be used (the guest describes its
/// node as its own sysfs shows it).
pub const FEATURE_NODE_INFO: u32 = 1 << 4;
/// Feature bit: ioctls may run against the caller's memory fetched on
/// demand ([`super::remote`], [`Op::IoctlPage`]).
pub const FEATURE_REMOTE_IOCTL: u32 = 1 << 5;
/// All feature bits this version knows.
pub const FEATURES_KNOWN: u32 = FEATURE_EVENT_IDX
    | FEATURE_NET
    | FEATURE_BLOCK
    | FEATURE_MMAP
    | FEATURE_NODE_INFO
    | FEATURE_REMOTE_IOCTL;

/// Size in bytes of the header page at the start of the window.
pub const HEADER_SIZE: u32 = 4096;
/// Size in bytes of one request slot.
pub const REQ_SIZE: u32 = 64;
/// Size in bytes of one response slot.
pub const RESP_SIZE: u32 = 32;
/// Size in bytes of one event slot.
pub const EVT_SIZE: u32 = 32;
/// Smallest number of slots per ring.
pub const MIN_SLOTS: u32 = 2;
/// Largest number of slots per ring (and of requests in flight).
pub const MAX_SLOTS: u32 = 256;
/// Smallest per-slot data buffer, in bytes.
pub const MIN_SLOT_DATA: u32 = 64;
/// Largest per-slot data buffer, in bytes.
pub const MAX_SLOT_DATA: u32 = 1 << 20;
/// The data area starts on a boundary of this many bytes.
pub const DATA_ALIGN: u32 = 4096;
/// Largest errno a negative result may carry (as in `IS_ERR_VALUE`).
pub const MAX_ERRNO: i64 = 4095;
/// Most exports the guest's report ([`ExportsReport`]) can describe: the
/// bits of [`hdr::EXPORTS_MAP`].
pub const MAX_EXPORTS: u32 = 256;
/// `u32` words of [`hdr::EXPORTS_MAP`].
pub const EXPORTS_WORDS: usize = 8;
const _: () = assert!(MAX_EXPORTS == 32 * EXPORTS_WORDS as u32);

// CAST: every `u32 as usize` in this file relies on this.
const _: () = assert!(usize::BITS >= 32);

/// Converts a window offset or length to `usize`.
#[inline]
pub(super) const fn us(x: u32) -> usize {
    // CAST: lossless, `usize` has at least 32 bits (asserted above).
    x as usize
}

/// Byte offsets of the fields of the header page.
///
/// Every index lives in its own 64-byte cache line, and every line has
/// exactly one writer side, noted on each constant.
pub mod hdr {
    /// Magic, [`super::MAGIC`]. Host, written last at initialisation.
    pub const MAGIC: u32 = 0x00;
    /// ABI version, [`super::ABI_VERSION`]. Host.
    pub const VERSION: u32 = 0x04;
    /// Feature bits offered by the host. Host.
    pub const FEATURES: u32 = 0x08;
    /// Size of the whole window in bytes. Host.
    pub const WINDOW_SIZE: u32 = 0x0c;
    /// Generation, changes on every driver-VM restart. Host.
    pub const GENERATION: u32 = 0x10;
    /// Number of slots in each ring, a power of two. Host.
    pub const NUM_SLOTS: u32 = 0x14;
    /// Size of each per-slot data buffer. Host.
    pub const SLOT_DATA_SIZE: u32 = 0x18;
    /// Offset of the request ring. Host.
    pub const REQ_RING_OFF: u32 = 0x1c;
    /// Offset of the response ring. Host.
    pub const RESP_RING_OFF: u32 = 0x20;
    /// Offset of the event ring. Host.
    pub const EVT_RING_OFF: u32 = 0x24;
    /// Offset of the data area. Host.
    pub const DATA_OFF: u32 = 0x28;
    /// Size of the identity line read by the guest at attach time.
    pub const IDENTITY_SIZE: u32 = 0x40;

    /// Host state, [`super::HostState`]. Host.
    pub const HOST_STATE: u32 = 0x40;

    /// Guest state, [`super::GuestState`]. Guest.
    pub const GUEST_STATE: u32 = 0x80;
    /// Heartbeat counter, incremented by the guest while it lives. Guest.
    pub const HEARTBEAT: u32 = 0x84;
    /// The generation the guest attached to. Guest.
    pub const GUEST_GENERATION: u32 = 0x88;
    /// Feature bits the guest accepted. Guest.
    pub const GUEST_FEATURES: u32 = 0x8c;
    /// The exports whose node the guest can serve: bit `i % 32` of word
    /// `i / 32` (eight words, [`super::MAX_EXPORTS`] bits) set for export
    /// `i`. Valid only while [`EXPORTS_SEQ`] is even and non-zero and
    /// unchanged across the read. Guest.
    pub const EXPORTS_MAP: u32 = 0x90;
    /// Sequence word of the exports report: 0 until the guest reported,
    /// odd while it rewrites [`EXPORTS_MAP`], even (never 0) after. Guest.
    pub const EXPORTS_SEQ: u32 = 0xb0;

    /// Request ring producer index. Host.
    pub const REQ_PROD: u32 = 0xc0;
    /// Request ring consumer index. Guest.
    pub const REQ_CONS: u32 = 0x100;
    /// Request ring event index: kick the guest when `REQ_PROD` passes it. Guest.
    pub const REQ_EVENT: u32 = 0x140;
    /// Response ring producer index. Guest.
    pub const RESP_PROD: u32 = 0x180;
    /// Response ring consumer index. Host.
    pub const RESP_CONS: u32 = 0x1c0;
    /// Response ring event index: kick the host when `RESP_PROD` passes it. Host.
    pub const RESP_EVENT: u32 = 0x200;
    /// Event ring producer index. Guest.
    pub const EVT_PROD: u32 = 0x240;
    /// Event ring consumer index. Host.
    pub const EVT_CONS: u32 = 0x280;
    /// Event ring event index: kick the host when `EVT_PROD` passes it. Host.
    pub const EVT_EVENT: u32 = 0x2c0;
    /// End of the used part of the header; the rest is reserved, zero.
    pub const END: u32 = 0x300;

    const _: () = assert!(END <= super::HEADER_SIZE);
    // The report stays in the guest's cache line.
    const _: () = assert!(EXPORTS_MAP >= GUEST_FEATURES + 4);
    const _: () = assert!(EXPORTS_MAP + 4 * super::EXPORTS_WORDS as u32 <= EXPORTS_SEQ);
    const _: () = assert!(EXPORTS_SEQ + 4 <= REQ_PROD);
}

/// State of the host side, in the host state line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum HostState {
    /// The window is being (re)initialised.
    Init = 0,
    /// The host accepts requests and events.
    Ready = 1,
    /// The host is tearing the channel down.
    Closing = 2,
}

impl TryFrom<u32> for HostState {
    type Error = RingError;
    fn try_from(v: u32) -> Result<Self> {
        match v {
            0 => Ok(HostState::Init),
            1 => Ok(HostState::Ready),
            2 => Ok(HostState::Closing),
            _ => Err(RingError::BadState),
        }
    }
}

/// State of the guest side, in the guest state line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum GuestState {
    /// No guest has attached to this generation yet.
    Absent = 0,
    /// The guest serves requests.
    Ready = 1,
    /// The guest stopped serving (orderly shutdown).
    Stopped = 2,
}

impl TryFrom<u32> for GuestState {
    type Error = RingError;
    fn try_from(v: u32) -> Result<Self> {
        match v {
            0 => Ok(GuestState::Absent),
            1 => Ok(GuestState::Ready),
            2 => Ok(GuestState::Stopped),
            _ => Err(RingError::BadState),
        }
    }
}

/// Operation of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Op {
    /// `open` of an exported device node.
    Open = 1,
    /// `release` (last close) of an open file.
    Release = 2,
    /// `read` at a file position.
    Read = 3,
    /// `write` at a file position.
    Write = 4,
    /// `llseek`.
    Llseek = 5,
    /// `unlocked_ioctl` / `compat_ioctl`.
    Ioctl = 6,
    /// `poll`: query readiness and arm asynchronous readiness events.
    Poll = 7,
    /// Interrupt the request whose id is in `arg` (the host's caller got a
    /// signal); answered at once, the interrupted request answers itself.
    Cancel = 8,
    /// `mmap` of a range of an open file: the guest maps it and answers
    /// with the guest-physical frame of each page (`super::ops::MmapReq`);
    /// only with [`FEATURE_MMAP`].
    Mmap = 9,
    /// What the guest's sysfs says the node of export `export` is, as
    /// text (`super::ops::NodeInfoText`); only with [`FEATURE_NODE_INFO`].
    NodeInfo = 10,
    /// The next part of a remote ioctl of the file: a page of the caller's
    /// memory, or what became of the last step (`super::remote`); only
    /// with [`FEATURE_REMOTE_IOCTL`].
    IoctlPage = 11,
    /// Net: transmit a batch of frames on the guest interface (ops
    /// 0x100..=0x1ff are net ops; [`super::net`] has their encoding).
    NetXmit = 0x100,
    /// Net: return the frames the guest interface received, waiting up to
    /// `arg` milliseconds for the first.
    NetRecv = 0x101,
    /// Net: the guest interface's MAC address and MTU.
    NetInfo = 0x102,
    /// Block: read sectors (ops 0x200..=0x2ff are reserved for block).
    BlkRead = 0x200,
    /// Block: write sectors.
    BlkWrite = 0x201,
    /// Block: flush the write cache.
    BlkFlush = 0x202,
}

impl TryFrom<u32> for Op {
    type Error = RingError;
    fn try_from(v: u32) -> Result<Self> {
        Ok(match v {
            1 => Op::Open,
            2 => Op::Release,
            3 => Op::Read,
            4 => Op::Write,
            5 => Op::Llseek,
            6 => Op::Ioctl,
            7 => Op::Poll,
            8 => Op::Cancel,
            9 => Op::Mmap,
            10 => Op::NodeInfo,
            11 => Op::IoctlPage,
            0x100 => Op::NetXmit,
            0x101 => Op::NetRecv,
            0x102 => Op::NetInfo,
            0x200 => Op::BlkRead,
            0x201 => Op::BlkWrite,
            0x202 => Op::BlkFlush,
            _ => return Err(RingError::UnknownOp),
        })
    }
}

impl From<Op> for u32 {
    fn from(op: Op) -> u32 {
        // CAST: `Op` is `repr(u32)`; this reads its discriminant.
        op as u32
    }
}

/// Kind of an asynchronous guest-to-host event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum EventKind {
    /// An open file became ready: `events` holds the poll mask.
    PollReady = 1,
    /// The exported device `export` went away; its open files are dead.
    DeviceGone = 2,
    /// The guest dropped events: re-poll every file that waits.
    Resync = 3,
}

impl TryFrom<u32> for EventKind {
    type Error = RingError;
    fn try_from(v: u32) -> Result<Self> {
        match v {
            1 => Ok(EventKind::PollReady),
            2 => Ok(EventKind::DeviceGone),
            3 => Ok(EventKind::Resync),
            _ => Err(RingError::UnknownEvent),
        }
    }
}

impl From<EventKind> for u32 {
    fn from(k: EventKind) -> u32 {
        // CAST: `EventKind` is `repr(u32)`; this reads its discriminant.
        k as u32
    }
}

/// Poll event bits that may appear on the wire (the `EPOLL*` bits below
/// `1 << 16`).
pub const POLL_KNOWN: u32 = 0xffff;
