// SPDX-License-Identifier: GPL-2.0

//! A hostile guest side, for tests only: it attacks the host through the
//! window, so that tests can prove that the host survives a malicious driver
//! VM.
//!
//! It exists only in the test flavour of the module (`make test-modules`,
//! which builds with `--cfg ikernel_test`); the shipped module has none of
//! it.  With `ikernel_guest.hostile=0xKK...` on the driver VM's command line
//! (the kinds in order, one hexadecimal digit each: see [`NAMES`]),
//! guest_stub answers `ikernel_guest.hostile_after=` requests normally and
//! attacks on the next answer, with kind `kinds[generation % n]`, where
//! `generation` is the one the host wrote into the window header: a
//! supervisor that restarts the VM cycles through the list.  With
//! `ikernel_guest.hostile_attacks=M`, one boot attacks up to `M` times, each
//! `hostile_after` answers after the one before, with the list's next kind
//! (for the kinds a host absorbs: no restart between them).  The attack
//! starts with the console line `ikernel_hostile: attack <kind> generation
//! <g>`, and its details follow as more `ikernel_hostile:` lines (at error
//! level, so that the default `quiet` console shows them).  Without the
//! parameter (the default) nothing here runs and guest_stub behaves as ever.
//!
//! Every write goes through the ring's layout (`ring.rs`: its header offsets,
//! codecs and hostile-mode helpers of `Guest`), so nothing lands outside the
//! window; what lands inside is garbage on purpose.  Some kinds have two
//! variants, chosen by the parity of the generation; the console says which.

use kernel::{
    bindings,
    ffi::{
        c_ulong,
        c_void, //
    },
    prelude::*,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        MutexGuard, //
    },
    time::{
        delay::fsleep,
        Delta,
        Instant,
        Monotonic, //
    },
};

use super::{
    Link,
    Serve, //
};
use crate::ring::{
    self,
    hdr,
    RingError,
    WireResponse, //
};

/// The kinds of attack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// A response for an id that is not in flight.
    WrongId,
    /// Two responses for the same request.
    DupResp,
    /// Response lengths past the slot's data area, and a huge one.
    LenPast,
    /// The response (odd generations) or event (even) producer index jumps
    /// far ahead.
    IndexJump,
    /// Garbage header words (an exports report claiming everything among
    /// them), a bad magic and state, and a response whose fields disagree.
    TornHeader,
    /// A valid response rewritten after its doorbell, for a while.
    LateChange,
    /// The doorbell rung in a tight loop with nothing new in the ring.
    DoorbellFlood,
    /// A stream of valid poll events with bogus handles and masks.
    EventFlood,
    /// Reads of guest-physical memory outside the VM's RAM and window.
    ProbeOutside,
    /// A net receive answered with a junk frame batch: a frame too short
    /// for an Ethernet header, one longer than any MTU allows, one good
    /// frame, a record overrunning the reply, and a frame count that is
    /// none of these.  Waits for a `NET_RECV` to answer.
    NetJunk,
    /// A successful ioctl answered as if it had made a new file, named
    /// wrongly: its descriptor's place past the end of the argument (odd
    /// generations) or the handle of a file open already (even).  Waits
    /// for an `IOCTL` to answer.
    NewFileJunk,
    /// A successful mmap answered with frames outside the driver VM's RAM:
    /// the frame of the window itself and one far past any RAM (odd
    /// generations), or frames just past the end of RAM (even).  Waits for
    /// an `MMAP` to answer.
    MmapJunk,
    /// A node description (`NODE_INFO`) that breaks its rules: a value
    /// with terminal escapes and a key in lower case (odd generations), or
    /// a result claiming more bytes than the reply has (even).  Waits for
    /// a `NODE_INFO` to answer.
    InfoJunk,
    /// A remote ioctl's next part (`IOCTL_PAGE`) answered with a step that
    /// breaks its rules: a need for a page outside the caller's map (odd
    /// generations), or a final answer whose write-back record crosses a
    /// page (even).  Waits for an `IOCTL_PAGE` to answer.
    RemoteJunk,
}

/// Every kind with its name on the console, in the order of their numbers
/// in `hostile=` (from 1: `wrong_id` is 1, `net_junk` 10, `0xa`).
const NAMES: [(Kind, &str); 14] = [
    (Kind::WrongId, "wrong_id"),
    (Kind::DupResp, "dup_resp"),
    (Kind::LenPast, "len_past"),
    (Kind::IndexJump, "index_jump"),
    (Kind::TornHeader, "torn_header"),
    (Kind::LateChange, "late_change"),
    (Kind::DoorbellFlood, "doorbell_flood"),
    (Kind::EventFlood, "event_flood"),
    (Kind::ProbeOutside, "probe_outside"),
    (Kind::NetJunk, "net_junk"),
    (Kind::NewFileJunk, "new_file_junk"),
    (Kind::MmapJunk, "mmap_junk"),
    (Kind::InfoJunk, "info_junk"),
    (Kind::RemoteJunk, "remote_junk"),
];

