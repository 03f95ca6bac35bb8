// SPDX-License-Identifier: GPL-2.0

//! Exported device nodes: each file operation becomes a request to the
//! driver VM.
//!
//! `node.rs` (over `sys/cdev.rs`) turns the C callbacks into calls of
//! [`OpenFile`]'s methods.
//! Arguments from host user space are copied in before a request is sent
//! and results copied out after the answer, never with a lock held; reads
//! and writes larger than a slot's buffer are split into pieces with native
//! short-read and short-write semantics; ioctl arguments follow `_IOC_DIR`
//! and `_IOC_SIZE`, or the export's ioctl table.
//!
//! Bad user pointers: before a request, host_stub finds how much of the
//! caller's buffer is mapped readable or writable ([`accessible`]) and tells
//! the guest, whose serving process hands the driver a buffer with the same
//! layout.  The driver's own `copy_to_user` or `get_user` then faults at the
//! same byte as natively: a read into an unwritable buffer consumes nothing,
//! an ioctl whose argument cannot be written fails before it changes state.

use kernel::{
    fs::File,
    ioctl::{
        _IOC_DIR,
        _IOC_SIZE, //
    },
    mm::virt::{
        flags as vm,
        VmaNew, //
    },
    new_mutex, new_work,
    page::PAGE_SIZE,
    pr_err_once,
    prelude::*,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        poll::PollTable,
        Arc,
        Mutex, //
    },
    uaccess::{
        UserPtr,
        UserSlice, //
    },
    workqueue::{
        Work,
        WorkItem, //
    },
};

use crate::{
    channel::{
        nul_text,
        Answer,
        Channel,
        FileShared,
        Payload,
        ReplyTo,
        Wait, //
    },
    ring::{
        self,
        uapi::{
            ExportArg,
            IoctlDescArg,
            EXPORT_MAX_IOCTLS,
            EXPORT_REOPEN,
            IOCTL_NONE,
            IOCTL_READ as DIR_READ,
            IOCTL_RW,
            IOCTL_SIZE_MAX,
            IOCTL_WRITE as DIR_WRITE,
            NAME_MAX,
            OPEN_SEEKABLE, //
            PATH_MAX,
        },
    },
    sys::{
        accessible,
        caller_map,
        caller_points,
        cdev::{
            Attr,
            NodeDev,
            NodeInfo,
            Stat,
            UeventEnv, //
        },
        guestram::{
            GuestRam,
            NO_FRAME, //
        },
        vma_pgoff,
        work_queue,
        Access,
        O_CLOEXEC,
        O_NONBLOCK,
        POLL_DEAD, //
    },
};

/// An ioctl table entry: how to forward an ioctl without `_IOC` encoding.
#[derive(Clone, Copy)]
pub(crate) struct IoctlDesc {
    pub(crate) cmd: u32,
    pub(crate) dir: u16,
    pub(crate) size: u16,
}

/// What the guest said its node is ([`ring::Op::NodeInfo`]), checked.
struct Described {
    /// The generation that said it.
    generation: u32,
    /// A [`ring::NodeInfoText`].
    text: KVec<u8>,
}

/// One exported node of a channel.
#[pin_data]
pub(crate) struct Export {
    pub(crate) channel: Arc<Channel>,
    /// Host node name, NUL padded.
    pub(crate) name: [u8; NAME_MAX],
    /// The node in the driver VM, NUL padded (informational).
    guest_path: [u8; PATH_MAX],
    /// The driver VM's name, NUL padded, maybe empty (informational).
    vm_name: [u8; NAME_MAX],
    /// The process that exported the node (the VMM), as its own PID
    /// namespace numbers it.
    owner_pid: i32,
    /// Index of the node in the driver VM's export list.
    pub(crate) index: u32,
    /// Deadline of every call, 0 for none.
    pub(crate) timeout_ms: u32,
    /// Files reopen transparently in a new driver VM (`IKERNEL_EXPORT_REOPEN`).
    pub(crate) reopen: bool,
    pub(crate) ioctls: KVec<IoctlDesc>,
    pub(crate) stats: ExportStats,
    /// The guest's description of its node, for the node's sysfs
    /// attributes and uevents; `None` until a generation gave one.
    #[pin]
    described: Mutex<Option<Described>>,
    /// The node's device, to announce a new description; `None` once the
    /// node is removed.
    #[pin]
    dev: Mutex<Option<NodeDev>>,
    /// Asks the running generation for its description ([`Export::describe`]).
    #[pin]
    describe_work: Work<Export>,
}

kernel::impl_has_work! {
    impl HasWork<Self> for Export { self.describe_work }
}

impl WorkItem for Export {
    type Pointer = Arc<Export>;

    fn run(this: Arc<Export>) {
        this.describe();
    }
}

/// Per-export counters, shown in `/sys/kernel/debug/ikernel/stats`.
pub(crate) struct ExportStats {
    /// Successful opens.
    opens: Atomic<u64>,
    /// Forwarded calls (opens, releases and every file operation).
    calls: Atomic<u64>,
    /// Calls the driver answered with an error.
    errors: Atomic<u64>,
    /// Calls that hit the export's deadline.
    timeouts: Atomic<u64>,
    /// Calls a signal interrupted.
    interrupted: Atomic<u64>,
    /// Calls failed because the driver VM was down, restarted or broke the
    /// ring.
    eio: Atomic<u64>,
    /// Files transparently reopened in a new driver VM.
    reopens: Atomic<u64>,
    /// Opens the guest answered `ENODEV` (its node is missing).
    enodev: Atomic<u64>,
    /// Files made by forwarded ioctls and handed to the caller.
    new_files: Atomic<u64>,
    /// Ioctl answers whose new file made no sense (refused, `EIO`).
    bad_new_files: Atomic<u64>,
    /// Mappings of the driver's memory set up.
    mmaps: Atomic<u64>,
    /// Mmap answers that named frames outside the driver VM's RAM or did
    /// not match the request (refused, `EIO`).
    bad_mmaps: Atomic<u64>,
    /// Node descriptions that broke the rules of [`ring::NodeInfoText`]
    /// (refused).
    bad_node_info: Atomic<u64>,
    /// Pages of callers' memory fetched by remote ioctls.
    remote_pages: Atomic<u64>,
    /// Remote ioctl steps that broke the rules of [`ring::IoctlStep`] and
    /// [`ring::WriteBack`], or asked for memory outside the caller's map
    /// (refused, `EIO`).
    bad_remote: Atomic<u64>,
}

