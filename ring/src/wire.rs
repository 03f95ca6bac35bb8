// SPDX-License-Identifier: GPL-2.0

//! The fixed-size wire records (requests, responses, events) and their
//! checked, decoded forms.

use super::*;

/// Little-endian field access on fixed-size byte arrays.
pub(super) mod le {
    /// Reads the `u32` at `o`; `o + 4 <= N` is a constant at every call site.
    #[inline]
    pub(in super::super) fn get32<const N: usize>(b: &[u8; N], o: usize) -> u32 {
        match b.get(o..o + 4).map(<[u8; 4]>::try_from) {
            Some(Ok(a)) => u32::from_le_bytes(a),
            _ => 0,
        }
    }

    /// Reads the `u64` at `o`; `o + 8 <= N` is a constant at every call site.
    #[inline]
    pub(in super::super) fn get64<const N: usize>(b: &[u8; N], o: usize) -> u64 {
        match b.get(o..o + 8).map(<[u8; 8]>::try_from) {
            Some(Ok(a)) => u64::from_le_bytes(a),
            _ => 0,
        }
    }

    /// Writes `v` at `o`.
    #[inline]
    pub(in super::super) fn put32<const N: usize>(b: &mut [u8; N], o: usize, v: u32) {
        if let Some(s) = b.get_mut(o..o + 4) {
            s.copy_from_slice(&v.to_le_bytes());
        }
    }

    /// Writes `v` at `o`.
    #[inline]
    pub(in super::super) fn put64<const N: usize>(b: &mut [u8; N], o: usize, v: u64) {
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