impl Kind {
    /// The kind's name on the console.
    fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("?", |(_, n)| *n)
    }

    /// The kind numbered `digit` in `hostile=`.
    fn from_digit(digit: u64) -> Option<Self> {
        let i = usize::try_from(digit.checked_sub(1)?).ok()?;
        NAMES.get(i).map(|(k, _)| *k)
    }
}

/// Longest list of kinds: the hexadecimal digits of a `u64`.
const MAX_KINDS: usize = 16;

/// The kinds given in `hostile=`, in order.
#[derive(Clone, Copy)]
struct Kinds {
    n: usize,
    list: [Kind; MAX_KINDS],
}

impl Kinds {
    /// Reads the list from `hostile=`: one kind per hexadecimal digit, the
    /// most significant first (`0x13`: `wrong_id`, then `len_past`); 0 is
    /// the empty list.
    ///
    /// # Errors
    ///
    /// The offending digit, when one is not a kind's number (0 inside the
    /// list, or above 10).
    fn from_param(v: u64) -> core::result::Result<Self, u64> {
        let mut k = Kinds {
            n: 0,
            list: [Kind::WrongId; MAX_KINDS],
        };
        let digits = (64 - v.leading_zeros()).div_ceil(4);
        for i in (0..digits).rev() {
            let d = (v >> (4 * i)) & 0xf;
            let slot = k.list.get_mut(k.n).ok_or(d)?;
            *slot = Kind::from_digit(d).ok_or(d)?;
            k.n += 1;
        }
        Ok(k)
    }

    /// `list[i % n]`, or `None` for the empty list.
    fn pick(&self, i: u64) -> Option<Kind> {
        let n = u64::try_from(self.n).ok()?;
        self.list
            .get(usize::try_from(i.checked_rem(n)?).ok()?)
            .copied()
    }
}

/// The hostile mode of one attached window.
pub(super) struct Hostile {
    /// The kinds of `hostile=`; `None` when the mode is off.
    kinds: Option<Kinds>,
    /// The generation the host wrote into the window header.
    generation: u32,
    /// Answers to give normally before each attack.
    after: u64,
    /// Attacks in this boot (`hostile_attacks`, at least 1).
    attacks: u64,
    /// Answers given so far.
    answers: Atomic<u64>,
}

/// One attack that [`Hostile::turn`] hands out.
pub(super) struct Turn {
    /// The kind to attack with now.
    pub(super) kind: Kind,
    /// Attack number `index` of this boot, from 0.
    index: u64,
    /// The kind of the next attack of this boot, if one remains.
    next: Option<Kind>,
}

impl Hostile {
    /// The mode for `generation`, from the module parameters.
    ///
    /// # Errors
    ///
    /// `EINVAL` if `hostile=` names no kind's number.
    pub(super) fn new(generation: u32) -> Result<Self> {
        let after = u64::from(crate::module_parameters::hostile_after.value());
        let attacks = u64::from(crate::module_parameters::hostile_attacks.value()).max(1);
        let kinds = match Kinds::from_param(crate::module_parameters::hostile.value()) {
            Ok(k) => Some(k).filter(|k| k.n > 0),
            Err(d) => {
                pr_err!(
                    "ikernel_hostile: hostile= digit {:#x} is not an attack kind's number (1 to {}, at most {} of them)\n",
                    d,
                    NAMES.len(),
                    MAX_KINDS
                );
                return Err(EINVAL);
            }
        };
        let this = Self {
            kinds,
            generation,
            after,
            attacks,
            answers: Atomic::new(0),
        };
        if let Some(k) = this.pick(0) {
            pr_err!(
                "ikernel_hostile: armed: {} after {} requests, generation {}\n",
                k.name(),
                after,
                generation
            );
        }
        Ok(this)
    }

    /// The kind of attack number `index` of this boot: the list's kinds
    /// in turn, starting at `kinds[generation % n]`.
    fn pick(&self, index: u64) -> Option<Kind> {
        self.kinds?
            .pick(u64::from(self.generation).checked_add(index)?)
    }