impl ExportStats {
    /// All zero.
    pub(crate) fn new() -> Self {
        Self {
            opens: Atomic::new(0),
            calls: Atomic::new(0),
            errors: Atomic::new(0),
            timeouts: Atomic::new(0),
            interrupted: Atomic::new(0),
            eio: Atomic::new(0),
            reopens: Atomic::new(0),
            enodev: Atomic::new(0),
            new_files: Atomic::new(0),
            bad_new_files: Atomic::new(0),
            mmaps: Atomic::new(0),
            bad_mmaps: Atomic::new(0),
            bad_node_info: Atomic::new(0),
            remote_pages: Atomic::new(0),
            bad_remote: Atomic::new(0),
        }
    }

    /// Counts a call that failed before it could be forwarded.
    fn count_eio(&self) {
        self.calls.add(1, Relaxed);
        self.eio.add(1, Relaxed);
    }

    /// Counts one forwarded call and its outcome.
    fn count(&self, r: &Result<Answer>) {
        self.calls.add(1, Relaxed);
        match r {
            Ok(a) if a.result == i64::from(ERESTARTSYS.to_errno()) => {
                self.interrupted.add(1, Relaxed)
            }
            Ok(a) if a.result < 0 => self.errors.add(1, Relaxed),
            Ok(_) => {}
            Err(e) if *e == ETIMEDOUT => self.timeouts.add(1, Relaxed),
            Err(e) if *e == ERESTARTSYS => self.interrupted.add(1, Relaxed),
            Err(_) => self.eio.add(1, Relaxed),
        }
    }
}

/// A NUL-terminated string field of the argument, every byte before the
/// NUL passing `valid`, copied with zeroes after the NUL (so that equal
/// strings are equal arrays, whatever user space left behind them).
fn text_field<const N: usize>(src: &[u8; N], valid: impl Fn(u8) -> bool) -> Result<[u8; N]> {
    let len = src.iter().position(|&c| c == 0).ok_or(EINVAL)?;
    let text = src.get(..len).ok_or(EINVAL)?;
    if !text.iter().all(|&c| valid(c)) {
        return Err(EINVAL);
    }
    let mut out = [0u8; N];
    out.get_mut(..len).ok_or(EINVAL)?.copy_from_slice(text);
    Ok(out)
}

impl Export {
    /// The host node's name (checked and NUL-padded by
    /// [`Export::from_arg`]).
    pub(crate) fn node_name(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.name).unwrap_or(c"?")
    }

    /// The export `arg` describes (`IKERNEL_IOC_EXPORT`), on `channel`.
    ///
    /// # Errors
    ///
    /// `EINVAL` for a bad name, mode, flag or ioctl table entry, `EFAULT` if
    /// the table cannot be read, `ENXIO` if the channel has no window or is
    /// closed.
    pub(crate) fn from_arg(channel: Arc<Channel>, arg: &ExportArg) -> Result<Arc<Export>> {
        let word = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-');
        let name = text_field(&arg.name, word)?;
        let vm_name = text_field(&arg.vm_name, word)?;
        let guest_path = text_field(&arg.guest_path, |c| c.is_ascii_graphic())?;
        if name[0] == 0
            || name[0] == b'.'
            || vm_name[0] == b'.'
            || guest_path[0] != b'/'
            || arg.mode > 0o777
            || arg.nr_ioctls > EXPORT_MAX_IOCTLS
            || arg.flags & !EXPORT_REOPEN != 0
            || arg.minor != 0
        {
            return Err(EINVAL);
        }
        let n = usize::try_from(arg.nr_ioctls)?;
        let mut ioctls = KVec::with_capacity(n, GFP_KERNEL)?;
        let mut table = UserSlice::new(
            UserPtr::from_addr(usize::try_from(arg.ioctls)?),
            n * core::mem::size_of::<IoctlDescArg>(),
        )
        .reader();
        for _ in 0..n {
            let d: IoctlDescArg = table.read()?;
            if d.dir > IOCTL_RW || d.size > IOCTL_SIZE_MAX || (d.dir == IOCTL_NONE) != (d.size == 0)
            {
                return Err(EINVAL);
            }
            if ioctls.iter().any(|e: &IoctlDesc| e.cmd == d.cmd) {
                return Err(EINVAL);
            }
            ioctls.push(
                IoctlDesc {
                    cmd: d.cmd,
                    dir: d.dir,
                    size: d.size,
                },
                GFP_KERNEL,
            )?;
        }
        channel.check_exportable()?;
        channel.name_vm(vm_name);
        Arc::pin_init(
            try_pin_init!(Export {
                channel,
                name,
                guest_path,
                vm_name,
                // Through task_tgid_nr_ns(), not `Task::tgid`, a field
                // read: bindgen's task_struct is laid out wrong after the
                // empty, cache-aligned `sched_statistics` (CONFIG_SCHEDSTATS
                // off), so that read gave 1 for every caller.
                owner_pid: kernel::current!().tgid_nr_ns(None),
                index: arg.index,
                timeout_ms: arg.timeout_ms,
                reopen: arg.flags & EXPORT_REOPEN != 0,
                ioctls,
                stats: ExportStats::new(),
                described <- new_mutex!(None, "ikernel::Export::described"),
                dev <- new_mutex!(None, "ikernel::Export::dev"),
                describe_work <- new_work!("ikernel::Export::describe"),
            }),
            GFP_KERNEL,
        )
    }

    /// Sets the node's device (`Some` once it is added, `None` before it
    /// is removed) and asks the running generation for its description.
    pub(crate) fn set_dev(self: &Arc<Self>, dev: Option<NodeDev>) {
        let added = dev.is_some();
        let old = core::mem::replace(&mut *self.dev.lock(), dev);
        drop(old);
        if added {
            self.redescribe();
        }
    }

    /// Queues [`Export::describe`] (a new generation may describe its node
    /// differently).
    pub(crate) fn redescribe(self: &Arc<Self>) {
        let _ = work_queue().enqueue(self.clone());
    }

    /// Asks the running generation what its node is (`NODE_INFO`), unless
    /// it did already or cannot; a checked answer replaces the last
    /// generation's and is announced with a `change` uevent.  Runs on the
    /// work queue: the call waits for the guest.
    fn describe(&self) {
        let ch = &self.channel;
        let gen = ch.generation();
        let done = self
            .described
            .lock()
            .as_ref()
            .is_some_and(|d| d.generation == gen);
        if gen == 0 || done || !ch.guest_has(gen, ring::FEATURE_NODE_INFO) {
            return;
        }
        let Ok(mut reply) = KVec::from_elem(0u8, ring::NODE_INFO_MAX, GFP_KERNEL) else {
            return;
        };
        let d = ring::RequestDesc::node_info(self.index);
        // Not a file operation: not in the call counters.
        let a = ch.call(
            Some(gen),
            &d,
            &[],
            &mut reply,
            self.timeout_ms,
            Wait::Bounded,
        );
        // A missing node, a dead or restarted VM: nothing to describe.
        let Ok(a) = a else { return };
        if a.result < 0 {
            return;
        }
        let text = reply.get(..a.len).unwrap_or(&[]);
        if usize::try_from(a.result) != Ok(a.len) || ring::NodeInfoText::parse(text).is_none() {
            self.stats.bad_node_info.add(1, Relaxed);
            pr_err_once!(
                "ikernel: driver VM {} described a node with junk\n",
                ch.vm_name()
            );
            return;
        }
        reply.truncate(a.len);
        *self.described.lock() = Some(Described {
            generation: a.generation,
            text: reply,
        });
        if let Some(dev) = self.dev.lock().as_ref() {
            dev.changed();
        }
    }

    /// Calls `f` with the guest's description, if there is one.  A
    /// description older than the running generation (or none: the node
    /// may have been missing when the guest was asked) is asked for again,
    /// in the background: whoever reads it next sees the new one.
    fn with_described<R>(
        self: &Arc<Self>,
        f: impl FnOnce(Option<ring::NodeInfoText<'_>>) -> R,
    ) -> R {
        let g = self.described.lock();
        let gen = self.channel.generation();
        if gen != 0 && g.as_ref().is_none_or(|d| d.generation != gen) {
            self.redescribe();
        }
        f(g.as_ref().and_then(|d| ring::NodeInfoText::parse(&d.text)))
    }

    /// Writes one statistics line.
    pub(crate) fn write_stats(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let name = nul_text(&self.name);
        let s = &self.stats;
        write!(
            f,
            "export {} index {} node {} enodev {} opens {} calls {} errors {} timeouts {} \
             interrupted {} eio {} reopens {} new_files {} bad_new_files {} mmaps {} \
             bad_mmaps {} bad_node_info {} remote_pages {} bad_remote {} ",
            name,
            self.index,
            self.channel.guest_node(self.index),
            s.enodev.load(Relaxed),
            s.opens.load(Relaxed),
            s.calls.load(Relaxed),
            s.errors.load(Relaxed),
            s.timeouts.load(Relaxed),
            s.interrupted.load(Relaxed),
            s.eio.load(Relaxed),
            s.reopens.load(Relaxed),
            s.new_files.load(Relaxed),
            s.bad_new_files.load(Relaxed),
            s.mmaps.load(Relaxed),
            s.bad_mmaps.load(Relaxed),
            s.bad_node_info.load(Relaxed),
            s.remote_pages.load(Relaxed),
            s.bad_remote.load(Relaxed)
        )?;
        self.channel.write_stats(f)?;
        writeln!(f)
    }
}

