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
    /// The argument is the caller's own and the driver reaches the caller's
    /// memory through steps ([`super::remote`]); the payload is the
    /// caller's map.
    Remote,
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
            IoctlArg::Remote => IOCTL_ARG_REMOTE,
        }
    }

    /// Decodes a request's `pos`; bits other than those [`Self::to_pos`]
    /// sets are ignored.
    pub fn from_pos(pos: u64) -> Self {
        // CAST: each is masked to 16 bits first.
        let field = |shift: u32| ((pos >> shift) & 0xffff) as u16;
        if pos & IOCTL_ARG_LOST != 0 {
            IoctlArg::Lost
        } else if pos & IOCTL_ARG_REMOTE != 0 {
            IoctlArg::Remote
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

/// Most bytes of an [`Op::NodeInfo`] answer (its `reply_max`).
pub const NODE_INFO_MAX: usize = 2048;
/// Most lines of an [`Op::NodeInfo`] answer.
pub const NODE_INFO_LINES: usize = 48;
/// Longest value of a line of an [`Op::NodeInfo`] answer.
pub const NODE_INFO_VALUE_MAX: usize = 200;
/// Longest variable or attribute name of an [`Op::NodeInfo`] answer.
pub const NODE_INFO_NAME_MAX: usize = 48;

/// One line of a node description ([`NodeInfoText`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeInfoLine<'a> {
    /// `KEY=VALUE`: `SUBSYSTEM`, `DRIVER` or a line of the device's
    /// `uevent` file.
    Var(&'a str, &'a str),
    /// `ATTR{name}=VALUE`: the first line of a readable attribute file of
    /// the device.
    Attr(&'a str, &'a str),
}

/// A checked [`Op::NodeInfo`] answer: at most [`NODE_INFO_MAX`] bytes of
/// at most [`NODE_INFO_LINES`] lines, each ending in a newline.  The first
/// line is `SUBSYSTEM=` and a word (`[A-Za-z0-9_.-]`, 1-32 bytes); every
/// other line is `KEY=VALUE` with `KEY` of `[A-Z0-9_]`, or `ATTR{name}=VALUE`
/// with `name` of `[A-Za-z0-9_.:-]` (names 1-48 bytes); values are
/// printable ASCII (space to `~`), at most [`NODE_INFO_VALUE_MAX`] bytes;
/// no key comes twice.  Anything else is the guest's junk.
#[derive(Clone, Copy, Debug)]
pub struct NodeInfoText<'a> {
    text: &'a str,
}

impl<'a> NodeInfoText<'a> {
    /// Checks an answer; `None` if it breaks any rule above.
    pub fn parse(b: &'a [u8]) -> Option<Self> {
        if b.is_empty() || b.len() > NODE_INFO_MAX || b.last() != Some(&b'\n') {
            return None;
        }
        let text = core::str::from_utf8(b).ok()?;
        let me = NodeInfoText { text };
        let mut n = 0;
        for (i, line) in text[..text.len() - 1].split('\n').enumerate() {
            let l = parse_line(line)?;
            n += 1;
            let first = matches!(l, NodeInfoLine::Var("SUBSYSTEM", v)
                if (1..=32).contains(&v.len()) && v.bytes().all(word_byte));
            if n > NODE_INFO_LINES || (i == 0) != first {
                return None;
            }
            // Each key once: compare with the lines before this one.
            if me.lines().take(i).any(|p| p == l || same_key(p, l)) {
                return None;
            }
        }
        Some(me)
    }

    /// The lines, in order.
    pub fn lines(&self) -> impl Iterator<Item = NodeInfoLine<'a>> + 'a {
        let text = self.text;
        text[..text.len() - 1].split('\n').filter_map(parse_line)
    }

    /// The value of variable `key` (`SUBSYSTEM`, `DRIVER`, `DEVNAME`...).
    pub fn var(&self, key: &str) -> Option<&'a str> {
        self.lines().find_map(|l| match l {
            NodeInfoLine::Var(k, v) if k == key => Some(v),
            _ => None,
        })
    }

    /// The guest's subsystem (the first line's word).
    pub fn subsystem(&self) -> &'a str {
        self.var("SUBSYSTEM").unwrap_or("")
    }
}

/// A byte of a subsystem or driver name.
fn word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')
}

/// Whether two lines name the same variable or attribute.
fn same_key(a: NodeInfoLine<'_>, b: NodeInfoLine<'_>) -> bool {
    match (a, b) {
        (NodeInfoLine::Var(x, _), NodeInfoLine::Var(y, _)) => x == y,
        (NodeInfoLine::Attr(x, _), NodeInfoLine::Attr(y, _)) => x == y,
        _ => false,
    }
}

/// One line of an answer, without its newline; `None` unless well formed.
fn parse_line(line: &str) -> Option<NodeInfoLine<'_>> {
    let (key, value) = line.split_once('=')?;
    let name_ok = |n: &str, ok: fn(u8) -> bool| {
        (1..=NODE_INFO_NAME_MAX).contains(&n.len()) && n.bytes().all(ok)
    };
    if value.len() > NODE_INFO_VALUE_MAX || !value.bytes().all(|c| (b' '..=b'~').contains(&c)) {
        return None;
    }
    if let Some(name) = key.strip_prefix("ATTR{").and_then(|k| k.strip_suffix('}')) {
        let ok = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b':' | b'-');
        return name_ok(name, ok).then_some(NodeInfoLine::Attr(name, value));
    }
    let ok = |c: u8| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_';
    name_ok(key, ok).then_some(NodeInfoLine::Var(key, value))
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

    /// [`Op::NodeInfo`] of export `export`: the reply is a
    /// [`NodeInfoText`] of at most [`NODE_INFO_MAX`] bytes, the result its
    /// length.
    pub fn node_info(export: u32) -> Self {
        RequestDesc {
            export,
            ..RequestDesc::new(Op::NodeInfo)
        }
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