    /// Counts one answer; returns the attack to make instead, once its time
    /// has come (after `after` normal answers, and again after `after` more
    /// until `attacks` are made).  Always `None` when the mode is off.
    ///
    /// `op` is the op of the request being answered: an attack that needs
    /// another op lets it pass uncounted.
    pub(super) fn turn(&self, op: ring::Op) -> Option<Turn> {
        self.kinds?;
        let period = self.after.checked_add(1)?;
        let due = self.answers.load(Relaxed) / period;
        let waits_for = match self.pick(due) {
            Some(Kind::NetJunk) => Some(ring::Op::NetRecv),
            Some(Kind::NewFileJunk) => Some(ring::Op::Ioctl),
            Some(Kind::MmapJunk) => Some(ring::Op::Mmap),
            Some(Kind::InfoJunk) => Some(ring::Op::NodeInfo),
            Some(Kind::RemoteJunk) => Some(ring::Op::IoctlPage),
            _ => None,
        };
        if waits_for.is_some_and(|w| w != op) {
            return None;
        }
        let a = self.answers.fetch_add(1, Relaxed);
        let index = a / period;
        if a % period != self.after || index >= self.attacks {
            return None;
        }
        let next = if index + 1 < self.attacks {
            self.pick(index + 1)
        } else {
            None
        };
        Some(Turn {
            kind: self.pick(index)?,
            index,
            next,
        })
    }
}

/// The answer the serving process gave to the request under attack.
pub(super) struct Reply<'a> {
    pub(super) result: i64,
    pub(super) payload: &'a [u8],
    pub(super) events: u32,
    pub(super) aux: u64,
}

/// How long the late change goes on at least, and at most while the host
/// has not taken the response.
const LATE_CHANGE_MS: i64 = 1000;
const LATE_CHANGE_MAX_MS: i64 = 5000;
/// How long the floods go on.
const FLOOD_MS: i64 = 10_000;
/// How far an index jumps.
const JUMP: u32 = 0x4000_0000;
/// How long a jumped index stays published before the guest takes it back
/// (so that the guest's own ring stays usable; the host saw it long before).
const JUMP_HOLD_MS: i64 = 1000;

/// Attacks the host with `kind` instead of simply answering `req` with `r`.
///
/// `s` is the locked serving state; the request is no longer pending on
/// return.  Errors of the attack itself are only logged: the serving process
/// carries on as if it had answered.
///
/// Kept out of line, so that the frame of the normal answer path stays as
/// small as without the hostile mode.
#[cold]
#[inline(never)]
pub(super) fn attack(
    link: &Link,
    mut s: MutexGuard<'_, Serve>,
    turn: Turn,
    req: &ring::Request,
    r: &Reply<'_>,
) -> Result {
    let kind = turn.kind;
    let gen = s.guest.generation();
    pr_err!(
        "ikernel_hostile: attack {} generation {}\n",
        kind.name(),
        gen
    );
    if let Some(slot) = usize::try_from(req.tag)
        .ok()
        .and_then(|t| s.pending.get_mut(t))
    {
        *slot = None;
    }
    let odd = gen % 2 == 1;
    let done = match kind {
        Kind::WrongId => wrong_id(link, s, req, r, odd),
        Kind::DupResp => dup_resp(link, s, req, r, odd),
        Kind::LenPast => len_past(link, s, req, r, odd),
        Kind::IndexJump => index_jump(link, s, req, r, odd),
        Kind::TornHeader => torn_header(link, s, req, r),
        Kind::LateChange => late_change(link, s, req, r),
        Kind::DoorbellFlood => doorbell_flood(link, s, req, r),
        Kind::EventFlood => event_flood(link, s, req, r),
        Kind::ProbeOutside => probe_outside(link, s, req, r),
        Kind::NetJunk => net_junk(link, s, req),
        Kind::NewFileJunk => new_file_junk(link, s, req, r, odd),
        Kind::MmapJunk => mmap_junk(link, s, req, r, odd),
        Kind::InfoJunk => info_junk(link, s, req, odd),
        Kind::RemoteJunk => remote_junk(link, s, req, odd),
    };
    match done {
        Ok(()) => pr_err!("ikernel_hostile: attack {} done\n", kind.name()),
        Err(e) => pr_err!("ikernel_hostile: attack {} stopped: {:?}\n", kind.name(), e),
    }
    // With `hostile_attacks` > 1, a host that absorbed this attack gets the
    // next one from the same boot, without a restart in between.
    if let Some(next) = turn.next {
        pr_err!(
            "ikernel_hostile: armed: {} after {} requests, generation {} (attack {})\n",
            next.name(),
            link.hostile.after,
            gen,
            turn.index + 2
        );
    }
    Ok(())
}

type Done = core::result::Result<(), RingError>;

/// The response the serving process meant to give.
fn wire_of(req: &ring::Request, r: &Reply<'_>) -> WireResponse {
    WireResponse {
        id: req.id,
        len: u32::try_from(r.payload.len()).unwrap_or(u32::MAX),
        result: r.result,
        events: r.events,
        flags: 0,
        aux: r.aux,
    }
}

/// Gives the answer the serving process meant to give, payload and all.
fn genuine(s: &mut Serve, req: &ring::Request, r: &Reply<'_>) -> Done {
    s.guest
        .respond_aux(req, r.result, r.payload, r.events, r.aux)
}