impl Export {
    /// How the argument of `cmd` travels: (direction bits, size).
    fn ioctl_shape(&self, cmd: u32) -> (u16, usize) {
        if let Some(d) = self.ioctls.iter().find(|d| d.cmd == cmd) {
            return (d.dir, usize::from(d.size));
        }
        // CAST: `_IOC_DIR` is two bits.
        (_IOC_DIR(cmd) as u16, _IOC_SIZE(cmd))
    }
}

impl NodeInfo for Export {
    fn show(self: &Arc<Self>, attr: Attr, f: &mut kernel::str::Formatter<'_>) -> core::fmt::Result {
        use core::fmt::Write;
        let s = &self.stats;
        let n = |c: &Atomic<u64>| c.load(Relaxed);
        match attr {
            Attr::State => f.write_str(self.channel.state_word()),
            Attr::Generation => write!(f, "{}", self.channel.generation()),
            Attr::GuestPath => f.write_str(nul_text(&self.guest_path)),
            Attr::VmName => f.write_str(nul_text(&self.vm_name)),
            Attr::OwnerPid => write!(f, "{}", self.owner_pid),
            Attr::Index => write!(f, "{}", self.index),
            Attr::GuestNode => f.write_str(self.channel.guest_node(self.index)),
            Attr::TimeoutMs => write!(f, "{}", self.timeout_ms),
            Attr::Reopen => write!(f, "{}", u8::from(self.reopen)),
            Attr::GuestSubsystem => {
                self.with_described(|d| f.write_str(d.map_or("", |d| d.subsystem())))
            }
            Attr::GuestUevent | Attr::GuestAttrs => self.with_described(|d| {
                let mut sep = "";
                for l in d.iter().flat_map(|d| d.lines()) {
                    match (attr, l) {
                        (Attr::GuestUevent, ring::NodeInfoLine::Var(k, v))
                        | (Attr::GuestAttrs, ring::NodeInfoLine::Attr(k, v)) => {
                            write!(f, "{sep}{k}={v}")?;
                            sep = "\n";
                        }
                        _ => {}
                    }
                }
                Ok(())
            }),
            Attr::Stat(Stat::Opens) => write!(f, "{}", n(&s.opens)),
            Attr::Stat(Stat::Calls) => write!(f, "{}", n(&s.calls)),
            Attr::Stat(Stat::Errors) => write!(f, "{}", n(&s.errors)),
            Attr::Stat(Stat::Timeouts) => write!(f, "{}", n(&s.timeouts)),
            Attr::Stat(Stat::Interrupted) => write!(f, "{}", n(&s.interrupted)),
            Attr::Stat(Stat::Eio) => write!(f, "{}", n(&s.eio)),
            Attr::Stat(Stat::Reopens) => write!(f, "{}", n(&s.reopens)),
            Attr::Stat(Stat::Enodev) => write!(f, "{}", n(&s.enodev)),
            Attr::Stat(Stat::NewFiles) => write!(f, "{}", n(&s.new_files)),
            Attr::Stat(Stat::BadNewFiles) => write!(f, "{}", n(&s.bad_new_files)),
            Attr::Stat(Stat::Mmaps) => write!(f, "{}", n(&s.mmaps)),
            Attr::Stat(Stat::BadMmaps) => write!(f, "{}", n(&s.bad_mmaps)),
            Attr::Stat(Stat::BadNodeInfo) => write!(f, "{}", n(&s.bad_node_info)),
            Attr::Stat(Stat::RemotePages) => write!(f, "{}", n(&s.remote_pages)),
            Attr::Stat(Stat::BadRemote) => write!(f, "{}", n(&s.bad_remote)),
        }
    }

