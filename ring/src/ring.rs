// SPDX-License-Identifier: GPL-2.0

//! The ikernel shared window: wire ABI and ring algorithm.
//!
//! This one file is the only definition of the layout of the window that the
//! host and a driver VM share. The host kernel module (`host_stub`) and the
//! guest kernel module (`guest_stub`) include it with `#[path]`, and user
//! space (`ivt_shim`, tests, benchmarks) uses it through the `ikernel-ring`
//! cargo crate. It uses only `core`: no allocation, no floating point, no
//! panics on anything read from the peer.
//!
//! All access to the window goes through the [`Shared`] accessor trait, which
//! the kernel implements with the kernel's atomics and user space with
//! `core::sync::atomic`. See `Documentation/ring.rst` for the byte layout
//! and the protocol.

use core::fmt;

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
/// Feature bit: network ops ([`Op::NetXmit`]) may be used.
pub const FEATURE_NET: u32 = 1 << 1;
/// Feature bit: block ops ([`Op::BlkRead`] and friends) may be used.
pub const FEATURE_BLOCK: u32 = 1 << 2;
/// All feature bits this version knows.
pub const FEATURES_KNOWN: u32 = FEATURE_EVENT_IDX | FEATURE_NET | FEATURE_BLOCK;

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
const fn us(x: u32) -> usize {
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

/// Errors of the ring. Errors caused by the peer mark the channel broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingError {
    /// The window does not start with [`MAGIC`] (peer not ready or corrupt).
    BadMagic,
    /// The window has an ABI version other than [`ABI_VERSION`].
    BadVersion,
    /// Unknown or missing feature bits.
    BadFeatures,
    /// Ring geometry, offsets or window size are inconsistent.
    BadLayout,
    /// A state word holds an unknown value.
    BadState,
    /// A peer index moved by more than the ring size (or backwards).
    IndexJump,
    /// A request carries an unknown op.
    UnknownOp,
    /// An event carries an unknown kind.
    UnknownEvent,
    /// A response names a request id that is not in flight.
    UnknownId,
    /// A response names a request that was already answered.
    DuplicateId,
    /// A payload lies outside the data area or outside its own slot buffer.
    PayloadOutOfBounds,
    /// A payload overlaps the payload of another request in flight.
    PayloadOverlap,
    /// A length is larger than what the request allowed.
    LengthTooLong,
    /// A result is neither a value nor a negative errno.
    BadResult,
    /// Poll events or flags hold unknown bits.
    BadBits,
    /// Local: no free slot, or the target ring is full. Retry later.
    Full,
    /// Local: a payload is larger than a slot buffer or a request allows.
    TooLarge,
    /// Local: an offset outside the window was computed (a bug, never peer input).
    OutOfWindow,
}

impl RingError {
    /// Every error in declaration order, so that `ALL[e as usize] == e`.
    /// host_stub reports the violation that broke a ring to the VMM as that
    /// index plus one (`ikernel_state.broken`).
    pub const ALL: [RingError; 18] = [
        RingError::BadMagic,
        RingError::BadVersion,
        RingError::BadFeatures,
        RingError::BadLayout,
        RingError::BadState,
        RingError::IndexJump,
        RingError::UnknownOp,
        RingError::UnknownEvent,
        RingError::UnknownId,
        RingError::DuplicateId,
        RingError::PayloadOutOfBounds,
        RingError::PayloadOverlap,
        RingError::LengthTooLong,
        RingError::BadResult,
        RingError::BadBits,
        RingError::Full,
        RingError::TooLarge,
        RingError::OutOfWindow,
    ];

    /// Returns true if the error was caused by the peer (the channel is broken).
    pub fn is_peer_fault(self) -> bool {
        !matches!(
            self,
            RingError::Full | RingError::TooLarge | RingError::OutOfWindow
        )
    }

    /// Returns the negative errno a system call should fail with.
    pub fn to_errno(self) -> i32 {
        match self {
            // EAGAIN.
            RingError::Full => -11,
            // E2BIG.
            RingError::TooLarge => -7,
            // EIO.
            _ => -5,
        }
    }
}

impl fmt::Display for RingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Result type of the ring.
pub type Result<T, E = RingError> = core::result::Result<T, E>;

/// Access to the shared window: the only place where memory is touched.
///
/// Offsets are byte offsets from the start of the window. Callers (the
/// [`Window`] wrapper in this file) check every offset against
/// [`Shared::size`] before calling an unsafe method.
///
/// # Safety
///
/// Implementers guarantee that [`Shared::size`] always returns the same value
/// and that every byte in `0..size()` of the window stays mapped, readable
/// and writable for as long as the implementer lives, so that every access
/// that satisfies a method's `# Safety` section is valid. The memory may be
/// written concurrently by the peer at any time.
pub unsafe trait Shared {
    /// Returns the size of the window in bytes.
    fn size(&self) -> usize;

    /// Loads the `u32` at `off` with acquire ordering (`smp_load_acquire`).
    ///
    /// # Safety
    ///
    /// `off` is a multiple of 4 and `off + 4 <= self.size()`.
    unsafe fn load_acquire(&self, off: usize) -> u32;

    /// Stores `val` to the `u32` at `off` with release ordering
    /// (`smp_store_release`).
    ///
    /// # Safety
    ///
    /// `off` is a multiple of 4 and `off + 4 <= self.size()`.
    unsafe fn store_release(&self, off: usize, val: u32);

    /// Full memory barrier (`smp_mb`).
    fn full_barrier(&self);

    /// Copies `dst.len()` bytes at `off` into `dst`, as one volatile copy.
    ///
    /// The copy may observe concurrent peer writes torn; it never faults.
    ///
    /// # Safety
    ///
    /// `off + dst.len() <= self.size()` without overflow.
    unsafe fn read_bytes(&self, off: usize, dst: &mut [u8]);

    /// Copies `src` to the window at `off`, as one volatile copy.
    ///
    /// # Safety
    ///
    /// `off + src.len() <= self.size()` without overflow.
    unsafe fn write_bytes(&self, off: usize, src: &[u8]);
}

// SAFETY: Forwards to `T`, which upholds the contract.
unsafe impl<T: Shared + ?Sized> Shared for &T {
    fn size(&self) -> usize {
        (**self).size()
    }
    unsafe fn load_acquire(&self, off: usize) -> u32 {
        // SAFETY: The caller upholds the contract, which is the same.
        unsafe { (**self).load_acquire(off) }
    }
    unsafe fn store_release(&self, off: usize, val: u32) {
        // SAFETY: The caller upholds the contract, which is the same.
        unsafe { (**self).store_release(off, val) }
    }
    fn full_barrier(&self) {
        (**self).full_barrier()
    }
    unsafe fn read_bytes(&self, off: usize, dst: &mut [u8]) {
        // SAFETY: The caller upholds the contract, which is the same.
        unsafe { (**self).read_bytes(off, dst) }
    }
    unsafe fn write_bytes(&self, off: usize, src: &[u8]) {
        // SAFETY: The caller upholds the contract, which is the same.
        unsafe { (**self).write_bytes(off, src) }
    }
}

/// Bounds-checked access to a [`Shared`] window.
///
/// # Invariants
///
/// `size == mem.size()`.
pub struct Window<S: Shared> {
    mem: S,
    size: usize,
}

impl<S: Shared> Window<S> {
    /// Wraps an accessor.
    pub fn new(mem: S) -> Self {
        let size = mem.size();
        // INVARIANT: `Shared::size` is constant by the trait's contract.
        Window { mem, size }
    }

    /// Returns the size of the window in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Returns the accessor.
    pub fn inner(&self) -> &S {
        &self.mem
    }

    fn check(&self, off: u32, len: usize, align: u32) -> Result<usize> {
        let off = us(off);
        if off & us(align - 1) != 0 {
            return Err(RingError::OutOfWindow);
        }
        match off.checked_add(len) {
            Some(end) if end <= self.size => Ok(off),
            _ => Err(RingError::OutOfWindow),
        }
    }

    /// Loads the `u32` at `off` with acquire ordering.
    pub fn load(&self, off: u32) -> Result<u32> {
        let off = self.check(off, 4, 4)?;
        // SAFETY: `check` proved `off` 4-aligned and `off + 4 <= size`, and
        // `size == mem.size()` by the type invariant.
        Ok(unsafe { self.mem.load_acquire(off) })
    }

    /// Stores `val` to the `u32` at `off` with release ordering.
    pub fn store(&self, off: u32, val: u32) -> Result<()> {
        let off = self.check(off, 4, 4)?;
        // SAFETY: As in `load`.
        unsafe { self.mem.store_release(off, val) };
        Ok(())
    }

    /// Full memory barrier.
    pub fn mb(&self) {
        self.mem.full_barrier()
    }

    /// Copies bytes at `off` into `dst`.
    pub fn read(&self, off: u32, dst: &mut [u8]) -> Result<()> {
        let off = self.check(off, dst.len(), 1)?;
        // SAFETY: `check` proved `off + dst.len() <= size == mem.size()`.
        unsafe { self.mem.read_bytes(off, dst) };
        Ok(())
    }

    /// Copies `src` to the window at `off`.
    pub fn write(&self, off: u32, src: &[u8]) -> Result<()> {
        let off = self.check(off, src.len(), 1)?;
        // SAFETY: `check` proved `off + src.len() <= size == mem.size()`.
        unsafe { self.mem.write_bytes(off, src) };
        Ok(())
    }