/// Unlocks and rings the host, whatever event-index suppression says.
fn ring_and_unlock(link: &Link, s: MutexGuard<'_, Serve>) {
    drop(s);
    link.ring_host();
}

fn wrong_id(
    link: &Link,
    mut s: MutexGuard<'_, Serve>,
    req: &ring::Request,
    r: &Reply<'_>,
    odd: bool,
) -> Done {
    let n = s.guest.layout().num_slots;
    let (id, what) = if odd {
        // The request's own tag, with a sequence the host never issued.
        (req.id.wrapping_add(n.wrapping_mul(0x1000)), "its tag")
    } else {
        // A tag with nothing in flight here.
        let idle = (0..n)
            .find(|&t| {
                t != req.tag
                    && usize::try_from(t)
                        .ok()
                        .and_then(|t| s.pending.get(t))
                        .is_some_and(Option::is_none)
            })
            .unwrap_or(req.tag ^ 1);
        (idle.wrapping_add(n.wrapping_mul(0x2000)), "an idle tag")
    };
    s.guest.publish_raw_response(&WireResponse {
        id,
        ..wire_of(req, r)
    })?;
    pr_err!(
        "ikernel_hostile: wrong_id: response for id {:#x} ({}), then the real one for {:#x}\n",
        id,
        what,
        req.id
    );
    genuine(&mut s, req, r)?;
    ring_and_unlock(link, s);
    Ok(())
}

/// Appends a frame of `len` bytes of `fill`, if it fits.
fn put(w: &mut ring::BatchWriter<'_>, len: usize, fill: u8) {
    if let Some(f) = w.push(len) {
        f.fill(fill);
    }
}

/// Answers a `NET_RECV` with a junk batch (see [`Kind::NetJunk`]).
fn net_junk(link: &Link, mut s: MutexGuard<'_, Serve>, req: &ring::Request) -> Done {
    // On the heap: the attack's frame must stay within the kernel's.
    let Ok(mut b) = KVec::from_elem(0u8, 1700, GFP_KERNEL) else {
        pr_err!("ikernel_hostile: net_junk: no memory; a count of 9 and no bytes\n");
        s.guest.respond_aux(req, 9, &[], 0, 0)?;
        ring_and_unlock(link, s);
        return Ok(());
    };
    let mut w = ring::BatchWriter::new(&mut b);
    // Too short for an Ethernet header.
    put(&mut w, 5, 0x11);
    // Longer than the largest MTU host_stub accepts here (1500 + 18).
    put(&mut w, 1600, 0x22);
    // A good broadcast frame of an unused ethertype (0x88b5, local
    // experimental): delivered, and dropped by the stack.
    if let Some(f) = w.push(60) {
        f.fill(0);
        f[..6].fill(0xff);
        f[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x01]);
        f[12..14].copy_from_slice(&[0x88, 0xb5]);
    }
    let end = w.len();
    // A record claiming 4000 bytes, with 10 left in the reply.
    let overrun = end + ring::NET_REC_HDR + 10;
    if let Some(h) = b.get_mut(end..end + ring::NET_REC_HDR) {
        h.copy_from_slice(&4000u16.to_le_bytes());
    }
    let max = usize::try_from(req.desc.reply_max).unwrap_or(0);
    let reply = b.get(..overrun.min(max)).unwrap_or(&[]);
    s.guest.respond_aux(req, 9, reply, 0, 0)?;
    pr_err!(
        "ikernel_hostile: net_junk: {} bytes of batch for id {:#x}: frames of 5 and 1600 bytes, one good, an overrun; count 9\n",
        reply.len(),
        req.id
    );
    ring_and_unlock(link, s);
    Ok(())
}

/// Answers an ioctl as if it had made a badly named new file (see
/// [`Kind::NewFileJunk`]).
fn new_file_junk(
    link: &Link,
    mut s: MutexGuard<'_, Serve>,
    req: &ring::Request,
    r: &Reply<'_>,
    odd: bool,
) -> Done {
    let len = u16::try_from(r.payload.len()).unwrap_or(u16::MAX - 4);
    let (handle, at, what) = if odd {
        (
            0x7fff_0001,
            ring::FdAt::Arg(len.saturating_add(4)),
            "a place past the argument",
        )
    } else {
        (
            req.desc.handle,
            ring::FdAt::Result,
            "the ioctl's own file's handle",
        )
    };
    let aux = ring::NewFile {
        handle,
        at,
        cloexec: true,
        accmode: 2,
        nonblock: false,
        seekable: false,
    }
    .to_aux();
    s.guest
        .respond_aux(req, r.result.max(0), r.payload, r.events, aux)?;
    pr_err!(
        "ikernel_hostile: new_file_junk: ioctl id {:#x} answered with new file handle {:#x} at {}\n",
        req.id,
        handle,
        what
    );
    ring_and_unlock(link, s);
    Ok(())
}