    fn uevent(self: &Arc<Self>, env: &mut UeventEnv<'_>) {
        env.add(format_args!("IKERNEL_VM={}", nul_text(&self.vm_name)));
        env.add(format_args!("IKERNEL_INDEX={}", self.index));
        env.add(format_args!(
            "IKERNEL_GUEST_PATH={}",
            nul_text(&self.guest_path)
        ));
        // The variables of the guest's uevent, its subsystem and driver
        // first; never while the guest is asked (`describe` holds no lock
        // across its call).
        self.with_described(|d| {
            for l in d.iter().flat_map(|d| d.lines()) {
                if let ring::NodeInfoLine::Var(k, v) = l {
                    env.add(format_args!("IKERNEL_GUEST_{k}={v}"));
                }
            }
        });
    }
}

/// An open file of an exported node (the C file's private data).
pub(crate) struct OpenFile {
    export: Arc<Export>,
    /// The open flags, for a transparent reopen.
    flags: u32,
    /// Made by a forwarded ioctl (not by an open): never reopened, since a
    /// new driver VM could not make it again.
    made: bool,
    /// The guest's file; a transparent reopen replaces it.  The lock is
    /// held only to read or swap the pointer, never across a call.
    cur: Pin<KBox<Mutex<Arc<FileShared>>>>,
}

/// Integers that could be user addresses: from `mmap_min_addr`'s usual
/// 64 KiB to the end of a 4-level user address space.
const USER_RANGE: core::ops::Range<usize> = 0x1_0000..(1 << 47) - 4096;

/// Whether an ioctl argument's bytes may hold pointers the driver
/// follows: a native word at any 4-aligned offset that is an address in
/// the caller's readable memory.  Only then is the ioctl run against the
/// caller's memory ([`OpenFile::remote_ioctl`]); a false alarm costs time,
/// never correctness.
fn holds_pointers(arg: &[u8]) -> bool {
    let mut words = [0u64; 64];
    let mut n = 0;
    let mut off = 0;
    while off + 8 <= arg.len() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&arg[off..off + 8]);
        words[n] = u64::from_ne_bytes(w);
        n += 1;
        off += 4;
        if n == words.len() || off + 8 > arg.len() {
            if caller_points(&words[..n]) {
                return true;
            }
            n = 0;
        }
    }
    false
}

/// Turns a guest result into a host one: a value, or a negative errno.
fn result(a: &Answer) -> Result<i64> {
    if a.result < 0 {
        // CAST: The ring checked `-MAX_ERRNO <= result`.
        Err(Error::from_errno(a.result as i32))
    } else {
        Ok(a.result)
    }
}

impl OpenFile {
    /// Opens the guest's node; returns the file and whether it is seekable.
    pub(crate) fn open(export: Arc<Export>, flags: u32) -> Result<(KBox<OpenFile>, bool)> {
        let (shared, seekable) = Self::open_guest(&export, flags)?;
        export.stats.opens.add(1, Relaxed);
        Ok((Self::new_boxed(export, flags, false, shared)?, seekable))
    }

    /// The open file of the guest's file `shared` (tracked already), with
    /// open flags `flags`, `made` by an ioctl or not.  If it cannot be
    /// made, the guest's file is forgotten and closed.
    fn new_boxed(
        export: Arc<Export>,
        flags: u32,
        made: bool,
        shared: Arc<FileShared>,
    ) -> Result<KBox<OpenFile>> {
        let cur = KBox::pin_init(
            new_mutex!(shared.clone(), "ikernel::OpenFile::cur"),
            GFP_KERNEL,
        );
        let of = cur.and_then(|cur| {
            let of = OpenFile {
                export: export.clone(),
                flags,
                made,
                cur,
            };
            Ok(KBox::new(of, GFP_KERNEL)?)
        });
        of.inspect_err(|_| Self::forget_guest(&export, &shared))
    }

    /// Forgets the tracked guest file `f`, which no host file holds, and
    /// closes it.
    fn forget_guest(export: &Export, f: &FileShared) {
        export.channel.remove_file(f);
        Self::release_guest(export, f.handle(), f.generation(), 0);
    }

    /// Opens the guest's node and registers the file for poll events.
    fn open_guest(export: &Arc<Export>, flags: u32) -> Result<(Arc<FileShared>, bool)> {
        let ch = &export.channel;
        let desc = ring::RequestDesc::open(export.index, flags);
        let a = ch.call(
            None,
            &desc,
            &[],
            &mut [],
            export.timeout_ms,
            Wait::Interruptible,
        );
        export.stats.count(&a);
        let a = a?;
        if a.result == i64::from(ENODEV.to_errno()) {
            export.stats.enodev.add(1, Relaxed);
        }
        let handle = result(&a)?;
        let handle = match u32::try_from(handle) {
            Ok(h) if h != 0 => h,
            _ => {
                pr_err_once!(
                    "ikernel: driver VM {} answered an open with a bad handle\n",
                    export.channel.vm_name()
                );
                return Err(EIO);
            }
        };
        let shared = Self::track(export, handle, a.generation, a.events).map_err(|e| {
            if e == EEXIST {
                EIO
            } else {
                e
            }
        })?;
        Ok((shared, a.aux & OPEN_SEEKABLE != 0))
    }

    /// Closes the guest's file `handle` of generation `gen`, waiting at
    /// most `timeout_ms` (0: the bounded release wait) and never for a
    /// signal: a close cannot be interrupted.
    fn release_guest(export: &Export, handle: u32, gen: u32, timeout_ms: u32) {
        let d = ring::RequestDesc::release(export.index, handle);
        let r = export
            .channel
            .call(Some(gen), &d, &[], &mut [], timeout_ms, Wait::Bounded);
        export.stats.count(&r);
    }