    /// Lets `f` move the `len` bytes at `off` itself, for a copy the ring
    /// cannot make (straight to or from a user buffer): `f` gets the
    /// accessor and the range as `usize`s, checked to lie in the window.
    pub fn with_range<R>(
        &self,
        off: u32,
        len: usize,
        f: impl FnOnce(&S, usize, usize) -> R,
    ) -> Result<R> {
        let off = self.check(off, len, 1)?;
        Ok(f(&self.mem, off, len))
    }
}

/// The guest's report of the exports whose node it can serve, as read by
/// the host or the VMM.
///
/// The report is for telling people (logs, statistics, when to say
/// "ready"); nothing else trusts it: every call is forwarded whatever it
/// says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportsReport {
    /// The guest has not reported since the header was last initialised
    /// (this generation).
    NotReported,
    /// The guest was rewriting its report during the read: read again later.
    Changing,
    /// A consistent report.
    Reported(ExportsSeen),
}

/// A consistent exports report, cut to the configured exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportsSeen {
    /// The sequence word it was read under.
    pub seq: u32,
    /// The guest set bits beyond the configured exports (ignored).
    pub stray: bool,
    map: [u32; EXPORTS_WORDS],
}

impl ExportsSeen {
    /// Whether the guest reported export `index` as served; false for an
    /// index beyond the configured exports.
    pub fn present(&self, index: u32) -> bool {
        self.map
            .get(us(index / 32))
            .is_some_and(|w| w & (1 << (index % 32)) != 0)
    }

    /// How many of the configured exports the guest serves.
    pub fn served(&self) -> u32 {
        self.map.iter().map(|w| w.count_ones()).sum()
    }
}

/// Reads the guest's exports report for `configured` exports (counts over
/// [`MAX_EXPORTS`] are cut to it).
///
/// Each word is read once: the sequence word, the map, then the sequence
/// word again (a sequence lock; all loads acquire, so the second load of
/// the sequence word cannot pass the map's). A guest that keeps rewriting
/// only ever yields [`ExportsReport::Changing`]; bits beyond `configured`
/// are dropped and flagged in [`ExportsSeen::stray`].
///
/// # Errors
///
/// Only [`RingError::OutOfWindow`], for a window smaller than its header
/// (a bug).
pub fn read_exports<S: Shared>(win: &Window<S>, configured: u32) -> Result<ExportsReport> {
    let seq = win.load(hdr::EXPORTS_SEQ)?;
    if seq == 0 {
        return Ok(ExportsReport::NotReported);
    }
    if seq & 1 != 0 {
        return Ok(ExportsReport::Changing);
    }
    let mut map = [0u32; EXPORTS_WORDS];
    for (w, off) in map.iter_mut().zip((hdr::EXPORTS_MAP..).step_by(4)) {
        *w = win.load(off)?;
    }
    if win.load(hdr::EXPORTS_SEQ)? != seq {
        return Ok(ExportsReport::Changing);
    }
    let n = configured.min(MAX_EXPORTS);
    let mut stray = false;
    for (w, first) in map.iter_mut().zip((0u32..).step_by(32)) {
        let keep = match n.saturating_sub(first) {
            0 => 0,
            k if k >= 32 => u32::MAX,
            k => (1u32 << k) - 1,
        };
        stray |= *w & !keep != 0;
        *w &= keep;
    }
    Ok(ExportsReport::Reported(ExportsSeen { seq, stray, map }))
}

/// The sequence values a guest writes to [`hdr::EXPORTS_SEQ`] for its next
/// report after `seq`: an odd one while it rewrites the map, then an even,
/// non-zero one (0 means "not reported", so the wrap skips it).
pub fn exports_seq_after(seq: u32) -> (u32, u32) {
    let odd = seq.wrapping_add(1) | 1;
    let even = match odd.wrapping_add(1) {
        0 => 2,
        e => e,
    };
    (odd, even)
}

/// Returns true if moving an index from `old` to `new_idx` passes
/// `event_idx`, so the peer asked to be notified (virtio's
/// `vring_need_event`, on free-running `u32` indices).
#[inline]
pub fn ring_need_event(event_idx: u32, new_idx: u32, old: u32) -> bool {
    new_idx.wrapping_sub(event_idx).wrapping_sub(1) < new_idx.wrapping_sub(old)
}

/// The geometry of a window: where each ring and the data area lie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Number of slots in each ring, a power of two.
    pub num_slots: u32,
    /// Size of the data buffer owned by each slot.
    pub slot_data_size: u32,
    /// Offset of the request ring.
    pub req_off: u32,
    /// Offset of the response ring.
    pub resp_off: u32,
    /// Offset of the event ring.
    pub evt_off: u32,
    /// Offset of the data area.
    pub data_off: u32,
    /// Smallest window size that holds this layout.
    pub min_size: u32,
}

impl Layout {
    /// Computes the layout for `num_slots` slots of `slot_data_size` bytes.
    ///
    /// # Errors
    ///
    /// [`RingError::BadLayout`] unless `num_slots` is a power of two in
    /// `MIN_SLOTS..=MAX_SLOTS` and `slot_data_size` a multiple of 64 in
    /// `MIN_SLOT_DATA..=MAX_SLOT_DATA`, and the total fits in `u32`.
    pub fn new(num_slots: u32, slot_data_size: u32) -> Result<Layout> {
        if !num_slots.is_power_of_two()
            || !(MIN_SLOTS..=MAX_SLOTS).contains(&num_slots)
            || !(MIN_SLOT_DATA..=MAX_SLOT_DATA).contains(&slot_data_size)
            || slot_data_size & 63 != 0
        {
            return Err(RingError::BadLayout);
        }
        // OVERFLOW: num_slots <= 256 and slot sizes <= 64 keep these small.
        let req_off = HEADER_SIZE;
        let resp_off = req_off + num_slots * REQ_SIZE;
        let evt_off = resp_off + num_slots * RESP_SIZE;
        let rings_end = evt_off + num_slots * EVT_SIZE;
        let data_off = rings_end.div_ceil(DATA_ALIGN) * DATA_ALIGN;
        let data_size = u64::from(num_slots) * u64::from(slot_data_size);
        let min_size =
            u32::try_from(u64::from(data_off) + data_size).map_err(|_| RingError::BadLayout)?;
        Ok(Layout {
            num_slots,
            slot_data_size,
            req_off,
            resp_off,
            evt_off,
            data_off,
            min_size,
        })
    }

    /// Computes the layout of a window of `window_size` bytes with
    /// `num_slots` slots: the largest per-slot buffer (a multiple of 64,
    /// at most `MAX_SLOT_DATA`) that fits.
    ///
    /// # Errors
    ///
    /// [`RingError::BadLayout`] if `num_slots` is not valid or the window is
    /// too small for `num_slots` buffers of `MIN_SLOT_DATA` bytes.
    pub fn for_window(window_size: u64, num_slots: u32) -> Result<Layout> {
        let probe = Layout::new(num_slots, MIN_SLOT_DATA)?;
        let room = window_size
            .checked_sub(u64::from(probe.data_off))
            .ok_or(RingError::BadLayout)?
            / u64::from(num_slots);
        let per_slot = (room & !63).min(u64::from(MAX_SLOT_DATA));
        let per_slot = u32::try_from(per_slot).map_err(|_| RingError::BadLayout)?;
        let layout = Layout::new(num_slots, per_slot)?;
        if u64::from(layout.min_size) > window_size {
            return Err(RingError::BadLayout);
        }
        Ok(layout)
    }

    /// Returns the mask that turns a free-running index into a slot number.
    pub fn mask(&self) -> u32 {
        self.num_slots - 1
    }

    /// Returns the window offset of request slot `idx & mask`.
    pub fn req_slot(&self, idx: u32) -> u32 {
        self.req_off + (idx & self.mask()) * REQ_SIZE
    }

    /// Returns the window offset of response slot `idx & mask`.
    pub fn resp_slot(&self, idx: u32) -> u32 {
        self.resp_off + (idx & self.mask()) * RESP_SIZE
    }

    /// Returns the window offset of event slot `idx & mask`.
    pub fn evt_slot(&self, idx: u32) -> u32 {
        self.evt_off + (idx & self.mask()) * EVT_SIZE
    }

    /// Returns the offset, relative to the data area, of the buffer of `tag`.
    pub fn buf_rel(&self, tag: u32) -> u32 {
        (tag & self.mask()) * self.slot_data_size
    }

    /// Returns the window offset of the data buffer of `tag`.
    pub fn buf_off(&self, tag: u32) -> u32 {
        self.data_off + self.buf_rel(tag)
    }
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
    /// Net: transmit one frame (ops 0x100..=0x1ff are reserved for net).
    NetXmit = 0x100,
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
            0x100 => Op::NetXmit,
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

/// Little-endian field access on fixed-size byte arrays.
mod le {
    /// Reads the `u32` at `o`; `o + 4 <= N` is a constant at every call site.
    #[inline]
    pub(super) fn get32<const N: usize>(b: &[u8; N], o: usize) -> u32 {
        match b.get(o..o + 4).map(<[u8; 4]>::try_from) {
            Some(Ok(a)) => u32::from_le_bytes(a),
            _ => 0,
        }
    }

    /// Reads the `u64` at `o`; `o + 8 <= N` is a constant at every call site.
    #[inline]
    pub(super) fn get64<const N: usize>(b: &[u8; N], o: usize) -> u64 {
        match b.get(o..o + 8).map(<[u8; 8]>::try_from) {
            Some(Ok(a)) => u64::from_le_bytes(a),
            _ => 0,
        }
    }