/// Answers an mmap with frames the driver VM does not own as RAM (see
/// [`Kind::MmapJunk`]); the answer has the right size and page count.
fn mmap_junk(
    link: &Link,
    mut s: MutexGuard<'_, Serve>,
    req: &ring::Request,
    r: &Reply<'_>,
    odd: bool,
) -> Done {
    let pages = r.payload.len() / 8;
    let window = crate::module_parameters::window_gpa.value() >> 12;
    // The first frame past the RAM the guest kernel knows of.
    let past_ram = ram_end() >> 12;
    let Ok(mut frames) = KVec::from_elem(0u8, pages * 8, GFP_KERNEL) else {
        pr_err!("ikernel_hostile: mmap_junk: no memory; the real answer\n");
        genuine(&mut s, req, r)?;
        ring_and_unlock(link, s);
        return Ok(());
    };
    for (i, b) in frames.chunks_exact_mut(8).enumerate() {
        let f = match (odd, i % 2) {
            (true, 0) => window,
            (true, _) => 1 << 40,
            (false, _) => past_ram + i as u64,
        };
        b.copy_from_slice(&f.to_ne_bytes());
    }
    s.guest
        .respond_aux(req, r.result, &frames, r.events, r.aux)?;
    pr_err!(
        "ikernel_hostile: mmap_junk: mmap id {:#x} answered with {} frames from {:#x}\n",
        req.id,
        pages,
        if odd { window } else { past_ram }
    );
    ring_and_unlock(link, s);
    Ok(())
}

/// Answers a node description with junk (see [`Kind::InfoJunk`]).
fn info_junk(link: &Link, mut s: MutexGuard<'_, Serve>, req: &ring::Request, odd: bool) -> Done {
    let (text, result): (&[u8], i64) = if odd {
        (b"SUBSYSTEM=misc\nDEVNAME=\x1b[2Jowned\nevil=1\n", 40)
    } else {
        (b"SUBSYSTEM=misc\nDEVNAME=ikfifo\n", 4000)
    };
    s.guest.respond_aux(req, result, text, 0, 0)?;
    pr_err!(
        "ikernel_hostile: info_junk: node_info id {:#x} answered with {} bytes, result {}\n",
        req.id,
        text.len(),
        result
    );
    ring_and_unlock(link, s);
    Ok(())
}

/// Answers a remote ioctl's next part with a step that breaks its rules
/// (see [`Kind::RemoteJunk`]).
fn remote_junk(link: &Link, mut s: MutexGuard<'_, Serve>, req: &ring::Request, odd: bool) -> Done {
    let token = req.desc.cmd;
    // The page the host just sent, and a record that runs past its end.
    let page = req.desc.arg & !0xfff;
    let mut rec = [0u8; 32];
    let what = if odd {
        let (result, aux) = ring::IoctlStep::NeedPage {
            token,
            addr: 0x1000,
        }
        .to_answer();
        s.guest.respond_aux(req, result, &[], 0, aux)?;
        "a need for page 0x1000, outside any map"
    } else {
        let n = ring::WriteBack::put(&mut rec, page + 0xff8, b"owned!!!").unwrap_or(0);
        // The length says 16: past the page, and past the record.
        rec[8..12].copy_from_slice(&16u32.to_ne_bytes());
        s.guest.respond_aux(req, 0, &rec[..n], 0, 0)?;
        "a write-back record crossing its page"
    };
    pr_err!(
        "ikernel_hostile: remote_junk: ioctl_page id {:#x} (session {}) answered with {}\n",
        req.id,
        token,
        what
    );
    ring_and_unlock(link, s);
    Ok(())
}

fn dup_resp(
    link: &Link,
    mut s: MutexGuard<'_, Serve>,
    req: &ring::Request,
    r: &Reply<'_>,
    odd: bool,
) -> Done {
    genuine(&mut s, req, r)?;
    if !odd {
        // Let the host take (and perhaps release) the first one.
        link.ring_host();
        fsleep(Delta::from_millis(50));
    }
    s.guest.publish_raw_response(&wire_of(req, r))?;
    pr_err!(
        "ikernel_hostile: dup_resp: two responses for id {:#x}, the second {}\n",
        req.id,
        if odd { "at once" } else { "50 ms later" }
    );
    ring_and_unlock(link, s);
    Ok(())
}