    /// The guest file a call goes to.  After a driver-VM restart an export
    /// with `IKERNEL_EXPORT_REOPEN` opens the node again, with the original
    /// flags, in the new VM; otherwise the file stays failed (`EIO`).
    fn file(&self) -> Result<Arc<FileShared>> {
        let old = self.cur.lock().clone();
        if !old.is_dead() {
            return Ok(old);
        }
        if !self.reopens() {
            return Err(EIO);
        }
        // No lock is held across the open: a second caller racing this one
        // opens too, and the loser closes its file again.
        let (new, _) = Self::open_guest(&self.export, self.flags)?;
        let mut cur = self.cur.lock();
        if !Arc::ptr_eq(&cur, &old) {
            let won = cur.clone();
            drop(cur);
            Self::forget_guest(&self.export, &new);
            return Ok(won);
        }
        *cur = new.clone();
        drop(cur);
        self.export.stats.reopens.add(1, Relaxed);
        Ok(new)
    }

    /// Whether the file reopens transparently in a new driver VM.
    fn reopens(&self) -> bool {
        self.export.reopen && !self.made
    }

    /// Registers the guest's new file `handle` of generation `gen`, poll
    /// mask `events`, for poll events.  If that fails the guest's file is
    /// closed, not to leak it; except with `EEXIST`: the handle is another
    /// open file's (a lying guest), and that file is left alone.
    fn track(export: &Export, handle: u32, gen: u32, events: u32) -> Result<Arc<FileShared>> {
        let r = FileShared::new(export.index, handle, gen, events)
            .and_then(|f| export.channel.add_file(f.clone()).map(|()| f));
        if matches!(&r, Err(e) if *e != EEXIST) {
            Self::release_guest(export, handle, gen, 0);
        }
        r
    }

    /// File operation `d` for this file; the handle is filled in by
    /// [`Self::call`].
    fn desc(&self, d: ring::RequestDesc, flags: u32) -> ring::RequestDesc {
        d.on_file(self.export.index, 0, flags)
    }

    fn call(&self, d: &ring::RequestDesc, payload: &[u8], reply: &mut [u8]) -> Result<Answer> {
        let (a, _) = self.call_with(d, Payload::Kernel(payload), ReplyTo::Kernel(reply))?;
        Ok(a)
    }

    /// [`Channel::call_with`] for this file.  A [`Payload::User`] that is
    /// not resident fails with `EFAULT` without counting as a call.
    fn call_with(
        &self,
        d: &ring::RequestDesc,
        payload: Payload<'_>,
        reply: ReplyTo<'_>,
    ) -> Result<(Answer, Option<KVec<u8>>)> {
        let f = self.file().inspect_err(|_| self.export.stats.count_eio())?;
        let mut d = *d;
        d.handle = f.handle();
        let r = self.export.channel.call_with(
            Some(f.generation()),
            &d,
            payload,
            reply,
            self.export.timeout_ms,
            Wait::Interruptible,
        );
        if matches!((&r, payload), (Err(e), Payload::User { .. }) if *e == EFAULT) {
            return Err(EFAULT);
        }
        self.export
            .stats
            .count(&r.as_ref().map(|(a, _)| *a).map_err(|e| *e));
        let (a, bounce) = r?;
        f.set_mask(a.events);
        Ok((a, bounce))
    }

    /// Last close: releases the guest's file.
    pub(crate) fn release(&self) {
        let f = self.cur.lock().clone();
        self.export.channel.remove_file(&f);
        if f.is_dead() {
            return;
        }
        Self::release_guest(
            &self.export,
            f.handle(),
            f.generation(),
            self.export.timeout_ms,
        );
    }

    /// `read` into the caller's buffer at `addr`: returns the bytes read
    /// and the new position.
    pub(crate) fn read(
        &self,
        addr: usize,
        count: usize,
        pos: i64,
        flags: u32,
    ) -> Result<(usize, i64)> {
        let piece = self.export.channel.piece_max()?.min(count);
        let mut done = 0usize;
        let mut pos = pos;
        loop {
            let want = (count - done).min(piece);
            let at = addr.wrapping_add(done);
            // Later pieces must not block: a native read returns what it
            // has rather than wait for more.
            let fl = if done == 0 { flags } else { flags | O_NONBLOCK };
            let writable = accessible(at, want, Access::Write);
            // CAST: File positions are non-negative; `writable` is at most
            // a slot's buffer size.
            let d = self.desc(ring::RequestDesc::read(pos as u64, writable as u64), fl);
            // The reply goes straight from the window to the caller's
            // buffer: one copy, unless a page is not resident.
            let to = ReplyTo::User {
                addr: at,
                max: want,
            };
            let (a, bounce) = match self.call_with(&d, Payload::Kernel(&[]), to) {
                Ok(a) => a,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            };
            let n = match result(&a) {
                Ok(_) => a.len,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            };
            // Copy out what could not go straight, now that no lock is held.
            let copied = match bounce {
                Some(buf) => UserSlice::new(UserPtr::from_addr(at), n)
                    .writer()
                    .write_slice(buf.get(..n).ok_or(EIO)?),
                None => Ok(()),
            };
            if let Err(e) = copied {
                if done == 0 {
                    return Err(e);
                }
                break;
            }
            done += n;
            pos = new_pos(pos, n, a.aux);
            if n < want || done == count {
                break;
            }
        }
        Ok((done, pos))
    }

