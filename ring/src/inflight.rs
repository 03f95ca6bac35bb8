// SPDX-License-Identifier: GPL-2.0

//! The host's table of requests in flight, and the checks that tie a
//! response to the request it answers.

use super::*;

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

pub(super) const FREE_WORDS: usize = us(MAX_SLOTS / 64);

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

    pub(super) fn get_mut(&mut self, tag: u32) -> Option<&mut InflightEntry> {
        if tag < self.num_slots {
            self.entries.get_mut(us(tag))
        } else {
            None
        }
    }

    /// Takes a free tag and gives it a fresh id; returns `(tag, id)`.
    pub(super) fn alloc(&mut self, op: Op, len: u32, reply_max: u32) -> Option<(u32, u32)> {
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

    pub(super) fn free_tag(&mut self, tag: u32) {
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