    /// Writes `v` at `o`.
    #[inline]
    pub(super) fn put32<const N: usize>(b: &mut [u8; N], o: usize, v: u32) {
        if let Some(s) = b.get_mut(o..o + 4) {
            s.copy_from_slice(&v.to_le_bytes());
        }
    }

    /// Writes `v` at `o`.
    #[inline]
    pub(super) fn put64<const N: usize>(b: &mut [u8; N], o: usize, v: u64) {
        if let Some(s) = b.get_mut(o..o + 8) {
            s.copy_from_slice(&v.to_le_bytes());
        }
    }
}

/// A request slot as it lies in the window (64 bytes, little endian).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct WireRequest {
    /// Request id; its low bits are the slot tag (`id & mask`).
    pub id: u32,
    /// Operation, an [`Op`].
    pub op: u32,
    /// Index of the exported device.
    pub export: u32,
    /// Handle of the open file on the guest (0 for [`Op::Open`]).
    pub handle: u32,
    /// File flags (`O_NONBLOCK`, ...) or op-specific flags.
    pub flags: u32,
    /// Length of the payload sent host to guest.
    pub len: u32,
    /// File position (or `llseek` offset, or sector).
    pub pos: u64,
    /// ioctl command (or `llseek` whence, or poll events wanted).
    pub cmd: u32,
    /// Offset of the payload, relative to the start of the data area.
    pub payload_off: u32,
    /// ioctl argument (or op-specific argument).
    pub arg: u64,
    /// Largest reply payload the guest may return.
    pub reply_max: u32,
    /// Reserved, zero.
    pub reserved0: u32,
    /// Reserved, zero.
    pub reserved1: u64,
}

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<WireRequest>() == 64);
    assert!(offset_of!(WireRequest, id) == 0);
    assert!(offset_of!(WireRequest, op) == 4);
    assert!(offset_of!(WireRequest, export) == 8);
    assert!(offset_of!(WireRequest, handle) == 12);
    assert!(offset_of!(WireRequest, flags) == 16);
    assert!(offset_of!(WireRequest, len) == 20);
    assert!(offset_of!(WireRequest, pos) == 24);
    assert!(offset_of!(WireRequest, cmd) == 32);
    assert!(offset_of!(WireRequest, payload_off) == 36);
    assert!(offset_of!(WireRequest, arg) == 40);
    assert!(offset_of!(WireRequest, reply_max) == 48);
    assert!(offset_of!(WireRequest, reserved0) == 52);
    assert!(offset_of!(WireRequest, reserved1) == 56);
    assert!(size_of::<WireRequest>() == us(REQ_SIZE));
};

impl WireRequest {
    /// Encodes to the wire format.
    pub fn encode(&self) -> [u8; 64] {
        let mut b = [0u8; 64];
        le::put32(&mut b, 0, self.id);
        le::put32(&mut b, 4, self.op);
        le::put32(&mut b, 8, self.export);
        le::put32(&mut b, 12, self.handle);
        le::put32(&mut b, 16, self.flags);
        le::put32(&mut b, 20, self.len);
        le::put64(&mut b, 24, self.pos);
        le::put32(&mut b, 32, self.cmd);
        le::put32(&mut b, 36, self.payload_off);
        le::put64(&mut b, 40, self.arg);
        le::put32(&mut b, 48, self.reply_max);
        le::put32(&mut b, 52, self.reserved0);
        le::put64(&mut b, 56, self.reserved1);
        b
    }

    /// Decodes from the wire format (no validation).
    pub fn decode(b: &[u8; 64]) -> Self {
        WireRequest {
            id: le::get32(b, 0),
            op: le::get32(b, 4),
            export: le::get32(b, 8),
            handle: le::get32(b, 12),
            flags: le::get32(b, 16),
            len: le::get32(b, 20),
            pos: le::get64(b, 24),
            cmd: le::get32(b, 32),
            payload_off: le::get32(b, 36),
            arg: le::get64(b, 40),
            reply_max: le::get32(b, 48),
            reserved0: le::get32(b, 52),
            reserved1: le::get64(b, 56),
        }
    }
}

/// A response slot as it lies in the window (32 bytes, little endian).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct WireResponse {
    /// Id of the request answered.
    pub id: u32,
    /// Length of the reply payload, at the start of the request's buffer.
    pub len: u32,
    /// Result: a value, or a negative errno in `-MAX_ERRNO..0`.
    pub result: i64,
    /// Poll events (for [`Op::Poll`]), else zero.
    pub events: u32,
    /// Reserved, zero.
    pub flags: u32,
    /// Op-specific value: the new file position after a read, write or
    /// llseek, the file's capabilities after an open; else zero.
    pub aux: u64,
}

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<WireResponse>() == us(RESP_SIZE));
    assert!(offset_of!(WireResponse, id) == 0);
    assert!(offset_of!(WireResponse, len) == 4);
    assert!(offset_of!(WireResponse, result) == 8);
    assert!(offset_of!(WireResponse, events) == 16);
    assert!(offset_of!(WireResponse, flags) == 20);
    assert!(offset_of!(WireResponse, aux) == 24);
};

impl WireResponse {
    /// Encodes to the wire format.
    pub fn encode(&self) -> [u8; 32] {
        let mut b = [0u8; 32];
        le::put32(&mut b, 0, self.id);
        le::put32(&mut b, 4, self.len);
        le::put64(&mut b, 8, u64::from_ne_bytes(self.result.to_ne_bytes()));
        le::put32(&mut b, 16, self.events);
        le::put32(&mut b, 20, self.flags);
        le::put64(&mut b, 24, self.aux);
        b
    }

    /// Decodes from the wire format (no validation).
    pub fn decode(b: &[u8; 32]) -> Self {
        WireResponse {
            id: le::get32(b, 0),
            len: le::get32(b, 4),
            result: i64::from_ne_bytes(le::get64(b, 8).to_ne_bytes()),
            events: le::get32(b, 16),
            flags: le::get32(b, 20),
            aux: le::get64(b, 24),
        }
    }
}

/// An event slot as it lies in the window (32 bytes, little endian).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct WireEvent {
    /// Kind, an [`EventKind`].
    pub kind: u32,
    /// Index of the exported device.
    pub export: u32,
    /// Handle of the open file, or zero.
    pub handle: u32,
    /// Poll events for [`EventKind::PollReady`], else zero.
    pub events: u32,
    /// Reserved, zero.
    pub reserved0: u64,
    /// Reserved, zero.
    pub reserved1: u64,
}

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<WireEvent>() == us(EVT_SIZE));
    assert!(offset_of!(WireEvent, kind) == 0);
    assert!(offset_of!(WireEvent, export) == 4);
    assert!(offset_of!(WireEvent, handle) == 8);
    assert!(offset_of!(WireEvent, events) == 12);
    assert!(offset_of!(WireEvent, reserved0) == 16);
    assert!(offset_of!(WireEvent, reserved1) == 24);
};

impl WireEvent {
    /// Encodes to the wire format.
    pub fn encode(&self) -> [u8; 32] {
        let mut b = [0u8; 32];
        le::put32(&mut b, 0, self.kind);
        le::put32(&mut b, 4, self.export);
        le::put32(&mut b, 8, self.handle);
        le::put32(&mut b, 12, self.events);
        le::put64(&mut b, 16, self.reserved0);
        le::put64(&mut b, 24, self.reserved1);
        b
    }

    /// Decodes from the wire format (no validation).
    pub fn decode(b: &[u8; 32]) -> Self {
        WireEvent {
            kind: le::get32(b, 0),
            export: le::get32(b, 4),
            handle: le::get32(b, 8),
            events: le::get32(b, 12),
            reserved0: le::get64(b, 16),
            reserved1: le::get64(b, 24),
        }
    }
}

/// The identity line of the header (offsets `0x00..0x40`), host-written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    /// Magic, must be [`MAGIC`].
    pub magic: u32,
    /// ABI version, must be [`ABI_VERSION`].
    pub version: u32,
    /// Feature bits offered.
    pub features: u32,
    /// Window size in bytes.
    pub window_size: u32,
    /// Generation.
    pub generation: u32,
    /// The layout.
    pub layout: Layout,
}

impl Identity {
    /// Encodes the identity line.
    pub fn encode(&self) -> [u8; 64] {
        let mut b = [0u8; 64];
        let l = &self.layout;
        le::put32(&mut b, us(hdr::MAGIC), self.magic);
        le::put32(&mut b, us(hdr::VERSION), self.version);
        le::put32(&mut b, us(hdr::FEATURES), self.features);
        le::put32(&mut b, us(hdr::WINDOW_SIZE), self.window_size);
        le::put32(&mut b, us(hdr::GENERATION), self.generation);
        le::put32(&mut b, us(hdr::NUM_SLOTS), l.num_slots);
        le::put32(&mut b, us(hdr::SLOT_DATA_SIZE), l.slot_data_size);
        le::put32(&mut b, us(hdr::REQ_RING_OFF), l.req_off);
        le::put32(&mut b, us(hdr::RESP_RING_OFF), l.resp_off);
        le::put32(&mut b, us(hdr::EVT_RING_OFF), l.evt_off);
        le::put32(&mut b, us(hdr::DATA_OFF), l.data_off);
        b
    }