fn len_past(
    link: &Link,
    mut s: MutexGuard<'_, Serve>,
    req: &ring::Request,
    r: &Reply<'_>,
    odd: bool,
) -> Done {
    let l = *s.guest.layout();
    // From the start of the request's buffer past the end of the data area.
    let past = l
        .num_slots
        .saturating_sub(req.tag)
        .saturating_mul(l.slot_data_size)
        .saturating_add(64);
    let lens = if odd {
        [past, u32::MAX]
    } else {
        [u32::MAX, past]
    };
    for len in lens {
        // A read's result is its length: only the length is wrong.
        let result = if req.desc.op == ring::Op::Read {
            i64::from(len)
        } else {
            r.result
        };
        s.guest.publish_raw_response(&WireResponse {
            len,
            result,
            ..wire_of(req, r)
        })?;
    }
    pr_err!(
        "ikernel_hostile: len_past: id {:#x} (tag {} of {}, buffers of {} bytes): lengths {:#x} then {:#x}, then the real answer\n",
        req.id,
        req.tag,
        l.num_slots,
        l.slot_data_size,
        lens[0],
        lens[1]
    );
    genuine(&mut s, req, r)?;
    ring_and_unlock(link, s);
    Ok(())
}

fn index_jump(
    link: &Link,
    mut s: MutexGuard<'_, Serve>,
    req: &ring::Request,
    r: &Reply<'_>,
    odd: bool,
) -> Done {
    let (what, to) = if odd {
        // The request is never answered.
        s.guest.forget_request(req);
        ("response", s.guest.skip_responses(JUMP)?)
    } else {
        genuine(&mut s, req, r)?;
        ("event", s.guest.skip_events(JUMP)?)
    };
    pr_err!(
        "ikernel_hostile: index_jump: {} producer index {:#x} -> {:#x}{}\n",
        what,
        to.wrapping_sub(JUMP),
        to,
        if odd {
            ", the request is never answered"
        } else {
            ""
        }
    );
    link.ring_host();
    // Hold it, then take it back: the host has seen it, and the guest's own
    // ring must stay usable (its producer index is checked against the
    // host's consumer index).
    fsleep(Delta::from_millis(JUMP_HOLD_MS));
    if odd {
        s.guest.skip_responses(JUMP.wrapping_neg())?;
    } else {
        s.guest.skip_events(JUMP.wrapping_neg())?;
    }
    ring_and_unlock(link, s);
    Ok(())
}

fn torn_header(
    link: &Link,
    mut s: MutexGuard<'_, Serve>,
    req: &ring::Request,
    r: &Reply<'_>,
) -> Done {
    let gen = s.guest.generation();
    let w = s.guest.window();
    // Garbage in reserved header words; a guest state, features and
    // generation the host cannot accept; and the host's own lines (magic,
    // state, geometry) overwritten.
    w.write(hdr::END, &[0xa5; 256])?;
    w.store(hdr::GUEST_STATE, 0x0bad_57a7)?;
    w.store(hdr::GUEST_FEATURES, !0)?;
    w.store(hdr::GUEST_GENERATION, gen ^ 0x8000_0000)?;
    // An exports report that claims every export and more, under a
    // sequence word that is not the guest's own.
    w.write(hdr::EXPORTS_MAP, &[0xff; 4 * ring::EXPORTS_WORDS])?;
    w.store(hdr::EXPORTS_SEQ, 0x0bad_57a8)?;
    w.store(hdr::MAGIC, !ring::MAGIC)?;
    w.store(hdr::HOST_STATE, 0x77)?;
    w.store(hdr::NUM_SLOTS, 3)?;
    w.store(hdr::SLOT_DATA_SIZE, 1)?;
    w.store(hdr::DATA_OFF, 0xffff_f000)?;
    // The answer, with garbage in its reserved word and fields that
    // disagree: a read's result is not its length, a write claims more than
    // it was given, anything else has poll bits no poll mask has.
    let mut wire = WireResponse {
        flags: 0xdead_beef,
        ..wire_of(req, r)
    };
    let what = match req.desc.op {
        ring::Op::Read => {
            wire.result = i64::from(wire.len) + 1;
            "a read whose result is not its length"
        }
        ring::Op::Write => {
            wire.result = i64::from(req.len) + 1;
            "a write of more than it was given"
        }
        _ => {
            wire.events |= 0x0001_0000;
            "poll bits above 15"
        }
    };
    s.guest.publish_raw_response(&wire)?;
    s.guest.forget_request(req);
    pr_err!(
        "ikernel_hostile: torn_header: header garbage (magic, states, geometry, features, generation, exports report, reserved words); id {:#x}: {}, reserved word {:#x}\n",
        req.id,
        what,
        wire.flags
    );
    ring_and_unlock(link, s);
    Ok(())
}

