// SPDX-License-Identifier: GPL-2.0

//! Ioctls run against the caller's own memory, fetched on demand.
//!
//! An ioctl whose argument holds pointers (an array of messages with a
//! buffer each, a chain of structs) cannot travel as a fixed run of bytes:
//! only the driver knows where it will look.  The host then sends the ioctl
//! with [`IOCTL_ARG_REMOTE`] in `pos`, the caller's own argument in `arg`
//! and, as payload, a map of the caller's readable memory ([`MemRange`]
//! records).  The guest runs the ioctl in an address space laid out like
//! that map, with no page present, and answers with *steps* instead of a
//! final answer while the driver works:
//!
//! * [`IoctlStep::NeedPage`]: the driver touched a page it does not have.
//!   The host answers with an [`Op::IoctlPage`] request carrying the page's
//!   bytes read from its caller, or saying they could not be read.
//! * [`IoctlStep::WriteBack`]: the ioctl is over and the reply holds
//!   [`WriteBack`] records, the bytes the driver changed, with more to
//!   come; the host writes them to its caller and asks for the rest.
//!
//! The final answer is an ordinary ioctl answer whose reply holds the last
//! write-back records.  Every step names the session (`result`, a token of
//! the guest's), which the [`Op::IoctlPage`] request repeats in `cmd`.
//! Everything here is the guest's word: the host checks that every page
//! asked for lies in the map it sent, and every record in a page it sent.

use super::*;

/// `pos` bit of an ioctl request run against the caller's memory
/// (`IKERNEL_IOCTL_ARG_REMOTE`): `arg` is the caller's argument as it is,
/// and the payload the caller's map.  Only with [`FEATURE_REMOTE_IOCTL`].
pub const IOCTL_ARG_REMOTE: u64 = 1 << 62;

/// `aux` bit of an ioctl answer that is a step, not the final answer
/// (`IKERNEL_IOCTL_STEP`).
pub const IOCTL_STEP: u64 = 1 << 62;
/// With [`IOCTL_STEP`]: the step is a write-back (`IKERNEL_IOCTL_STEP_WRITE_BACK`).
pub const IOCTL_STEP_WRITE_BACK: u64 = 1 << 61;
/// The page address bits of a need-page step's `aux`
/// (`IKERNEL_IOCTL_STEP_ADDR`).
pub const IOCTL_STEP_ADDR: u64 = 0x0fff_ffff_ffff_f000;

/// Bytes of a page that travels.
pub const REMOTE_PAGE: usize = 4096;
/// Most pages one ioctl may fetch (`IKERNEL_REMOTE_PAGES_MAX`): 16 MiB.
pub const REMOTE_PAGES_MAX: usize = 4096;
/// Bytes of one [`MemRange`] record.
pub const MEM_RANGE_SIZE: usize = 16;
/// Bit of a [`MemRange`] record's end: the range is writable
/// (`IKERNEL_MEM_RANGE_WRITABLE`).
pub const MEM_RANGE_WRITABLE: u64 = 1;
/// Bytes of a [`WriteBack`] record's header.
pub const WRITE_BACK_HEADER: usize = 16;

/// A run of the caller's readable memory, as it travels: `start`, then
/// `end` with [`MEM_RANGE_WRITABLE`] in bit 0, both native `u64`s, page
/// aligned, `start < end`; the records of a map are sorted and do not
/// overlap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemRange {
    /// First byte.
    pub start: u64,
    /// Byte after the last.
    pub end: u64,
    /// The caller can write it too.
    pub writable: bool,
}

impl MemRange {
    /// The record's bytes.
    pub fn to_bytes(self) -> [u8; MEM_RANGE_SIZE] {
        let mut b = [0u8; MEM_RANGE_SIZE];
        b[..8].copy_from_slice(&self.start.to_ne_bytes());
        let end = self.end | if self.writable { MEM_RANGE_WRITABLE } else { 0 };
        b[8..].copy_from_slice(&end.to_ne_bytes());
        b
    }

    /// Whether `addr` lies in the range.
    pub fn contains(&self, addr: u64) -> bool {
        self.start <= addr && addr < self.end
    }
}

/// What an [`Op::IoctlPage`] request tells the guest (its `pos`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageReply {
    /// The payload is the page's bytes (`IKERNEL_PAGE_DATA`).
    Data = 0,
    /// The page could not be read: the driver faults there
    /// (`IKERNEL_PAGE_UNREADABLE`).
    Unreadable = 1,
    /// The write-back records arrived: send the next
    /// (`IKERNEL_PAGE_CONTINUE`).
    Continue = 2,
    /// The host gives up on the ioctl (`IKERNEL_PAGE_ABORT`).
    Abort = 3,
}

impl RequestDesc {
    /// Continues the remote ioctl session `token` of the file: the page at
    /// `addr` (its bytes in the payload with [`PageReply::Data`]), or
    /// another [`PageReply`].
    pub fn ioctl_page(token: u32, addr: u64, what: PageReply) -> Self {
        RequestDesc {
            cmd: token,
            arg: addr,
            // CAST: a `repr` discriminant, 0-3.
            pos: what as u64,
            ..RequestDesc::new(Op::IoctlPage)
        }
    }
}