    /// Decodes and validates an identity line read from a window of
    /// `window_size` bytes.
    ///
    /// # Errors
    ///
    /// [`RingError::BadMagic`], [`RingError::BadVersion`],
    /// [`RingError::BadFeatures`] or [`RingError::BadLayout`].
    pub fn decode(b: &[u8; 64], window_size: usize) -> Result<Identity> {
        let magic = le::get32(b, us(hdr::MAGIC));
        if magic != MAGIC {
            return Err(RingError::BadMagic);
        }
        let version = le::get32(b, us(hdr::VERSION));
        if version != ABI_VERSION {
            return Err(RingError::BadVersion);
        }
        let features = le::get32(b, us(hdr::FEATURES));
        if features & !FEATURES_KNOWN != 0 || features & FEATURE_EVENT_IDX == 0 {
            return Err(RingError::BadFeatures);
        }
        let layout = Layout::new(
            le::get32(b, us(hdr::NUM_SLOTS)),
            le::get32(b, us(hdr::SLOT_DATA_SIZE)),
        )?;
        let size = le::get32(b, us(hdr::WINDOW_SIZE));
        if le::get32(b, us(hdr::REQ_RING_OFF)) != layout.req_off
            || le::get32(b, us(hdr::RESP_RING_OFF)) != layout.resp_off
            || le::get32(b, us(hdr::EVT_RING_OFF)) != layout.evt_off
            || le::get32(b, us(hdr::DATA_OFF)) != layout.data_off
            || size < layout.min_size
            || us(size) > window_size
        {
            return Err(RingError::BadLayout);
        }
        Ok(Identity {
            magic,
            version,
            features,
            window_size: size,
            generation: le::get32(b, us(hdr::GENERATION)),
            layout,
        })
    }
}

/// What the host asks for in a request (everything but id and payload place).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestDesc {
    /// Operation.
    pub op: Op,
    /// Index of the exported device.
    pub export: u32,
    /// Guest handle of the open file.
    pub handle: u32,
    /// File flags.
    pub flags: u32,
    /// File position.
    pub pos: u64,
    /// ioctl command.
    pub cmd: u32,
    /// ioctl argument.
    pub arg: u64,
    /// Largest reply payload accepted.
    pub reply_max: u32,
}

impl RequestDesc {
    /// Returns a descriptor for `op` with every other field zero.
    pub fn new(op: Op) -> Self {
        RequestDesc {
            op,
            export: 0,
            handle: 0,
            flags: 0,
            pos: 0,
            cmd: 0,
            arg: 0,
            reply_max: 0,
        }
    }
}

/// A validated request, as the guest sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// Request id, to be echoed in the response.
    pub id: u32,
    /// Slot tag, `id & mask`: the request owns data buffer `tag`.
    pub tag: u32,
    /// The request itself.
    pub desc: RequestDesc,
    /// Offset of the payload relative to the data area (inside buffer `tag`).
    pub payload_off: u32,
    /// Length of the payload.
    pub len: u32,
}

/// A validated response, as the host sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// Request id.
    pub id: u32,
    /// Slot tag of the request.
    pub tag: u32,
    /// Operation of the request.
    pub op: Op,
    /// Result: a value, or a negative errno.
    pub result: i64,
    /// Length of the reply payload, `<= reply_max` of the request.
    pub len: u32,
    /// Poll events.
    pub events: u32,
    /// Op-specific value ([`WireResponse::aux`]); not validated here.
    pub aux: u64,
}

/// A validated asynchronous event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// Kind.
    pub kind: EventKind,
    /// Exported device.
    pub export: u32,
    /// Open file handle.
    pub handle: u32,
    /// Poll events.
    pub events: u32,
}

impl Event {
    /// Encodes to the wire format.
    pub fn to_wire(self) -> WireEvent {
        WireEvent {
            kind: u32::from(self.kind),
            export: self.export,
            handle: self.handle,
            events: self.events,
            reserved0: 0,
            reserved1: 0,
        }
    }

    /// Validates a wire event.
    ///
    /// # Errors
    ///
    /// [`RingError::UnknownEvent`] or [`RingError::BadBits`].
    pub fn from_wire(w: &WireEvent) -> Result<Event> {
        let kind = EventKind::try_from(w.kind)?;
        if w.events & !POLL_KNOWN != 0 || w.reserved0 != 0 || w.reserved1 != 0 {
            return Err(RingError::BadBits);
        }
        Ok(Event {
            kind,
            export: w.export,
            handle: w.handle,
            events: w.events,
        })
    }
}

/// State of one slot tag in the host's in-flight table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotState {
    /// Not in use.
    Free,
    /// Request sent, no response yet.
    Pending,
    /// Response received; the caller has not released the slot yet.
    Answered,
    /// The caller gave up waiting; the slot is freed when the response comes.
    Abandoned,
}

/// What the host remembers about one request in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InflightEntry {
    /// State of the slot.
    pub state: SlotState,
    /// Id of the current (or last) request in this slot.
    pub id: u32,
    /// Whether `id` was ever used (a response to a completed id is a duplicate).
    pub used: bool,
    /// Operation of the request.
    pub op: Op,
    /// Length of the payload sent.
    pub len: u32,
    /// Largest reply payload accepted.
    pub reply_max: u32,
}

impl InflightEntry {
    /// A free entry for `tag`.
    const fn free(tag: u32) -> Self {
        InflightEntry {
            state: SlotState::Free,
            id: tag,
            used: false,
            op: Op::Open,
            len: 0,
            reply_max: 0,
        }
    }
}

const FREE_WORDS: usize = us(MAX_SLOTS / 64);

/// The host's table of requests in flight, indexed by slot tag.
pub struct Inflight {
    num_slots: u32,
    entries: [InflightEntry; us(MAX_SLOTS)],
    free: [u64; FREE_WORDS],
    busy: u32,
}

impl Inflight {
    /// Creates a table with `num_slots` free tags.
    pub fn new(num_slots: u32) -> Self {
        let mut table = core::mem::MaybeUninit::<Self>::uninit();
        // SAFETY: `table` is valid for writes and aligned, and `init_at`
        // initialises every field.
        unsafe {
            Self::init_at(table.as_mut_ptr(), num_slots);
            table.assume_init()
        }
    }

    /// Initialises a table with `num_slots` free tags at `slot`, one entry
    /// at a time, so that no table-sized temporary is built on the stack.
    ///
    /// # Safety
    ///
    /// `slot` is valid for writes of an `Inflight` and properly aligned.
    /// Afterwards it is initialised.
    pub unsafe fn init_at(slot: *mut Self, num_slots: u32) {
        let num_slots = num_slots.clamp(1, MAX_SLOTS);
        // SAFETY: `slot` is valid and aligned (the caller's contract); this
        // only computes the address of a field.
        let entries = unsafe { core::ptr::addr_of_mut!((*slot).entries) }.cast::<InflightEntry>();
        for (tag, i) in (0u32..).zip(0..us(MAX_SLOTS)) {
            // SAFETY: `i < MAX_SLOTS`, the length of the `entries` array of
            // `*slot`, which is valid for writes by the caller's contract.
            unsafe { entries.add(i).write(InflightEntry::free(tag)) };
        }
        // SAFETY: As above, for the remaining fields.
        unsafe {
            core::ptr::addr_of_mut!((*slot).num_slots).write(num_slots);
            core::ptr::addr_of_mut!((*slot).free).write(Self::free_mask(num_slots));
            core::ptr::addr_of_mut!((*slot).busy).write(0);
        }
    }

    /// Makes every tag free again, for `num_slots` slots, in place.
    pub fn reinit(&mut self, num_slots: u32) {
        let num_slots = num_slots.clamp(1, MAX_SLOTS);
        for (tag, e) in (0u32..).zip(self.entries.iter_mut()) {
            *e = InflightEntry::free(tag);
        }
        self.num_slots = num_slots;
        self.free = Self::free_mask(num_slots);
        self.busy = 0;
    }

    fn free_mask(num_slots: u32) -> [u64; FREE_WORDS] {
        let mut free = [0u64; FREE_WORDS];
        for tag in 0..num_slots {
            if let Some(w) = free.get_mut(us(tag / 64)) {
                *w |= 1 << (tag % 64);
            }
        }
        free
    }

    /// Returns the number of slots not free.
    pub fn busy(&self) -> u32 {
        self.busy
    }

    /// Returns the entry of `tag`, if `tag` is a slot.
    pub fn get(&self, tag: u32) -> Option<&InflightEntry> {
        if tag < self.num_slots {
            self.entries.get(us(tag))
        } else {
            None
        }
    }

    fn get_mut(&mut self, tag: u32) -> Option<&mut InflightEntry> {
        if tag < self.num_slots {
            self.entries.get_mut(us(tag))
        } else {
            None
        }
    }

    /// Takes a free tag and gives it a fresh id; returns `(tag, id)`.
    fn alloc(&mut self, op: Op, len: u32, reply_max: u32) -> Option<(u32, u32)> {
        let n = self.num_slots;
        let (wi, w) = (0u32..).zip(self.free.iter_mut()).find(|(_, w)| **w != 0)?;
        let bit = w.trailing_zeros();
        *w &= !(1u64 << bit);
        let tag = wi * 64 + bit;
        let e = self.entries.get_mut(us(tag))?;
        // A fresh id for the same tag: the sequence lives above the tag bits.
        let id = if e.used { e.id.wrapping_add(n) } else { tag };
        *e = InflightEntry {
            state: SlotState::Pending,
            id,
            used: true,
            op,
            len,
            reply_max,
        };
        self.busy += 1;
        Some((tag, id))
    }

    fn free_tag(&mut self, tag: u32) {
        if let Some(e) = self.get_mut(tag) {
            if e.state != SlotState::Free {
                e.state = SlotState::Free;
                if let Some(w) = self.free.get_mut(us(tag / 64)) {
                    *w |= 1 << (tag % 64);
                }
                self.busy = self.busy.saturating_sub(1);
            }
        }
    }
}