fn late_change(
    link: &Link,
    mut s: MutexGuard<'_, Serve>,
    req: &ring::Request,
    r: &Reply<'_>,
) -> Done {
    genuine(&mut s, req, r)?;
    let idx = s.guest.resp_prod().wrapping_sub(1);
    link.ring_host();
    let good = wire_of(req, r);
    let changes = [
        WireResponse {
            len: u32::MAX,
            ..good
        },
        WireResponse {
            result: i64::MIN,
            ..good
        },
        WireResponse {
            id: good.id ^ 0x8000_0000,
            ..good
        },
        WireResponse { events: !0, ..good },
        good,
    ];
    // Until the host has taken it (its consumer index passed it) and for
    // at least `LATE_CHANGE_MS`: the host copies the slot while it changes,
    // and a host that read it again later would see other values still.
    let t0 = Instant::<Monotonic>::now();
    let mut writes = 0u64;
    let mut taken_ms = None;
    loop {
        for c in &changes {
            s.guest.rewrite_response(idx, c)?;
        }
        writes += 5;
        let ms = t0.elapsed().as_millis();
        let cons = s.guest.window().load(hdr::RESP_CONS)?;
        if taken_ms.is_none() && (1..=JUMP).contains(&cons.wrapping_sub(idx)) {
            taken_ms = Some(ms);
        }
        if ms >= LATE_CHANGE_MS && (taken_ms.is_some() || ms >= LATE_CHANGE_MAX_MS) {
            break;
        }
    }
    // Ends on the valid answer: a host that had not read it yet gets that.
    s.guest.rewrite_response(idx, &good)?;
    let ms = t0.elapsed().as_millis();
    match taken_ms {
        Some(at) => pr_err!(
            "ikernel_hostile: late_change: response {:#x} (index {}) rewritten {} times in {} ms (len, result, id, events); the host took it after {} ms\n",
            req.id,
            idx,
            writes,
            ms,
            at
        ),
        None => pr_err!(
            "ikernel_hostile: late_change: response {:#x} (index {}) rewritten {} times in {} ms (len, result, id, events); the host did not take it meanwhile\n",
            req.id,
            idx,
            writes,
            ms
        ),
    }
    drop(s);
    Ok(())
}

fn doorbell_flood(
    link: &Link,
    mut s: MutexGuard<'_, Serve>,
    req: &ring::Request,
    r: &Reply<'_>,
) -> Done {
    genuine(&mut s, req, r)?;
    ring_and_unlock(link, s);
    let t0 = Instant::<Monotonic>::now();
    let mut rings = 0u64;
    while t0.elapsed().as_millis() < FLOOD_MS && !link.stopping.load(Relaxed) {
        for _ in 0..16 {
            link.ring_host();
        }
        rings += 16;
    }
    let ms = t0.elapsed().as_millis();
    pr_err!(
        "ikernel_hostile: doorbell_flood: {} doorbells in {} ms ({} per second)\n",
        rings,
        ms,
        rings.saturating_mul(1000) / u64::try_from(ms.max(1)).unwrap_or(1)
    );
    Ok(())
}

/// A xorshift generator: bogus values need no quality.
struct Rng(u32);

