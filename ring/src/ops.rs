// SPDX-License-Identifier: GPL-2.0

//! What each op's request fields mean, as typed constructors (host side)
//! and accessors (guest side) of [`RequestDesc`].
//!
//! A request's `pos`, `cmd` and `arg` carry different things for different
//! ops (`Documentation/ring.rst`, "Operations"): an ioctl's argument shape
//! travels in `pos`, a write's byte count in `cmd`.  The host builds every
//! request with one of the constructors below and the guest reads op
//! fields with the matching accessor, so that no side assigns or decodes a
//! raw field by hand.  The accessors return `None` for another op; like
//! every other request field they are the host's word, which the guest's
//! serving process checks against what it can do.

use super::*;

/// `pos` bit of an ioctl request whose argument could not travel
/// (`IKERNEL_IOCTL_ARG_LOST`).
pub const IOCTL_ARG_LOST: u64 = 1 << 63;

/// What an ioctl request's `pos` says about its argument
/// (`IKERNEL_IOCTL_ARG_*` in the UAPI header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoctlArg {
    /// No bytes travel: the argument is the integer in `arg` (`pos` 0).
    Integer,
    /// `size` bytes at the caller's pointer travel (`_IOC_SIZE`, at most
    /// 16383): the first `readable` of them could be read (the payload),
    /// the first `writable` could be written (the reply), so that the
    /// driver faults where the caller's memory ends.
    Bytes {
        /// Size of the argument.
        size: u16,
        /// Bytes of it the host could read from the caller.
        readable: u16,
        /// Bytes of it the host could write back to the caller.
        writable: u16,
    },
    /// The argument is larger than a slot's buffer and does not travel: the
    /// driver must get a pointer it cannot access.
    Lost,
}

impl IoctlArg {
    /// Encodes into a request's `pos`: the size in bits 0-15, readable in
    /// 16-31, writable in 32-47, or [`IOCTL_ARG_LOST`].
    pub fn to_pos(self) -> u64 {
        match self {
            IoctlArg::Integer => 0,
            IoctlArg::Bytes {
                size,
                readable,
                writable,
            } => u64::from(size) | u64::from(readable) << 16 | u64::from(writable) << 32,
            IoctlArg::Lost => IOCTL_ARG_LOST,
        }
    }

    /// Decodes a request's `pos`; bits other than those [`Self::to_pos`]
    /// sets are ignored.
    pub fn from_pos(pos: u64) -> Self {
        // CAST: each is masked to 16 bits first.
        let field = |shift: u32| ((pos >> shift) & 0xffff) as u16;
        if pos & IOCTL_ARG_LOST != 0 {
            IoctlArg::Lost
        } else if field(0) == 0 {
            IoctlArg::Integer
        } else {
            IoctlArg::Bytes {
                size: field(0),
                readable: field(16),
                writable: field(32),
            }
        }
    }
}

/// `aux` bit of an ioctl answer: the ioctl made a new file in the guest
/// (`IKERNEL_IOCTL_NEW_FILE`), described by the other bits ([`NewFile`]).
pub const IOCTL_NEW_FILE: u64 = 1 << 63;

/// Where an ioctl put the number of the file descriptor it made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdAt {
    /// The ioctl's return value is the descriptor.
    Result,
    /// A native-endian `int` at this byte offset of the argument (the
    /// reply) holds it.
    Arg(u16),
}

/// `FdAt::Result` as it travels (`IKERNEL_NEW_FILE_IN_RESULT`).
pub const NEW_FILE_IN_RESULT: u16 = 0xffff;

/// A file that an ioctl made in the guest and handed to its caller as a
/// descriptor (`IKERNEL_IOCTL_NEW_FILE` in an ioctl answer's `aux`): the
/// host gives its caller a host file whose operations go to this guest
/// file, and puts the host descriptor where the guest's was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewFile {
    /// The new guest file's handle, as an open's result would be.
    pub handle: u32,
    /// Where the descriptor's number is.
    pub at: FdAt,
    /// The guest descriptor is close-on-exec.
    pub cloexec: bool,
    /// The file's access mode (`O_ACCMODE` bits: 0, 1 or 2).
    pub accmode: u8,
    /// The file is non-blocking.
    pub nonblock: bool,
    /// pread, pwrite and llseek work on the file.
    pub seekable: bool,
}

impl NewFile {
    /// Encodes into an answer's `aux`: handle in bits 0-31, [`FdAt`] in
    /// 32-47, close-on-exec bit 48, access mode 49-50, non-blocking 51,
    /// seekable 52, and [`IOCTL_NEW_FILE`].
    pub fn to_aux(self) -> u64 {
        let at = match self.at {
            FdAt::Result => NEW_FILE_IN_RESULT,
            FdAt::Arg(off) => off,
        };
        IOCTL_NEW_FILE
            | u64::from(self.handle)
            | u64::from(at) << 32
            | u64::from(self.cloexec) << 48
            | u64::from(self.accmode & 3) << 49
            | u64::from(self.nonblock) << 51
            | u64::from(self.seekable) << 52
    }

    /// Decodes an ioctl answer's `aux`: `None` without
    /// [`IOCTL_NEW_FILE`].  Nothing is checked here: the handle, the
    /// offset and the access mode are the guest's word.
    pub fn from_aux(aux: u64) -> Option<Self> {
        if aux & IOCTL_NEW_FILE == 0 {
            return None;
        }
        // CAST: each is masked to its width first.
        let at = ((aux >> 32) & 0xffff) as u16;
        Some(NewFile {
            handle: (aux & 0xffff_ffff) as u32,
            at: if at == NEW_FILE_IN_RESULT {
                FdAt::Result
            } else {
                FdAt::Arg(at)
            },
            cloexec: aux & 1 << 48 != 0,
            accmode: ((aux >> 49) & 3) as u8,
            nonblock: aux & 1 << 51 != 0,
            seekable: aux & 1 << 52 != 0,
        })
    }
}