/// A step of a remote ioctl: an answer that is not the final one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoctlStep {
    /// The driver touched the page at `addr`, which the guest lacks.
    NeedPage {
        /// The guest's session.
        token: u32,
        /// The page's address, page aligned.
        addr: u64,
    },
    /// The reply holds write-back records, and more follow.
    WriteBack {
        /// The guest's session.
        token: u32,
    },
}

impl IoctlStep {
    /// An answer's `result` and `aux`.
    pub fn to_answer(self) -> (i64, u64) {
        match self {
            IoctlStep::NeedPage { token, addr } => {
                (i64::from(token), IOCTL_STEP | (addr & IOCTL_STEP_ADDR))
            }
            IoctlStep::WriteBack { token } => {
                (i64::from(token), IOCTL_STEP | IOCTL_STEP_WRITE_BACK)
            }
        }
    }

    /// Decodes an answer to a remote ioctl: `None` for the final answer
    /// (no [`IOCTL_STEP`]), `Some(None)` for a step that breaks the rules
    /// (a token outside 1..=`u32::MAX`, a stray bit, a write-back with an
    /// address).
    pub fn from_answer(result: i64, aux: u64) -> Option<Option<Self>> {
        if aux & IOCTL_STEP == 0 {
            return None;
        }
        let token = match u32::try_from(result) {
            Ok(t) if t != 0 => t,
            _ => return Some(None),
        };
        let rest = aux & !IOCTL_STEP;
        Some(if rest & !(IOCTL_STEP_ADDR | IOCTL_STEP_WRITE_BACK) != 0 {
            None
        } else if rest & IOCTL_STEP_WRITE_BACK != 0 {
            (rest == IOCTL_STEP_WRITE_BACK).then_some(IoctlStep::WriteBack { token })
        } else {
            Some(IoctlStep::NeedPage { token, addr: rest })
        })
    }
}

/// The write-back records of a reply: each an address (`u64`), a length
/// (`u32`, 1 to [`REMOTE_PAGE`]), a zero `u32`, then that many bytes,
/// padded with zeros to a multiple of 8.  A record lies inside one page.
/// Iterating yields `Err(())` once, at the first record that breaks a
/// rule or runs past the reply, and then stops.
pub struct WriteBack<'a> {
    rest: &'a [u8],
    broken: bool,
}

impl<'a> WriteBack<'a> {
    /// The records of `reply`.
    pub fn new(reply: &'a [u8]) -> Self {
        Self {
            rest: reply,
            broken: false,
        }
    }

    /// Writes a record for `bytes` at `addr` into `out`; returns its size,
    /// or `None` if it does not fit or breaks a rule.
    pub fn put(out: &mut [u8], addr: u64, bytes: &[u8]) -> Option<usize> {
        let len = u32::try_from(bytes.len()).ok()?;
        let last = addr.checked_add(u64::from(len))?.checked_sub(1)?;
        let page = !(REMOTE_PAGE as u64 - 1);
        if bytes.is_empty() || bytes.len() > REMOTE_PAGE || addr & page != last & page {
            return None;
        }
        let size = WRITE_BACK_HEADER + bytes.len().next_multiple_of(8);
        let rec = out.get_mut(..size)?;
        rec.fill(0);
        rec[..8].copy_from_slice(&addr.to_ne_bytes());
        rec[8..12].copy_from_slice(&len.to_ne_bytes());
        rec[WRITE_BACK_HEADER..WRITE_BACK_HEADER + bytes.len()].copy_from_slice(bytes);
        Some(size)
    }
}

impl<'a> Iterator for WriteBack<'a> {
    type Item = Result<(u64, &'a [u8]), ()>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.broken || self.rest.is_empty() {
            return None;
        }
        let rec = (|| {
            let word = |o: usize| -> Option<u64> {
                let mut w = [0u8; 8];
                w.copy_from_slice(self.rest.get(o..o + 8)?);
                Some(u64::from_ne_bytes(w))
            };
            let half = |o: usize| -> Option<u32> {
                let mut h = [0u8; 4];
                h.copy_from_slice(self.rest.get(o..o + 4)?);
                Some(u32::from_ne_bytes(h))
            };
            let addr = word(0)?;
            if half(12)? != 0 {
                return None;
            }
            let len = usize::try_from(half(8)?).ok()?;
            if len == 0 || len > REMOTE_PAGE {
                return None;
            }
            let page = !(REMOTE_PAGE as u64 - 1);
            let last = addr.checked_add(len as u64 - 1)?;
            if addr & page != last & page {
                return None;
            }
            let size = WRITE_BACK_HEADER + len.next_multiple_of(8);
            let rec = self.rest.get(..size)?;
            let bytes = rec.get(WRITE_BACK_HEADER..WRITE_BACK_HEADER + len)?;
            if rec[WRITE_BACK_HEADER + len..].iter().any(|&b| b != 0) {
                return None;
            }
            Some((addr, bytes, size))
        })();
        match rec {
            Some((addr, bytes, size)) => {
                self.rest = &self.rest[size..];
                Some(Ok((addr, bytes)))
            }
            None => {
                self.broken = true;
                Some(Err(()))
            }
        }
    }
}