impl Rng {
    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

fn event_flood(
    link: &Link,
    mut s: MutexGuard<'_, Serve>,
    req: &ring::Request,
    r: &Reply<'_>,
) -> Done {
    genuine(&mut s, req, r)?;
    let mut rng = Rng(s.guest.generation().wrapping_mul(0x9e37_79b9) | 1);
    let real = req.desc.handle;
    ring_and_unlock(link, s);
    let t0 = Instant::<Monotonic>::now();
    let (mut pushed, mut rings, mut full) = (0u64, 0u64, 0u64);
    while t0.elapsed().as_millis() < FLOOD_MS && !link.stopping.load(Relaxed) {
        // As many as the ring takes (a ring's worth at most), then one
        // doorbell.
        let mut s = link.serve.lock();
        let batch = s.guest.layout().num_slots;
        let mut n = 0;
        let res = loop {
            if n == batch {
                break Ok(());
            }
            n += 1;
            let x = rng.next();
            // A real handle now and then, small ones often, any value else.
            let handle = match x % 4 {
                0 => real,
                1 => x >> 26,
                _ => rng.next(),
            };
            let ev = ring::Event {
                kind: ring::EventKind::PollReady,
                export: (x >> 8) % 3,
                handle,
                events: rng.next() & ring::POLL_KNOWN,
            };
            match s.guest.push_event(&ev) {
                Ok(()) => pushed += 1,
                e => break e,
            }
        };
        ring_and_unlock(link, s);
        rings += 1;
        match res {
            Ok(()) => {}
            Err(RingError::Full) => {
                full += 1;
                fsleep(Delta::from_micros(100));
            }
            Err(e) => {
                pr_err!(
                    "ikernel_hostile: event_flood: {} events, {} doorbells, then {:?}\n",
                    pushed,
                    rings,
                    e
                );
                return Err(e);
            }
        }
    }
    pr_err!(
        "ikernel_hostile: event_flood: {} events with {} doorbells in {} ms (ring full {} times)\n",
        pushed,
        rings,
        t0.elapsed().as_millis(),
        full
    );
    Ok(())
}

/// Bytes read at each probed address.
const PROBE_LEN: usize = 256;

fn probe_outside(
    link: &Link,
    mut s: MutexGuard<'_, Serve>,
    req: &ring::Request,
    r: &Reply<'_>,
) -> Done {
    genuine(&mut s, req, r)?;
    ring_and_unlock(link, s);
    let win = crate::module_parameters::window_gpa.value();
    let win_end = win.saturating_add(crate::module_parameters::window_size.value());
    // SAFETY: `boot_cpu_data` is set up during boot and only read since; a
    // byte field is read by value.
    let bits = unsafe { bindings::boot_cpu_data.x86_phys_bits };
    let top = 1u64.checked_shl(u32::from(bits)).unwrap_or(0);
    let ram_end = ram_end();
    pr_err!(
        "ikernel_hostile: probe_outside: RAM ends at {:#x}, window {:#x}..{:#x}, {} physical address bits\n",
        ram_end,
        win,
        win_end,
        bits
    );
    let targets: [(&str, u64); 8] = [
        ("just past RAM", ram_end),
        ("below the window", win.saturating_sub(4096)),
        ("past the window", win_end),
        ("4 GiB", 1 << 32),
        ("64 GiB", 1 << 36),
        ("1 TiB", 1 << 40),
        (
            "top of the physical address space",
            top.saturating_sub(4096),
        ),
        ("beyond the physical address space", top),
    ];
    for (name, gpa) in targets {
        probe(name, gpa, top);
    }
    Ok(())
}

/// The end of the guest's RAM: the first page frame above 1 MiB that is
/// not RAM (the shim gives one RAM range from 1 MiB, below 4 GiB).
fn ram_end() -> u64 {
    let is_ram = |pfn: c_ulong| {
        // SAFETY: `page_is_ram` only looks the frame up in the resource tree.
        unsafe { bindings::page_is_ram(pfn) != 0 }
    };
    let (mut lo, mut hi): (c_ulong, c_ulong) = (0x100, 0x10_0000);
    if !is_ram(lo) {
        return 0;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if is_ram(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    u64::try_from(hi).unwrap_or(0) << 12
}

/// Maps one page at `gpa`, reads its first bytes without faulting, logs
/// what came back.
fn probe(name: &str, gpa: u64, top: u64) {
    if gpa == 0 || gpa.saturating_add(4096) > top {
        pr_err!(
            "ikernel_hostile: probe {} {:#x}: not addressable (beyond MAXPHYADDR), not mapped\n",
            name,
            gpa
        );
        return;
    }
    // CAST: A small flag constant, lossless into `c_ulong`.
    let flags = bindings::MEMREMAP_WB as c_ulong;
    // SAFETY: `memremap` accepts any range and refuses (NULL) what it
    // cannot map; this range lies outside the guest's RAM.
    let mut base = unsafe { bindings::memremap(gpa, 4096, flags) };
    let mut how = "memremap";
    if base.is_null() {
        // SAFETY: As for `memremap`: `ioremap` refuses what it cannot map.
        base = unsafe { bindings::ioremap(gpa, 4096) };
        how = "ioremap";
    }
    if base.is_null() {
        pr_err!(
            "ikernel_hostile: probe {} {:#x}: memremap and ioremap refused\n",
            name,
            gpa
        );
        return;
    }
    let mut buf = [0u8; PROBE_LEN];
    // SAFETY: `buf` is valid for `PROBE_LEN` bytes of writes, and the source
    // is a kernel mapping of a page of at least `PROBE_LEN` bytes; a fault
    // is caught and reported, not taken.
    let rc = unsafe {
        bindings::copy_from_kernel_nofault(
            buf.as_mut_ptr().cast::<c_void>(),
            base.cast_const(),
            PROBE_LEN,
        )
    };
    // SAFETY: `base` came from the function named by `how` just above and
    // is unmapped once, here.
    unsafe {
        if how == "memremap" {
            bindings::memunmap(base);
        } else {
            bindings::iounmap(base);
        }
    }
    if rc != 0 {
        pr_err!(
            "ikernel_hostile: probe {} {:#x}: {}, read faulted ({})\n",
            name,
            gpa,
            how,
            rc
        );
        return;
    }
    let ones = buf.iter().filter(|&&b| b == 0xff).count();
    let zeros = buf.iter().filter(|&&b| b == 0).count();
    let what = if ones == PROBE_LEN {
        "all ones"
    } else if zeros == PROBE_LEN {
        "all zeros"
    } else {
        "other"
    };
    let mut first = [0u8; 8];
    first.copy_from_slice(buf.get(..8).unwrap_or(&[0; 8]));
    pr_err!(
        "ikernel_hostile: probe {} {:#x}: {}, read {} bytes without fault: {} (first word {:#018x})\n",
        name,
        gpa,
        how,
        PROBE_LEN,
        what,
        u64::from_le_bytes(first)
    );
}