/// Validates a response read from the window against the in-flight table.
///
/// This is a pure function: it reads only its arguments.
///
/// # Errors
///
/// [`RingError::UnknownId`], [`RingError::DuplicateId`],
/// [`RingError::LengthTooLong`], [`RingError::BadResult`] or
/// [`RingError::BadBits`].
pub fn check_response(table: &Inflight, raw: &WireResponse) -> Result<Completion> {
    let tag = raw.id & (table.num_slots - 1);
    let e = table.get(tag).ok_or(RingError::UnknownId)?;
    if !e.used || e.id != raw.id {
        return Err(RingError::UnknownId);
    }
    match e.state {
        SlotState::Pending | SlotState::Abandoned => {}
        SlotState::Answered | SlotState::Free => return Err(RingError::DuplicateId),
    }
    if raw.len > e.reply_max {
        return Err(RingError::LengthTooLong);
    }
    if raw.result < -MAX_ERRNO {
        return Err(RingError::BadResult);
    }
    if raw.events & !POLL_KNOWN != 0 || raw.flags != 0 {
        return Err(RingError::BadBits);
    }
    if raw.result >= 0 {
        // OVERFLOW: `result` is non-negative here.
        let value = raw.result.unsigned_abs();
        match e.op {
            // A read returns exactly the bytes it put in the buffer.
            Op::Read | Op::BlkRead if value != u64::from(raw.len) => {
                return Err(RingError::LengthTooLong);
            }
            // A write cannot write more than it was given.
            Op::Write | Op::BlkWrite | Op::NetXmit if value > u64::from(e.len) => {
                return Err(RingError::LengthTooLong);
            }
            _ => {}
        }
    }
    Ok(Completion {
        id: raw.id,
        tag,
        op: e.op,
        result: raw.result,
        len: raw.len,
        events: raw.events,
        aux: raw.aux,
    })
}

/// Validates a request read from the window (guest side).
///
/// `busy` tells whether a tag already has a request in flight on the guest.
///
/// # Errors
///
/// [`RingError::UnknownOp`], [`RingError::PayloadOutOfBounds`],
/// [`RingError::PayloadOverlap`], [`RingError::LengthTooLong`] or
/// [`RingError::BadBits`].
pub fn check_request(
    layout: &Layout,
    raw: &WireRequest,
    busy: impl Fn(u32) -> bool,
) -> Result<Request> {
    let op = Op::try_from(raw.op)?;
    let tag = raw.id & layout.mask();
    if busy(tag) {
        return Err(RingError::PayloadOverlap);
    }
    let start = layout.buf_rel(tag);
    let end = start
        .checked_add(layout.slot_data_size)
        .ok_or(RingError::PayloadOutOfBounds)?;
    let pend = raw
        .payload_off
        .checked_add(raw.len)
        .ok_or(RingError::PayloadOutOfBounds)?;
    if raw.payload_off < start || pend > end {
        return Err(RingError::PayloadOutOfBounds);
    }
    if raw.reply_max > layout.slot_data_size {
        return Err(RingError::LengthTooLong);
    }
    if raw.reserved0 != 0 || raw.reserved1 != 0 {
        return Err(RingError::BadBits);
    }
    Ok(Request {
        id: raw.id,
        tag,
        desc: RequestDesc {
            op,
            export: raw.export,
            handle: raw.handle,
            flags: raw.flags,
            pos: raw.pos,
            cmd: raw.cmd,
            arg: raw.arg,
            reply_max: raw.reply_max,
        },
        payload_off: raw.payload_off,
        len: raw.len,
    })
}

/// A request just published by the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Submitted {
    /// Request id; the response carries it.
    pub id: u32,
    /// Slot tag of the request.
    pub tag: u32,
}

/// The host side: produces requests, consumes responses and events.
///
/// The host owns the window: it initialises the header and bumps the
/// generation on every driver-VM restart. Every value read from the window
/// is copied once and validated; the first peer fault is sticky and every
/// later call returns it.
pub struct Host<S: Shared> {
    win: Window<S>,
    ident: Identity,
    inflight: Inflight,
    req_prod: u32,
    req_kicked: u32,
    resp_cons: u32,
    evt_cons: u32,
    broken: Option<RingError>,
}

impl<S: Shared> Host<S> {
    /// Initialises the window for generation `generation` and returns the host.
    ///
    /// # Errors
    ///
    /// [`RingError::BadLayout`] if the window is too small or larger than
    /// 4 GiB, [`RingError::BadFeatures`] for unknown features.
    pub fn new(mem: S, layout: Layout, features: u32, generation: u32) -> Result<Self> {
        let mut host = core::mem::MaybeUninit::<Self>::uninit();
        // SAFETY: `host` is valid for writes and aligned; on success
        // `init_in_place` has initialised it.
        unsafe {
            Self::init_in_place(host.as_mut_ptr(), mem, layout, features, generation)?;
            Ok(host.assume_init())
        }
    }

    /// Like [`Host::new`], but initialises the host at `slot` without
    /// building it on the stack first.
    ///
    /// A `Host` is several KiB (the in-flight table); kernel stacks are
    /// small, so the kernel allocates the memory and initialises it here.
    ///
    /// # Errors
    ///
    /// As [`Host::new`]; on error `slot` is left uninitialised.
    ///
    /// # Safety
    ///
    /// `slot` is valid for writes of a `Host<S>` and properly aligned. On
    /// success it holds an initialised `Host<S>`.
    pub unsafe fn init_in_place(
        slot: *mut Self,
        mem: S,
        layout: Layout,
        features: u32,
        generation: u32,
    ) -> Result<()> {
        let win = Window::new(mem);
        let size = u32::try_from(win.size()).map_err(|_| RingError::BadLayout)?;
        if size < layout.min_size {
            return Err(RingError::BadLayout);
        }
        if features & !FEATURES_KNOWN != 0 || features & FEATURE_EVENT_IDX == 0 {
            return Err(RingError::BadFeatures);
        }
        let ident = Identity {
            magic: MAGIC,
            version: ABI_VERSION,
            features,
            window_size: size,
            generation,
            layout,
        };
        // SAFETY: `slot` is valid for writes and aligned (the caller's
        // contract), so are pointers to its fields; every field is written
        // exactly once here, the in-flight table by `Inflight::init_at`.
        unsafe {
            core::ptr::addr_of_mut!((*slot).win).write(win);
            core::ptr::addr_of_mut!((*slot).ident).write(ident);
            Inflight::init_at(core::ptr::addr_of_mut!((*slot).inflight), layout.num_slots);
            core::ptr::addr_of_mut!((*slot).req_prod).write(0);
            core::ptr::addr_of_mut!((*slot).req_kicked).write(0);
            core::ptr::addr_of_mut!((*slot).resp_cons).write(0);
            core::ptr::addr_of_mut!((*slot).evt_cons).write(0);
            core::ptr::addr_of_mut!((*slot).broken).write(None);
        }
        // SAFETY: Every field of `*slot` was initialised above, and nothing
        // else refers to it.
        let host = unsafe { &mut *slot };
        if let Err(e) = host.init_header() {
            // SAFETY: `*slot` is initialised and dropped once; afterwards the
            // caller treats it as uninitialised, as documented.
            unsafe { core::ptr::drop_in_place(slot) };
            return Err(e);
        }
        Ok(())
    }

    fn init_header(&mut self) -> Result<()> {
        let w = &self.win;
        w.store(hdr::MAGIC, 0)?;
        w.mb();
        w.write(0, &[0u8; us(hdr::END)])?;
        let mut id = self.ident.encode();
        // The magic is published last, with release ordering.
        le::put32(&mut id, 0, 0);
        w.write(0, &id)?;
        w.store(hdr::HOST_STATE, HostState::Ready as u32)?;
        w.store(hdr::MAGIC, MAGIC)?;
        w.mb();
        Ok(())
    }