    /// `write` from the caller's buffer at `addr`: returns the bytes
    /// written and the new position.
    pub(crate) fn write(
        &self,
        addr: usize,
        count: usize,
        pos: i64,
        flags: u32,
    ) -> Result<(usize, i64)> {
        let piece = self.export.channel.piece_max()?.min(count);
        // Allocated only if a page of the caller's buffer is not resident.
        let mut buf = KVec::new();
        let mut done = 0usize;
        let mut pos = pos;
        loop {
            let want = (count - done).min(piece);
            let at = addr.wrapping_add(done);
            // Only the readable part travels; the driver faults where the
            // caller's buffer ends, as it would natively.
            let readable = accessible(at, want, Access::Read);
            let fl = if done == 0 { flags } else { flags | O_NONBLOCK };
            // CAST: File positions are non-negative; `want` is at most a
            // slot's buffer size.
            let d = self.desc(ring::RequestDesc::write(pos as u64, want as u32), fl);
            // Straight from the caller's buffer into the window: one copy.
            let direct = Payload::User {
                addr: at,
                len: readable,
            };
            let mut r = self.call_with(&d, direct, ReplyTo::Kernel(&mut []));
            if matches!(r, Err(e) if e == EFAULT) {
                // A page is not resident (or `direct_copy` is off): go
                // through a kernel buffer, faulting outside every lock.
                if buf.len() < readable {
                    buf = KVec::from_elem(0u8, piece, GFP_KERNEL)?;
                }
                let chunk = buf.get_mut(..readable).ok_or(EINVAL)?;
                if let Err(e) = UserSlice::new(UserPtr::from_addr(at), readable)
                    .reader()
                    .read_slice(chunk)
                {
                    if done == 0 {
                        return Err(e);
                    }
                    break;
                }
                self.export.channel.count_bounced(readable);
                r = self.call_with(&d, Payload::Kernel(chunk), ReplyTo::Kernel(&mut []));
            }
            let a = match r {
                Ok((a, _)) => a,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            };
            let n = match result(&a) {
                // The ring checked that a write reports at most its payload.
                Ok(v) => usize::try_from(v)?,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            };
            done += n;
            pos = new_pos(pos, n, a.aux);
            if n < want || done == count {
                break;
            }
        }
        Ok((done, pos))
    }

    /// `llseek` from position `pos`; returns the new position.
    pub(crate) fn llseek(&self, pos: i64, offset: i64, whence: i32, flags: u32) -> Result<i64> {
        // CAST: Positions and whence travel as their bit patterns.
        let d = self.desc(
            ring::RequestDesc::llseek(pos as u64, offset, whence as u32),
            flags,
        );
        let a = self.call(&d, &[], &mut [])?;
        result(&a)
    }

    /// `unlocked_ioctl` and `compat_ioctl`.
    pub(crate) fn ioctl(&self, cmd: u32, arg: usize, flags: u32) -> Result<isize> {
        let (dir, size) = self.export.ioctl_shape(cmd);
        let bytes = dir & (DIR_READ | DIR_WRITE) != 0 && size > 0;
        // CAST: A user address travels as its bit pattern.
        let ioctl = |shape| self.desc(ring::RequestDesc::ioctl(cmd, arg as u64, shape), flags);
        // No bytes travel, or they cannot: the driver gets a pointer it
        // cannot access (EFAULT if it uses it; an unknown command stays
        // ENOTTY).  A descriptor it hands out can only be the result.
        let shape = if !bytes {
            Some(ring::IoctlArg::Integer)
        } else if size > self.export.channel.piece_max()? {
            Some(ring::IoctlArg::Lost)
        } else {
            None
        };
        // An integer that could be a user address is run as a pointer, so
        // that one into the caller's memory is followed and one to nothing
        // faults (never the serving process's memory at that address).
        let pointer =
            shape == Some(ring::IoctlArg::Lost) || (shape.is_some() && USER_RANGE.contains(&arg));
        if pointer {
            if let Some(v) = self.remote_ioctl(cmd, arg, flags)? {
                return Ok(v);
            }
        }
        if let Some(shape) = shape {
            let a = self.call(&ioctl(shape), &[], &mut [])?;
            let v = result(&a)?;
            if let Some(nf) = ring::NewFile::from_aux(a.aux) {
                return self.hand_out(nf, &a, v, arg, &mut []);
            }
            return Ok(isize::try_from(v).unwrap_or(isize::MAX));
        }
        let readable = accessible(arg, size, Access::Read);
        let writable = accessible(arg, size, Access::Write);
        // All three are at most `_IOC_SIZE`'s 14 bits.
        let d = ioctl(ring::IoctlArg::Bytes {
            size: u16::try_from(size)?,
            readable: u16::try_from(readable)?,
            writable: u16::try_from(writable)?,
        });
        let mut payload = KVec::new();
        if dir & DIR_WRITE != 0 {
            payload = KVec::from_elem(0u8, readable, GFP_KERNEL)?;
            UserSlice::new(UserPtr::from_addr(arg), readable)
                .reader()
                .read_slice(&mut payload)?;
        }
        if holds_pointers(&payload) {
            if let Some(v) = self.remote_ioctl(cmd, arg, flags)? {
                return Ok(v);
            }
        }
        let want = if dir & DIR_READ != 0 { size } else { 0 };
        let mut reply = KVec::from_elem(0u8, want, GFP_KERNEL)?;
        let a = self.call(&d, &payload, &mut reply)?;
        if a.result < 0 && !payload.is_empty() {
            // A failing driver may have stored into the argument (a count
            // of what it did); the other bytes are the caller's own, sent
            // with the request.  The ioctl fails with the driver's errno
            // whatever becomes of these.
            if let Some(back) = reply.get(..a.len.min(want)).filter(|b| !b.is_empty()) {
                let _ = UserSlice::new(UserPtr::from_addr(arg), back.len())
                    .writer()
                    .write_slice(back);
            }
        }
        let v = result(&a)?;
        let reply = reply.get_mut(..a.len.min(want)).ok_or(EIO)?;
        if let Some(nf) = ring::NewFile::from_aux(a.aux) {
            return self.hand_out(nf, &a, v, arg, reply);
        }
        if !reply.is_empty() {
            UserSlice::new(UserPtr::from_addr(arg), reply.len())
                .writer()
                .write_slice(reply)?;
        }
        Ok(isize::try_from(v).unwrap_or(isize::MAX))
    }