/// `cmd` bit of an mmap request: the mapping is shared
/// (`IKERNEL_MMAP_SHARED`); the low bits are its `PROT_*` protection.
pub const MMAP_SHARED: u32 = 0x100;

/// What an [`Op::Mmap`] request asks for: the guest maps `len` bytes of
/// the file from byte `offset` and answers with the guest-physical frame
/// of each page, one native `u64` per page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MmapReq {
    /// Byte offset in the file, a multiple of the page size.
    pub offset: u64,
    /// Bytes, a positive multiple of the page size.
    pub len: u64,
    /// `PROT_READ` (1), `PROT_WRITE` (2), `PROT_EXEC` (4) bits.
    pub prot: u8,
    /// A shared mapping (else private).
    pub shared: bool,
}

impl RequestDesc {
    /// [`Op::Mmap`] of `m`; the reply holds a frame per page.
    pub fn mmap(m: MmapReq) -> Self {
        RequestDesc {
            pos: m.offset,
            arg: m.len,
            cmd: u32::from(m.prot & 7) | if m.shared { MMAP_SHARED } else { 0 },
            ..RequestDesc::new(Op::Mmap)
        }
    }

    /// An mmap request's range and protection ([`Self::mmap`]).
    pub fn mmap_req(&self) -> Option<MmapReq> {
        (self.op == Op::Mmap).then_some(MmapReq {
            offset: self.pos,
            len: self.arg,
            // CAST: masked to 3 bits.
            prot: (self.cmd & 7) as u8,
            shared: self.cmd & MMAP_SHARED != 0,
        })
    }

    /// [`Op::Open`] of export `export` with open flags `flags`; the answer's
    /// result is the new handle, its `aux` the file's capabilities.
    pub fn open(export: u32, flags: u32) -> Self {
        RequestDesc {
            export,
            flags,
            ..RequestDesc::new(Op::Open)
        }
    }

    /// [`Op::Release`]: the last close of `handle`.
    pub fn release(export: u32, handle: u32) -> Self {
        RequestDesc {
            export,
            handle,
            ..RequestDesc::new(Op::Release)
        }
    }

    /// [`Op::Cancel`]: interrupt request `id` of `handle`.
    pub fn cancel(export: u32, handle: u32, id: u32) -> Self {
        RequestDesc {
            export,
            handle,
            arg: u64::from(id),
            ..RequestDesc::new(Op::Cancel)
        }
    }

    /// [`Op::Read`] at file position `pos`, of which the caller's buffer
    /// can take `writable` bytes (the driver faults after them).  The bytes
    /// wanted are the request's `reply_max`, set with the reply buffer.
    pub fn read(pos: u64, writable: u64) -> Self {
        RequestDesc {
            pos,
            arg: writable,
            ..RequestDesc::new(Op::Read)
        }
    }

    /// [`Op::Write`] of `count` bytes at file position `pos`.  The payload
    /// is the part of them the host could read from the caller (at most
    /// `count`; the driver faults after it).
    pub fn write(pos: u64, count: u32) -> Self {
        RequestDesc {
            pos,
            cmd: count,
            ..RequestDesc::new(Op::Write)
        }
    }

    /// [`Op::Llseek`] by `offset` from `whence` (`SEEK_*`), the file being
    /// at `pos`.
    pub fn llseek(pos: u64, offset: i64, whence: u32) -> Self {
        RequestDesc {
            pos,
            arg: u64::from_ne_bytes(offset.to_ne_bytes()),
            cmd: whence,
            ..RequestDesc::new(Op::Llseek)
        }
    }

    /// [`Op::Ioctl`] `cmd` with argument `arg`, whose bytes travel as
    /// `shape` says (payload and reply).
    pub fn ioctl(cmd: u32, arg: u64, shape: IoctlArg) -> Self {
        RequestDesc {
            cmd,
            arg,
            pos: shape.to_pos(),
            ..RequestDesc::new(Op::Ioctl)
        }
    }

    /// Addresses a file operation built by [`Self::read`], [`Self::write`],
    /// [`Self::llseek`], [`Self::ioctl`] or [`Self::mmap`] to `handle` of
    /// export `export`, with the host file's flags.
    pub fn on_file(self, export: u32, handle: u32, flags: u32) -> Self {
        RequestDesc {
            export,
            handle,
            flags,
            ..self
        }
    }

    /// A read's capacity of the caller's buffer ([`Self::read`]).
    pub fn read_writable(&self) -> Option<u64> {
        (self.op == Op::Read).then_some(self.arg)
    }

    /// A write's byte count ([`Self::write`]).
    pub fn write_count(&self) -> Option<u32> {
        (self.op == Op::Write).then_some(self.cmd)
    }

    /// An llseek's offset and whence ([`Self::llseek`]).
    pub fn llseek_to(&self) -> Option<(i64, u32)> {
        (self.op == Op::Llseek).then_some((i64::from_ne_bytes(self.arg.to_ne_bytes()), self.cmd))
    }

    /// An ioctl's argument shape ([`Self::ioctl`]).
    pub fn ioctl_arg(&self) -> Option<IoctlArg> {
        (self.op == Op::Ioctl).then_some(IoctlArg::from_pos(self.pos))
    }

    /// The id a cancel interrupts ([`Self::cancel`]); `None` if it is not
    /// an id.
    pub fn cancelled_id(&self) -> Option<u32> {
        if self.op != Op::Cancel {
            return None;
        }
        u32::try_from(self.arg).ok()
    }
}
