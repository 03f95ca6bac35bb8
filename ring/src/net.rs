// SPDX-License-Identifier: GPL-2.0

//! The net ops' payloads: frame batches and the interface description.
//!
//! A net export is a network interface of the driver VM (say `eth0`) that
//! host_stub shows as a host network device.  The host sends frames with
//! [`Op::NetXmit`], fetches received ones with [`Op::NetRecv`] and learns
//! the interface's MAC address and MTU with [`Op::NetInfo`].  Frames travel
//! in batches: one request or reply carries as many as fit its buffer, so a
//! doorbell pays for many frames.
//!
//! A batch is a run of records, each a little-endian `u16` frame length
//! followed by that many bytes of Ethernet frame (destination MAC first, no
//! FCS), with no padding.  A reply is the guest's word: [`Frames`] never
//! reads past the reply, flags a record that does not fit it, and leaves
//! every check of a frame's length against the interface to the caller.

use super::*;

/// Bytes of a batch record's header (the frame length).
pub const NET_REC_HDR: usize = 2;
/// Largest frame a record can carry.
pub const NET_FRAME_MAX: usize = u16::MAX as usize;
/// Longest wait of an [`Op::NetRecv`] for its first frame, in milliseconds.
pub const NET_RECV_WAIT_MAX_MS: u32 = 1000;
/// Bytes of an [`Op::NetInfo`] reply ([`NetInfo`]).
pub const NET_INFO_SIZE: usize = 12;

/// Writes a frame batch into a request's buffer.
pub struct BatchWriter<'a> {
    buf: &'a mut [u8],
    used: usize,
    frames: u32,
}

impl<'a> BatchWriter<'a> {
    /// An empty batch in `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        BatchWriter {
            buf,
            used: 0,
            frames: 0,
        }
    }

    /// Whether a frame of `len` bytes still fits.
    pub fn fits(&self, len: usize) -> bool {
        len <= NET_FRAME_MAX
            && self
                .used
                .checked_add(NET_REC_HDR + len)
                .is_some_and(|end| end <= self.buf.len())
    }

    /// Appends the record of a `len`-byte frame and returns where its bytes
    /// go; `None` (and nothing appended) if it does not fit.
    pub fn push(&mut self, len: usize) -> Option<&mut [u8]> {
        if !self.fits(len) {
            return None;
        }
        let start = self.used;
        let body = start + NET_REC_HDR;
        let end = body + len;
        // CAST: `fits` checked `len <= u16::MAX`.
        let hdr = (len as u16).to_le_bytes();
        self.buf.get_mut(start..body)?.copy_from_slice(&hdr);
        self.used = end;
        self.frames += 1;
        self.buf.get_mut(body..end)
    }

    /// Bytes of the batch so far.
    pub fn len(&self) -> usize {
        self.used
    }

    /// Whether no frame was appended.
    pub fn is_empty(&self) -> bool {
        self.frames == 0
    }

    /// Frames in the batch.
    pub fn frames(&self) -> u32 {
        self.frames
    }
}

/// The frames of a batch, in order.  Stops at the first record that does
/// not fit the batch, and then reports it with [`Frames::malformed`].
pub struct Frames<'a> {
    rest: &'a [u8],
    malformed: bool,
}

impl<'a> Frames<'a> {
    /// The frames of the batch in `buf` (the reply's bytes, and no more).
    pub fn new(buf: &'a [u8]) -> Self {
        Frames {
            rest: buf,
            malformed: false,
        }
    }

    /// Whether iteration stopped at a record that claims more bytes than
    /// the batch has left (or at a stray byte too short for a header).
    pub fn malformed(&self) -> bool {
        self.malformed
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() || self.malformed {
            return None;
        }
        let (hdr, body) = match self.rest.split_at_checked(NET_REC_HDR) {
            Some(x) => x,
            None => {
                self.malformed = true;
                return None;
            }
        };
        let len = usize::from(u16::from_le_bytes([hdr[0], hdr[1]]));
        match body.split_at_checked(len) {
            Some((frame, rest)) => {
                self.rest = rest;
                Some(frame)
            }
            None => {
                self.malformed = true;
                None
            }
        }
    }
}

/// What [`Op::NetInfo`] answers: the guest interface's MAC address and
/// MTU.  On the wire: the six address bytes, two zero bytes, the MTU as a
/// little-endian `u32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetInfo {
    /// The interface's MAC address.
    pub mac: [u8; 6],
    /// The interface's MTU.
    pub mtu: u32,
}

impl NetInfo {
    /// The wire form.
    pub fn encode(&self) -> [u8; NET_INFO_SIZE] {
        let mut b = [0u8; NET_INFO_SIZE];
        b[..6].copy_from_slice(&self.mac);
        b[8..].copy_from_slice(&self.mtu.to_le_bytes());
        b
    }

    /// Decodes a reply; `None` unless it is exactly [`NET_INFO_SIZE`]
    /// bytes with zero padding.  The address itself is the caller's to
    /// judge (a multicast or zero address is no unicast interface's).
    pub fn decode(b: &[u8]) -> Option<Self> {
        if b.len() != NET_INFO_SIZE || b[6] != 0 || b[7] != 0 {
            return None;
        }
        let mut mac = [0u8; 6];
        mac.copy_from_slice(&b[..6]);
        Some(NetInfo {
            mac,
            mtu: u32::from_le_bytes([b[8], b[9], b[10], b[11]]),
        })
    }
}

impl RequestDesc {
    /// [`Op::NetXmit`] of a batch of `frames` frames (the payload) on net
    /// export `export`; the answer's result is the number of frames the
    /// interface took.
    pub fn net_xmit(export: u32, frames: u32) -> Self {
        RequestDesc {
            export,
            cmd: frames,
            ..RequestDesc::new(Op::NetXmit)
        }
    }

    /// [`Op::NetRecv`] on net export `export`, waiting up to `wait_ms`
    /// (at most [`NET_RECV_WAIT_MAX_MS`]) for the first frame; the reply is
    /// a batch of at most `reply_max` bytes, the result its frame count.
    pub fn net_recv(export: u32, wait_ms: u32) -> Self {
        RequestDesc {
            export,
            arg: u64::from(wait_ms.min(NET_RECV_WAIT_MAX_MS)),
            ..RequestDesc::new(Op::NetRecv)
        }
    }

    /// [`Op::NetInfo`] of net export `export`: the reply is a [`NetInfo`].
    pub fn net_info(export: u32) -> Self {
        RequestDesc {
            export,
            ..RequestDesc::new(Op::NetInfo)
        }
    }

    /// A transmit's frame count ([`Self::net_xmit`]).
    pub fn xmit_frames(&self) -> Option<u32> {
        (self.op == Op::NetXmit).then_some(self.cmd)
    }

    /// A receive's wait in milliseconds, capped ([`Self::net_recv`]).
    pub fn recv_wait_ms(&self) -> Option<u32> {
        if self.op != Op::NetRecv {
            return None;
        }
        Some(
            u32::try_from(self.arg).map_or(NET_RECV_WAIT_MAX_MS, |ms| ms.min(NET_RECV_WAIT_MAX_MS)),
        )
    }
}