    /// Runs ioctl `cmd` against the caller's own memory
    /// ([`ring::IoctlArg::Remote`]): the guest's driver gets `arg` as it is,
    /// and every page it touches is fetched from the caller when it first
    /// does; what it changed is written back.  `None` if this cannot be
    /// done (the guest does not support it, or the caller's map does not
    /// fit a request): the caller forwards the ioctl as usual.
    ///
    /// # Errors
    ///
    /// The ioctl's errno; `EFAULT` if what the driver wrote cannot be
    /// written back; `EIO` if the guest broke the rules of a step.
    fn remote_ioctl(&self, cmd: u32, arg: usize, flags: u32) -> Result<Option<isize>> {
        let s = &self.export.stats;
        let ch = &self.export.channel;
        let gen = self.file()?.generation();
        if !ch.guest_has(gen, ring::FEATURE_REMOTE_IOCTL) {
            return Ok(None);
        }
        let max = ch.piece_max()?;
        let ranges = match caller_map(max / ring::MEM_RANGE_SIZE) {
            Ok(m) => m,
            Err(e) if e == E2BIG => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut payload = KVec::with_capacity(ranges.len() * ring::MEM_RANGE_SIZE, GFP_KERNEL)?;
        for r in ranges.iter() {
            payload.extend_from_slice(&r.to_bytes(), GFP_KERNEL)?;
        }
        // CAST: A user address travels as its bit pattern.
        let mut d = self.desc(
            ring::RequestDesc::ioctl(cmd, arg as u64, ring::IoctlArg::Remote),
            flags,
        );
        let mut reply = KVec::from_elem(0u8, max, GFP_KERNEL)?;
        // The pages sent, and whether the caller may write them.
        let mut sent: KVec<(u64, bool)> = KVec::new();
        let mut token = None;
        loop {
            let a = self.call(&d, &payload, &mut reply)?;
            let records = reply.get(..a.len).ok_or(EIO)?;
            let step = match ring::IoctlStep::from_answer(a.result, a.aux) {
                None => {
                    // The final answer: what the driver wrote is written
                    // back whatever the result, as it would have been.
                    self.write_back(records, &sent)?;
                    // A restart only ever answers a signal the caller has.
                    let v = match result(&a) {
                        Err(e) if e == ERESTARTSYS && !kernel::current!().signal_pending() => {
                            Err(EINTR)
                        }
                        r => r,
                    }?;
                    if let Some(nf) = ring::NewFile::from_aux(a.aux) {
                        return self.hand_out(nf, &a, v, arg, &mut []).map(Some);
                    }
                    return Ok(Some(isize::try_from(v).unwrap_or(isize::MAX)));
                }
                Some(step) => step,
            };
            let (t, next) = match step {
                Some(ring::IoctlStep::NeedPage { token: t, addr }) => {
                    let range = ranges.iter().find(|r| r.contains(addr));
                    let fresh = !sent.iter().any(|&(p, _)| p == addr);
                    match range {
                        Some(r) if fresh && sent.len() < ring::REMOTE_PAGES_MAX => {
                            sent.push((addr, r.writable), GFP_KERNEL)?;
                            (t, Some(addr))
                        }
                        _ => return Err(self.bad_remote(t)),
                    }
                }
                Some(ring::IoctlStep::WriteBack { token: t }) => {
                    self.write_back(records, &sent)?;
                    (t, None)
                }
                None => return Err(self.bad_remote(0)),
            };
            if *token.get_or_insert(t) != t {
                return Err(self.bad_remote(0));
            }
            payload.clear();
            let what = match next {
                Some(addr) => {
                    payload.resize(ring::REMOTE_PAGE, 0, GFP_KERNEL)?;
                    let from = UserPtr::from_addr(usize::try_from(addr)?);
                    let r = UserSlice::new(from, ring::REMOTE_PAGE)
                        .reader()
                        .read_slice(&mut payload);
                    s.remote_pages.add(1, Relaxed);
                    if r.is_ok() {
                        ring::PageReply::Data
                    } else {
                        payload.clear();
                        ring::PageReply::Unreadable
                    }
                }
                None => ring::PageReply::Continue,
            };
            d = self.desc(
                ring::RequestDesc::ioctl_page(t, next.unwrap_or(0), what),
                flags,
            );
        }
    }

    /// Writes the [`ring::WriteBack`] records of a remote ioctl's answer to
    /// the caller: each must lie in a writable page that was `sent`.
    fn write_back(&self, records: &[u8], sent: &[(u64, bool)]) -> Result {
        let page = !(ring::REMOTE_PAGE as u64 - 1);
        for rec in ring::WriteBack::new(records) {
            let Ok((addr, bytes)) = rec else {
                return Err(self.bad_remote(0));
            };
            if !sent.iter().any(|&(p, w)| w && p == addr & page) {
                return Err(self.bad_remote(0));
            }
            UserSlice::new(UserPtr::from_addr(usize::try_from(addr)?), bytes.len())
                .writer()
                .write_slice(bytes)?;
        }
        Ok(())
    }

    /// A remote ioctl's step broke the rules: counts it, tells the guest to
    /// drop session `token` (if known) and fails the ioctl.
    fn bad_remote(&self, token: u32) -> Error {
        self.export.stats.bad_remote.add(1, Relaxed);
        pr_err_once!(
            "ikernel: driver VM {} answered a remote ioctl wrongly\n",
            self.export.channel.vm_name()
        );
        if token != 0 {
            let d = self.desc(
                ring::RequestDesc::ioctl_page(token, 0, ring::PageReply::Abort),
                0,
            );
            let _ = self.call(&d, &[], &mut []);
        }
        EIO
    }

    /// An ioctl answered `v` with `reply` (the argument's bytes to write
    /// back to `arg`) and made the guest file `nf`: gives the caller a host
    /// file whose operations go to it, as a new descriptor where the
    /// guest's was (the result or an `int` of the argument).  The
    /// descriptor is installed only once the argument is written back, as a
    /// native driver does: on any failure the caller gets no descriptor and
    /// the guest's file is closed.
    fn hand_out(
        &self,
        nf: ring::NewFile,
        a: &Answer,
        v: i64,
        arg: usize,
        reply: &mut [u8],
    ) -> Result<isize> {
        let s = &self.export.stats;
        let at = match nf.at {
            ring::FdAt::Result => None,
            ring::FdAt::Arg(off) => Some(usize::from(off)),
        };
        let ch = &self.export.channel;
        let fits = |o: usize| o % 4 == 0 && o + 4 <= reply.len();
        if nf.handle == 0 || nf.accmode > 2 || !at.is_none_or(fits) {
            s.bad_new_files.add(1, Relaxed);
            pr_err_once!(
                "ikernel: driver VM {} answered an ioctl with a bad new file\n",
                ch.vm_name()
            );
            // Close what the guest made, unless the handle is another
            // file's (a lying guest: leave that file alone).
            if !ch.has_file(self.export.index, nf.handle, a.generation) {
                Self::release_guest(&self.export, nf.handle, a.generation, 0);
            }
            return Err(EIO);
        }
        let cloexec = if nf.cloexec { O_CLOEXEC } else { 0 };
        let fd = match kernel::fs::file::FileDescriptorReservation::get_unused_fd_flags(cloexec) {
            Ok(fd) => fd,
            Err(e) => {
                // No descriptor for it (EMFILE): the guest's file goes.
                Self::release_guest(&self.export, nf.handle, a.generation, 0);
                return Err(e);
            }
        };
        // If the file cannot be made, the guest's is closed.
        let file = self.made_file(nf, a)?;
        let mut flags = u32::from(nf.accmode);
        if nf.nonblock {
            flags |= O_NONBLOCK;
        }
        let file = crate::node::anon_file(file, flags)?;
        let host_fd = fd.reserved_fd();
        if let Some(o) = at {
            // CAST: a descriptor number is a non-negative `int`.
            let n = (host_fd as i32).to_ne_bytes();
            reply.get_mut(o..o + 4).ok_or(EIO)?.copy_from_slice(&n);
        }
        if !reply.is_empty() {
            // On a fault the reservation and the file are dropped: the
            // descriptor is freed and the guest's file released.
            UserSlice::new(UserPtr::from_addr(arg), reply.len())
                .writer()
                .write_slice(reply)?;
        }
        fd.fd_install(file);
        s.new_files.add(1, Relaxed);
        let v = if at.is_none() { i64::from(host_fd) } else { v };
        Ok(isize::try_from(v).unwrap_or(isize::MAX))
    }

    /// The RAM of the driver VM this file's calls go to.
    pub(crate) fn ram(&self) -> &GuestRam {
        self.export.channel.ram()
    }

    /// `mmap`: the guest maps the same range of its file and names the
    /// guest-physical frame of each page; the new mapping `vma` shows those
    /// pages of the driver VM's RAM, as they are touched.  Each frame is
    /// checked to lie inside the RAM; a frame the guest could not map
    /// leaves its page unmapped (SIGBUS, as natively).  Once the
    /// generation ends the whole mapping is SIGBUS.
    pub(crate) fn mmap(&self, vma: &VmaNew, flags: u32) -> Result {
        let s = &self.export.stats;
        let ch = &self.export.channel;
        let len = vma.end() - vma.start();
        let pages = len / PAGE_SIZE;
        let offset = u64::try_from(vma_pgoff(vma))?
            .checked_mul(PAGE_SIZE as u64)
            .ok_or(EOVERFLOW)?;
        let vf = vma.flags();
        let mut prot = 0u8;
        for (bit, p) in [(vm::READ, 1), (vm::WRITE, 2), (vm::EXEC, 4)] {
            if vf & bit != 0 {
                prot |= p;
            }
        }
        let want = ring::MmapReq {
            offset,
            len: u64::try_from(len)?,
            prot,
            shared: vf & vm::SHARED != 0,
        };
        let gen = self.file()?.generation();
        if !ch.guest_has(gen, ring::FEATURE_MMAP) || ch.ram().pages(gen) == 0 {
            return Err(ENODEV);
        }
        let bytes = pages.checked_mul(8).ok_or(ENOMEM)?;
        if bytes > ch.piece_max()? {
            return Err(ENOMEM);
        }
        let mut reply = KVec::from_elem(0u8, bytes, GFP_KERNEL)?;
        let a = self.call(
            &self.desc(ring::RequestDesc::mmap(want), flags),
            &[],
            &mut reply,
        )?;
        let n = result(&a)?;
        let ram_pages = ch.ram().pages(a.generation);
        if ram_pages == 0 {
            // The generation ended while it answered: not the guest's fault.
            return Err(EIO);
        }
        let mut frames = KVec::with_capacity(pages, GFP_KERNEL)?;
        for b in reply.chunks_exact(8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(b);
            frames.push(u64::from_ne_bytes(w), GFP_KERNEL)?;
        }
        let bad = |&f: &u64| f != NO_FRAME && f >= ram_pages;
        if usize::try_from(n) != Ok(pages) || a.len != bytes || frames.iter().any(bad) {
            s.bad_mmaps.add(1, Relaxed);
            pr_err_once!(
                "ikernel: driver VM {} answered an mmap with frames outside its RAM\n",
                ch.vm_name()
            );
            return Err(EIO);
        }
        ch.ram().map(vma, a.generation, &frames)?;
        s.mmaps.add(1, Relaxed);
        Ok(())
    }

    /// The host side of the guest file `nf` that the ioctl answered by `a`
    /// made: tracked for poll events, its mask asked for once (events the
    /// guest sent before the host knew the file were not routed).
    fn made_file(&self, nf: ring::NewFile, a: &Answer) -> Result<KBox<OpenFile>> {
        // Its mask is not the answer's (that is the ioctl's file's).
        let shared = Self::track(&self.export, nf.handle, a.generation, 0).map_err(|e| {
            if e == EEXIST {
                self.export.stats.bad_new_files.add(1, Relaxed);
                EIO
            } else {
                e
            }
        })?;
        let of = Self::new_boxed(self.export.clone(), u32::from(nf.accmode), true, shared)?;
        let poll = ring::RequestDesc::new(ring::Op::Poll).on_file(self.export.index, 0, 0);
        // Only the mask matters; a failed poll leaves it at the answer's.
        let _ = of.call(&poll, &[], &mut []);
        Ok(of)
    }

    /// `poll`: registers the caller and returns the file's current mask, as
    /// the guest last reported it.
    ///
    /// A file that reopens transparently waits out a driver-VM restart:
    /// while the VM is down it reports nothing and wakes when the VM is
    /// back, and then it reopens.
    pub(crate) fn poll(&self, file: &File, table: &PollTable<'_>) -> u32 {
        let mut f = self.cur.lock().clone();
        if f.is_dead() && self.reopens() {
            table.register_wait(file, self.export.channel.revived());
            match self.file() {
                Ok(new) => f = new,
                Err(_) if self.export.channel.is_closed() => return POLL_DEAD,
                Err(_) => return 0,
            }
        }
        table.register_wait(file, f.pollers());
        if f.is_dead() {
            return POLL_DEAD;
        }
        f.mask()
    }
}

/// The position after moving `n` bytes from `pos`, as the guest reported
/// it (`aux`); a position that cannot be right is ignored.
fn new_pos(pos: i64, n: usize, aux: u64) -> i64 {
    match i64::try_from(aux) {
        Ok(p) if p >= 0 => p,
        _ => pos.saturating_add(i64::try_from(n).unwrap_or(0)),
    }
}
