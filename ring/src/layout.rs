// SPDX-License-Identifier: GPL-2.0

//! A window's geometry ([`Layout`]) and the event-index rule.

use super::*;

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