    /// Re-initialises the window for a restarted driver VM.
    ///
    /// Every request in flight is reported to `failed(id, tag)` and freed;
    /// the caller fails its waiter (with `EIO`).
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`], which cannot happen for a window
    /// that passed [`Host::new`].
    pub fn reset(&mut self, generation: u32, mut failed: impl FnMut(u32, u32)) -> Result<()> {
        for tag in 0..self.ident.layout.num_slots {
            if let Some(e) = self.inflight.get(tag) {
                if matches!(e.state, SlotState::Pending | SlotState::Answered) {
                    failed(e.id, tag);
                }
            }
        }
        self.inflight.reinit(self.ident.layout.num_slots);
        self.ident.generation = generation;
        self.req_prod = 0;
        self.req_kicked = 0;
        self.resp_cons = 0;
        self.evt_cons = 0;
        self.broken = None;
        self.init_header()
    }

    /// Returns the layout.
    pub fn layout(&self) -> &Layout {
        &self.ident.layout
    }

    /// Returns the current generation.
    pub fn generation(&self) -> u32 {
        self.ident.generation
    }

    /// Returns the window.
    pub fn window(&self) -> &Window<S> {
        &self.win
    }

    /// Returns the in-flight table.
    pub fn inflight(&self) -> &Inflight {
        &self.inflight
    }

    /// Returns the sticky peer fault, if any.
    pub fn broken(&self) -> Option<RingError> {
        self.broken
    }

    fn ok(&self) -> Result<()> {
        match self.broken {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn fail<T>(&mut self, e: RingError) -> Result<T> {
        if e.is_peer_fault() && self.broken.is_none() {
            self.broken = Some(e);
        }
        Err(e)
    }

    /// Sets the host state word.
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn set_state(&self, s: HostState) -> Result<()> {
        self.win.store(hdr::HOST_STATE, s as u32)
    }

    /// Returns true if a guest attached to the current generation and serves.
    ///
    /// # Errors
    ///
    /// [`RingError::BadState`] if the guest wrote an unknown state.
    pub fn guest_ready(&mut self) -> Result<bool> {
        let st = self.win.load(hdr::GUEST_STATE)?;
        let gen = self.win.load(hdr::GUEST_GENERATION)?;
        let feat = self.win.load(hdr::GUEST_FEATURES)?;
        let st = match GuestState::try_from(st) {
            Ok(s) => s,
            Err(e) => return self.fail(e),
        };
        if st != GuestState::Ready || gen != self.ident.generation {
            return Ok(false);
        }
        if feat & !self.ident.features != 0 || feat & FEATURE_EVENT_IDX == 0 {
            return self.fail(RingError::BadFeatures);
        }
        Ok(true)
    }

    /// Reads the guest's heartbeat counter (any value is valid; the
    /// supervisor checks that it moves).
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn heartbeat(&self) -> Result<u32> {
        self.win.load(hdr::HEARTBEAT)
    }

    /// Reads the guest's report of the exports it serves, for
    /// `configured` exports ([`read_exports`]).
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn exports(&self, configured: u32) -> Result<ExportsReport> {
        read_exports(&self.win, configured)
    }

    /// Writes a request and its payload and publishes it, without notifying.
    ///
    /// Call [`Host::kick_needed`] after one or more pushes.
    ///
    /// # Errors
    ///
    /// [`RingError::Full`] if every slot is in flight,
    /// [`RingError::TooLarge`] if `payload` or `reply_max` exceed a slot
    /// buffer, or the sticky peer fault.
    pub fn push(&mut self, desc: &RequestDesc, payload: &[u8]) -> Result<Submitted> {
        let len = u32::try_from(payload.len()).map_err(|_| RingError::TooLarge)?;
        let pushed = self.push_with(desc, len, |mem, off, n| {
            // SAFETY: `push_with` checked that `off + n` lies in the window,
            // and `n == payload.len()`.
            unsafe { mem.write_bytes(off, payload.get(..n).unwrap_or_default()) };
            true
        })?;
        pushed.ok_or(RingError::TooLarge)
    }

    /// [`Host::push`] with a payload of `len` bytes that `fill` writes into
    /// the request's buffer itself (`fill(accessor, offset, len)`, the range
    /// checked to lie in the window), e.g. straight from a user buffer.
    ///
    /// Returns `None`, with nothing published and the slot free again, if
    /// `fill` returns false.
    ///
    /// # Errors
    ///
    /// As [`Host::push`].
    pub fn push_with(
        &mut self,
        desc: &RequestDesc,
        len: u32,
        fill: impl FnOnce(&S, usize, usize) -> bool,
    ) -> Result<Option<Submitted>> {
        self.ok()?;
        let l = self.ident.layout;
        if len > l.slot_data_size || desc.reply_max > l.slot_data_size {
            return Err(RingError::TooLarge);
        }
        let (tag, id) = self
            .inflight
            .alloc(desc.op, len, desc.reply_max)
            .ok_or(RingError::Full)?;
        let wire = WireRequest {
            id,
            op: u32::from(desc.op),
            export: desc.export,
            handle: desc.handle,
            flags: desc.flags,
            len,
            pos: desc.pos,
            cmd: desc.cmd,
            payload_off: l.buf_rel(tag),
            arg: desc.arg,
            reply_max: desc.reply_max,
            reserved0: 0,
            reserved1: 0,
        };
        let filled = match self.win.with_range(l.buf_off(tag), us(len), fill) {
            Ok(true) => self.win.write(l.req_slot(self.req_prod), &wire.encode()),
            Ok(false) => {
                self.inflight.free_tag(tag);
                return Ok(None);
            }
            Err(e) => Err(e),
        };
        if let Err(e) = filled {
            self.inflight.free_tag(tag);
            return Err(e);
        }
        self.req_prod = self.req_prod.wrapping_add(1);
        self.win.store(hdr::REQ_PROD, self.req_prod)?;
        Ok(Some(Submitted { id, tag }))
    }

    /// Returns true if the guest must be notified of the requests pushed
    /// since the last call (event-index suppression).
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn kick_needed(&mut self) -> Result<bool> {
        self.win.mb();
        let ev = self.win.load(hdr::REQ_EVENT)?;
        let old = self.req_kicked;
        self.req_kicked = self.req_prod;
        Ok(ring_need_event(ev, self.req_prod, old))
    }

    /// Pushes one request and returns it with whether to notify the guest.
    ///
    /// # Errors
    ///
    /// As [`Host::push`].
    pub fn submit(&mut self, desc: &RequestDesc, payload: &[u8]) -> Result<(Submitted, bool)> {
        let s = self.push(desc, payload)?;
        let kick = self.kick_needed()?;
        Ok((s, kick))
    }

    /// [`Host::push_with`], then [`Host::kick_needed`] if it pushed.
    ///
    /// # Errors
    ///
    /// As [`Host::push`].
    pub fn submit_with(
        &mut self,
        desc: &RequestDesc,
        len: u32,
        fill: impl FnOnce(&S, usize, usize) -> bool,
    ) -> Result<Option<(Submitted, bool)>> {
        let Some(s) = self.push_with(desc, len, fill)? else {
            return Ok(None);
        };
        let kick = self.kick_needed()?;
        Ok(Some((s, kick)))
    }

    /// Takes the next response, validated, or `None` if there is none.
    ///
    /// Responses to abandoned requests are consumed and their slots freed
    /// silently. The returned completion keeps its slot busy until
    /// [`Host::release`].
    ///
    /// # Errors
    ///
    /// Any peer fault ([`RingError::IndexJump`], [`RingError::UnknownId`],
    /// [`RingError::DuplicateId`], [`RingError::LengthTooLong`], ...); the
    /// channel is broken from then on.
    pub fn next_response(&mut self) -> Result<Option<Completion>> {
        self.ok()?;
        let l = self.ident.layout;
        loop {
            let prod = self.win.load(hdr::RESP_PROD)?;
            let avail = prod.wrapping_sub(self.resp_cons);
            if avail == 0 {
                return Ok(None);
            }
            if avail > l.num_slots {
                return self.fail(RingError::IndexJump);
            }
            let mut raw = [0u8; us(RESP_SIZE)];
            self.win.read(l.resp_slot(self.resp_cons), &mut raw)?;
            self.resp_cons = self.resp_cons.wrapping_add(1);
            self.win.store(hdr::RESP_CONS, self.resp_cons)?;
            let c = match check_response(&self.inflight, &WireResponse::decode(&raw)) {
                Ok(c) => c,
                Err(e) => return self.fail(e),
            };
            let abandoned = match self.inflight.get_mut(c.tag) {
                Some(e) if e.state == SlotState::Abandoned => true,
                Some(e) => {
                    e.state = SlotState::Answered;
                    false
                }
                None => return self.fail(RingError::UnknownId),
            };
            if abandoned {
                self.inflight.free_tag(c.tag);
                continue;
            }
            return Ok(Some(c));
        }
    }

    /// Copies the reply payload of `c` into the start of `dst`; returns its
    /// length.
    ///
    /// # Errors
    ///
    /// [`RingError::TooLarge`] if `dst` is shorter than `c.len`,
    /// [`RingError::UnknownId`] if `c` is not an answered request.
    pub fn read_reply(&self, c: &Completion, dst: &mut [u8]) -> Result<usize> {
        let dst = dst.get_mut(..us(c.len)).ok_or(RingError::TooLarge)?;
        self.read_reply_with(c, |mem, off, n| {
            // SAFETY: `read_reply_with` checked that `off + n` lies in the
            // window, and `n == c.len == dst.len()`.
            unsafe { mem.read_bytes(off, dst) };
            n
        })
    }

    /// Lets `read(accessor, offset, len)` copy the reply payload of `c`
    /// itself, e.g. straight to a user buffer; the range is checked to lie
    /// in the window and `len == c.len`.
    ///
    /// # Errors
    ///
    /// [`RingError::UnknownId`] if `c` is not an answered request.
    pub fn read_reply_with<R>(
        &self,
        c: &Completion,
        read: impl FnOnce(&S, usize, usize) -> R,
    ) -> Result<R> {
        let e = self.inflight.get(c.tag).ok_or(RingError::UnknownId)?;
        if e.state != SlotState::Answered || e.id != c.id || c.len > e.reply_max {
            return Err(RingError::UnknownId);
        }
        self.win
            .with_range(self.ident.layout.buf_off(c.tag), us(c.len), read)
    }

    /// Frees the slot of an answered request.
    pub fn release(&mut self, c: &Completion) {
        if let Some(e) = self.inflight.get(c.tag) {
            if e.state == SlotState::Answered && e.id == c.id {
                self.inflight.free_tag(c.tag);
            }
        }
    }

    /// Gives up on request `id` (deadline or signal). Its slot stays busy
    /// until the guest answers or the window is reset.
    pub fn abandon(&mut self, id: u32) {
        let tag = id & self.ident.layout.mask();
        let st = match self.inflight.get_mut(tag) {
            Some(e) if e.id == id => e.state,
            _ => return,
        };
        match st {
            SlotState::Pending => {
                if let Some(e) = self.inflight.get_mut(tag) {
                    e.state = SlotState::Abandoned;
                }
            }
            SlotState::Answered => self.inflight.free_tag(tag),
            SlotState::Free | SlotState::Abandoned => {}
        }
    }

    /// Takes the next asynchronous event, validated, or `None`.
    ///
    /// # Errors
    ///
    /// [`RingError::IndexJump`], [`RingError::UnknownEvent`] or
    /// [`RingError::BadBits`]; the channel is broken from then on.
    pub fn next_event(&mut self) -> Result<Option<Event>> {
        self.ok()?;
        let l = self.ident.layout;
        let prod = self.win.load(hdr::EVT_PROD)?;
        let avail = prod.wrapping_sub(self.evt_cons);
        if avail == 0 {
            return Ok(None);
        }
        if avail > l.num_slots {
            return self.fail(RingError::IndexJump);
        }
        let mut raw = [0u8; us(EVT_SIZE)];
        self.win.read(l.evt_slot(self.evt_cons), &mut raw)?;
        self.evt_cons = self.evt_cons.wrapping_add(1);
        self.win.store(hdr::EVT_CONS, self.evt_cons)?;
        match Event::from_wire(&WireEvent::decode(&raw)) {
            Ok(ev) => Ok(Some(ev)),
            Err(e) => self.fail(e),
        }
    }

    /// Asks the guest to notify on the next response or event, then
    /// re-checks. Returns true if work arrived meanwhile (do not sleep).
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug), or the sticky peer fault.
    pub fn enable_notify(&mut self) -> Result<bool> {
        self.ok()?;
        self.win.store(hdr::RESP_EVENT, self.resp_cons)?;
        self.win.store(hdr::EVT_EVENT, self.evt_cons)?;
        self.win.mb();
        let rp = self.win.load(hdr::RESP_PROD)?;
        let ep = self.win.load(hdr::EVT_PROD)?;
        Ok(rp != self.resp_cons || ep != self.evt_cons)
    }
}

/// The guest side: consumes requests, produces responses and events.
pub struct Guest<S: Shared> {
    win: Window<S>,
    ident: Identity,
    features: u32,
    busy: [u64; FREE_WORDS],
    req_cons: u32,
    resp_prod: u32,
    resp_signalled: u32,
    evt_prod: u32,
    evt_signalled: u32,
    heartbeat: u32,
    /// The last even value written to [`hdr::EXPORTS_SEQ`], 0 before.
    exports_seq: u32,
    broken: Option<RingError>,
}

impl<S: Shared> Guest<S> {
    /// Validates the header and attaches to the current generation.
    ///
    /// `features` are the feature bits the guest supports; the accepted set
    /// is their intersection with the host's offer.
    ///
    /// # Errors
    ///
    /// [`RingError::BadMagic`] (host not ready), [`RingError::BadVersion`],
    /// [`RingError::BadFeatures`] or [`RingError::BadLayout`].
    pub fn attach(mem: S, features: u32) -> Result<Self> {
        let win = Window::new(mem);
        if win.load(hdr::MAGIC)? != MAGIC {
            return Err(RingError::BadMagic);
        }
        let mut raw = [0u8; us(hdr::IDENTITY_SIZE)];
        win.read(0, &mut raw)?;
        let ident = Identity::decode(&raw, win.size())?;
        let accepted = ident.features & features;
        if accepted & FEATURE_EVENT_IDX == 0 {
            return Err(RingError::BadFeatures);
        }
        let g = Guest {
            win,
            ident,
            features: accepted,
            busy: [0; FREE_WORDS],
            req_cons: 0,
            resp_prod: 0,
            resp_signalled: 0,
            evt_prod: 0,
            evt_signalled: 0,
            heartbeat: 0,
            exports_seq: 0,
            broken: None,
        };
        let w = &g.win;
        // Whatever an earlier guest of this generation reported is not
        // this one's report.
        w.store(hdr::EXPORTS_SEQ, 0)?;
        w.store(hdr::REQ_CONS, 0)?;
        w.store(hdr::REQ_EVENT, 0)?;
        w.store(hdr::RESP_PROD, 0)?;
        w.store(hdr::EVT_PROD, 0)?;
        w.store(hdr::HEARTBEAT, 0)?;
        w.store(hdr::GUEST_FEATURES, accepted)?;
        w.store(hdr::GUEST_GENERATION, ident.generation)?;
        w.store(hdr::GUEST_STATE, GuestState::Ready as u32)?;
        w.mb();
        Ok(g)
    }

    /// Returns the layout.
    pub fn layout(&self) -> &Layout {
        &self.ident.layout
    }

    /// Returns the generation attached to.
    pub fn generation(&self) -> u32 {
        self.ident.generation
    }

    /// Returns the accepted feature bits.
    pub fn features(&self) -> u32 {
        self.features
    }

    /// Returns the window.
    pub fn window(&self) -> &Window<S> {
        &self.win
    }

    /// Returns the sticky peer fault, if any.
    pub fn broken(&self) -> Option<RingError> {
        self.broken
    }

    fn ok(&self) -> Result<()> {
        match self.broken {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn fail<T>(&mut self, e: RingError) -> Result<T> {
        if e.is_peer_fault() && self.broken.is_none() {
            self.broken = Some(e);
        }
        Err(e)
    }

    fn is_busy(&self, tag: u32) -> bool {
        self.busy
            .get(us(tag / 64))
            .is_some_and(|w| w & (1 << (tag % 64)) != 0)
    }

    fn set_busy(&mut self, tag: u32, on: bool) {
        if let Some(w) = self.busy.get_mut(us(tag / 64)) {
            if on {
                *w |= 1 << (tag % 64);
            } else {
                *w &= !(1 << (tag % 64));
            }
        }
    }

    /// Returns true if the host changed generation or state (the window was
    /// reset or is closing): the guest must stop using it.
    ///
    /// # Errors
    ///
    /// [`RingError::BadState`].
    pub fn host_gone(&mut self) -> Result<bool> {
        let gen = self.win.load(hdr::GENERATION)?;
        let st = self.win.load(hdr::HOST_STATE)?;
        let st = match HostState::try_from(st) {
            Ok(s) => s,
            Err(e) => return self.fail(e),
        };
        Ok(gen != self.ident.generation || st != HostState::Ready)
    }

    /// Sets the guest state word.
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn set_state(&self, s: GuestState) -> Result<()> {
        self.win.store(hdr::GUEST_STATE, s as u32)
    }

    /// Increments the heartbeat counter.
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn beat(&mut self) -> Result<()> {
        self.heartbeat = self.heartbeat.wrapping_add(1);
        self.win.store(hdr::HEARTBEAT, self.heartbeat)
    }

    /// Reports the exports whose node the guest can serve: bit `i % 32` of
    /// `map[i / 32]` for export `i`.
    ///
    /// The sequence word goes odd, the map is written, then the sequence
    /// word goes even and non-zero; every store has release ordering, so a
    /// host that reads the same even value before and after the map has a
    /// consistent map.
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn report_exports(&mut self, map: &[u32; EXPORTS_WORDS]) -> Result<()> {
        let (odd, even) = exports_seq_after(self.exports_seq);
        self.win.store(hdr::EXPORTS_SEQ, odd)?;
        for (w, off) in map.iter().zip((hdr::EXPORTS_MAP..).step_by(4)) {
            self.win.store(off, *w)?;
        }
        self.win.store(hdr::EXPORTS_SEQ, even)?;
        self.exports_seq = even;
        Ok(())
    }

    /// Takes the next request, validated, or `None` if there is none.
    ///
    /// # Errors
    ///
    /// [`RingError::IndexJump`], [`RingError::UnknownOp`],
    /// [`RingError::PayloadOutOfBounds`], [`RingError::PayloadOverlap`],
    /// [`RingError::LengthTooLong`], [`RingError::BadBits`]; the channel is
    /// broken from then on.
    pub fn next_request(&mut self) -> Result<Option<Request>> {
        self.ok()?;
        let l = self.ident.layout;
        let prod = self.win.load(hdr::REQ_PROD)?;
        let avail = prod.wrapping_sub(self.req_cons);
        if avail == 0 {
            return Ok(None);
        }
        if avail > l.num_slots {
            return self.fail(RingError::IndexJump);
        }
        let mut raw = [0u8; us(REQ_SIZE)];
        self.win.read(l.req_slot(self.req_cons), &mut raw)?;
        self.req_cons = self.req_cons.wrapping_add(1);
        self.win.store(hdr::REQ_CONS, self.req_cons)?;
        let r = check_request(&l, &WireRequest::decode(&raw), |t| self.is_busy(t));
        match r {
            Ok(r) => {
                self.set_busy(r.tag, true);
                Ok(Some(r))
            }
            Err(e) => self.fail(e),
        }
    }

    /// Copies the payload of `req` into the start of `dst`; returns its length.
    ///
    /// # Errors
    ///
    /// [`RingError::TooLarge`] if `dst` is shorter than the payload.
    pub fn read_payload(&self, req: &Request, dst: &mut [u8]) -> Result<usize> {
        let dst = dst.get_mut(..us(req.len)).ok_or(RingError::TooLarge)?;
        self.read_payload_with(req, |mem, off, n| {
            // SAFETY: `read_payload_with` checked that `off + n` lies in the
            // window, and `n == req.len == dst.len()`.
            unsafe { mem.read_bytes(off, dst) };
            n
        })
    }

    /// Lets `read(accessor, offset, len)` copy the payload of `req` itself,
    /// e.g. straight to a user buffer; the range is checked to lie in the
    /// window and `len == req.len`.
    ///
    /// # Errors
    ///
    /// [`RingError::OutOfWindow`] (a bug: `req` was validated).
    pub fn read_payload_with<R>(
        &self,
        req: &Request,
        read: impl FnOnce(&S, usize, usize) -> R,
    ) -> Result<R> {
        let off = self
            .ident
            .layout
            .data_off
            .checked_add(req.payload_off)
            .ok_or(RingError::OutOfWindow)?;
        self.win.with_range(off, us(req.len), read)
    }

    /// Writes the response to `req` (and its reply payload) and publishes it.
    ///
    /// Call [`Guest::signal_needed`] after one or more responses.
    ///
    /// # Errors
    ///
    /// [`RingError::LengthTooLong`] if `payload` exceeds the request's
    /// `reply_max`, [`RingError::UnknownId`] if `req` is not in flight,
    /// [`RingError::Full`] if the host has not consumed responses,
    /// [`RingError::IndexJump`] if the host's consumer index is corrupt.
    pub fn respond(
        &mut self,
        req: &Request,
        result: i64,
        payload: &[u8],
        events: u32,
    ) -> Result<()> {
        self.respond_aux(req, result, payload, events, 0)
    }

    /// [`Guest::respond`] with an op-specific value ([`WireResponse::aux`]).
    ///
    /// # Errors
    ///
    /// As [`Guest::respond`].
    pub fn respond_aux(
        &mut self,
        req: &Request,
        result: i64,
        payload: &[u8],
        events: u32,
        aux: u64,
    ) -> Result<()> {
        let len = u32::try_from(payload.len()).map_err(|_| RingError::TooLarge)?;
        let done = self.respond_aux_with(req, result, len, events, aux, |mem, off, n| {
            // SAFETY: `respond_aux_with` checked that `off + n` lies in the
            // window, and `n == payload.len()`.
            unsafe { mem.write_bytes(off, payload.get(..n).unwrap_or_default()) };
            true
        })?;
        if done {
            Ok(())
        } else {
            Err(RingError::TooLarge)
        }
    }

    /// [`Guest::respond_aux`] with a reply of `len` bytes that `fill`
    /// writes into the request's buffer itself (`fill(accessor, offset,
    /// len)`, the range checked to lie in the window), e.g. straight from a
    /// user buffer.
    ///
    /// Returns false, with nothing published and the request still in
    /// flight, if `fill` returns false.
    ///
    /// # Errors
    ///
    /// As [`Guest::respond`].
    pub fn respond_aux_with(
        &mut self,
        req: &Request,
        result: i64,
        len: u32,
        events: u32,
        aux: u64,
        fill: impl FnOnce(&S, usize, usize) -> bool,
    ) -> Result<bool> {
        self.ok()?;
        let l = self.ident.layout;
        if len > req.desc.reply_max {
            return Err(RingError::TooLarge);
        }
        if req.tag != req.id & l.mask() || !self.is_busy(req.tag) {
            return Err(RingError::UnknownId);
        }
        let cons = self.win.load(hdr::RESP_CONS)?;
        let used = self.resp_prod.wrapping_sub(cons);
        if used > l.num_slots {
            return self.fail(RingError::IndexJump);
        }
        if used == l.num_slots {
            return Err(RingError::Full);
        }
        let wire = WireResponse {
            id: req.id,
            len,
            result,
            events,
            flags: 0,
            aux,
        };
        if !self.win.with_range(l.buf_off(req.tag), us(len), fill)? {
            return Ok(false);
        }
        self.win
            .write(l.resp_slot(self.resp_prod), &wire.encode())?;
        self.set_busy(req.tag, false);
        self.resp_prod = self.resp_prod.wrapping_add(1);
        self.win.store(hdr::RESP_PROD, self.resp_prod)?;
        Ok(true)
    }

    /// Queues an asynchronous event for the host.
    ///
    /// # Errors
    ///
    /// [`RingError::Full`] if the event ring is full (coalesce and send
    /// [`EventKind::Resync`] later), [`RingError::IndexJump`] if the host's
    /// consumer index is corrupt.
    pub fn push_event(&mut self, ev: &Event) -> Result<()> {
        self.ok()?;
        let l = self.ident.layout;
        let cons = self.win.load(hdr::EVT_CONS)?;
        let used = self.evt_prod.wrapping_sub(cons);
        if used > l.num_slots {
            return self.fail(RingError::IndexJump);
        }
        if used == l.num_slots {
            return Err(RingError::Full);
        }
        self.win
            .write(l.evt_slot(self.evt_prod), &ev.to_wire().encode())?;
        self.evt_prod = self.evt_prod.wrapping_add(1);
        self.win.store(hdr::EVT_PROD, self.evt_prod)
    }

    /// Returns true if the host must be notified of the responses and events
    /// published since the last call (event-index suppression).
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn signal_needed(&mut self) -> Result<bool> {
        self.win.mb();
        let re = self.win.load(hdr::RESP_EVENT)?;
        let ee = self.win.load(hdr::EVT_EVENT)?;
        let need = ring_need_event(re, self.resp_prod, self.resp_signalled)
            || ring_need_event(ee, self.evt_prod, self.evt_signalled);
        self.resp_signalled = self.resp_prod;
        self.evt_signalled = self.evt_prod;
        Ok(need)
    }

    /// Asks the host not to notify on new requests: a guest thread polls
    /// the ring until the next [`Guest::enable_notify`].  The event index is
    /// set just behind the consumer, where no submission passes it.
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug), or the sticky peer fault.
    pub fn disable_notify(&mut self) -> Result<()> {
        self.ok()?;
        self.win
            .store(hdr::REQ_EVENT, self.req_cons.wrapping_sub(1))
    }

    /// Asks the host to notify on the next request, then re-checks. Returns
    /// true if a request arrived meanwhile (do not sleep).
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug), or the sticky peer fault.
    pub fn enable_notify(&mut self) -> Result<bool> {
        self.ok()?;
        self.win.store(hdr::REQ_EVENT, self.req_cons)?;
        self.win.mb();
        Ok(self.win.load(hdr::REQ_PROD)? != self.req_cons)
    }

    /// Requests the host has published and the guest has not taken, as
    /// the window says now (a diagnostic: the host's index is not checked,
    /// so a corrupt one shows as a large number).
    pub fn requests_waiting(&self) -> u32 {
        self.win
            .load(hdr::REQ_PROD)
            .map_or(0, |p| p.wrapping_sub(self.req_cons))
    }

    // Hostile mode. guest_stub's test-only `hostile=` parameter makes the
    // guest write what a malicious driver VM would, so that tests can prove
    // the host survives it (`guest_stub/hostile.rs`). The helpers below are
    // its only users: they write peer-visible garbage on purpose, but only
    // through this file's layout, so never outside the window.

    /// Hostile mode only: returns the index the next response is published
    /// at.
    pub fn resp_prod(&self) -> u32 {
        self.resp_prod
    }

    /// Hostile mode only: publishes `wire` as the next response, as it is:
    /// no check of its id, length, result or reserved fields, no payload.
    /// Returns the index it was published at.
    ///
    /// # Errors
    ///
    /// [`RingError::Full`] if the host has not consumed responses,
    /// [`RingError::IndexJump`] if the host's consumer index is corrupt.
    pub fn publish_raw_response(&mut self, wire: &WireResponse) -> Result<u32> {
        self.ok()?;
        let l = self.ident.layout;
        let cons = self.win.load(hdr::RESP_CONS)?;
        let used = self.resp_prod.wrapping_sub(cons);
        if used > l.num_slots {
            return self.fail(RingError::IndexJump);
        }
        if used == l.num_slots {
            return Err(RingError::Full);
        }
        let idx = self.resp_prod;
        self.win.write(l.resp_slot(idx), &wire.encode())?;
        self.resp_prod = idx.wrapping_add(1);
        self.win.store(hdr::RESP_PROD, self.resp_prod)?;
        Ok(idx)
    }

    /// Hostile mode only: rewrites the response slot of index `idx` with
    /// `wire`, after it was published (a late change behind the host's
    /// back); publishes nothing.
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn rewrite_response(&self, idx: u32, wire: &WireResponse) -> Result<()> {
        self.win
            .write(self.ident.layout.resp_slot(idx), &wire.encode())
    }

    /// Hostile mode only: forgets `req` as if it had been answered, without
    /// answering it, so that the host may reuse its tag.
    pub fn forget_request(&mut self, req: &Request) {
        if req.tag == req.id & self.ident.layout.mask() {
            self.set_busy(req.tag, false);
        }
    }

    /// Hostile mode only: moves the response producer index `by` entries
    /// ahead without writing any slot, and publishes it. Returns the new
    /// index.
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn skip_responses(&mut self, by: u32) -> Result<u32> {
        self.resp_prod = self.resp_prod.wrapping_add(by);
        self.win.store(hdr::RESP_PROD, self.resp_prod)?;
        Ok(self.resp_prod)
    }

    /// Hostile mode only: moves the event producer index `by` entries ahead
    /// without writing any slot, and publishes it. Returns the new index.
    ///
    /// # Errors
    ///
    /// Only [`RingError::OutOfWindow`] (a bug).
    pub fn skip_events(&mut self, by: u32) -> Result<u32> {
        self.evt_prod = self.evt_prod.wrapping_add(by);
        self.win.store(hdr::EVT_PROD, self.evt_prod)?;
        Ok(self.evt_prod)
    }
}
