// SPDX-License-Identifier: GPL-2.0

//! The exported device nodes: host_stub's raw char-device plumbing.
//!
//! This is the audited module for everything the kernel crate has no
//! abstraction for here: a char-device region, the `ikernel` device class
//! with per-node mode and owner, one `cdev` and one `struct device` per
//! exported node, and a `file_operations` table with `poll` and `llseek`
//! (the kernel crate's `MiscDevice` has neither, and misc devices run `open`
//! under the global `misc_mtx`, which a round trip to a driver VM must not
//! hold).  Each C callback here only converts its arguments and calls the
//! safe code in `export.rs`.

use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::{
    bindings,
    error::to_result,
    ffi::{
        c_char,
        c_int,
        c_long,
        c_uint,
        c_ulong, //
    },
    fs::File,
    prelude::*,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        poll::PollTable,
        Arc, //
    },
    types::ForeignOwnable,
};

use crate::export::{
    Export,
    OpenFile, //
};

/// Most exported nodes at once, over all channels.
pub(crate) const MAX_NODES: u32 = 256;

/// First device number of the region (major and minor 0), 0 if none.
static BASE: Atomic<u32> = Atomic::new(0);

kernel::sync::global_lock! {
    // SAFETY: Initialised by `Region::register` before any node exists.
    unsafe(uninit) static NODES: Mutex<KVec<Option<Arc<Export>>>> = KVec::new();
}

/// A `bindings` struct that lives in a `static` and is only read by C.
#[repr(transparent)]
struct StaticC<T>(T);

// SAFETY: The wrapped structs are written only at compile time; the kernel
// only reads them (they are `const` on the C side).
unsafe impl<T> Sync for StaticC<T> {}

/// A C string pointer in a constant initialiser (`as_char_ptr` is not
/// `const`).
#[expect(
    clippy::disallowed_methods,
    reason = "a const context; same pointer as as_char_ptr"
)]
const fn const_cstr(s: &'static CStr) -> *const c_char {
    s.as_ptr().cast()
}

/// The `ikernel` class: nodes appear as `/dev/<name>`.
static CLASS: StaticC<bindings::class> = StaticC(bindings::class {
    name: const_cstr(c"ikernel"),
    // SAFETY: All-zero is a valid `struct class` (null pointers, no
    // callbacks).
    ..unsafe { core::mem::zeroed() }
});

/// The device type of exported nodes: gives each its mode and owner.
static NODE_TYPE: StaticC<bindings::device_type> = StaticC(bindings::device_type {
    name: const_cstr(c"ikernel_node"),
    devnode: Some(node_devnode),
    // SAFETY: All-zero is a valid `struct device_type`.
    ..unsafe { core::mem::zeroed() }
});

/// The forwarded file operations.
static FOPS: StaticC<bindings::file_operations> = StaticC(bindings::file_operations {
    open: Some(fop_open),
    release: Some(fop_release),
    read: Some(fop_read),
    write: Some(fop_write),
    llseek: Some(fop_llseek),
    unlocked_ioctl: Some(fop_ioctl),
    compat_ioctl: Some(fop_compat_ioctl),
    poll: Some(fop_poll),
    // SAFETY: All-zero is a valid `struct file_operations` (no callbacks).
    ..unsafe { core::mem::zeroed() }
});

/// This module, which every open file of a node pins (through the cdev).
fn module_ptr() -> *mut bindings::module {
    <crate::LocalModule as kernel::ModuleMetadata>::THIS_MODULE.as_ptr()
}

/// Mode and owner of a node, read by [`node_devnode`] through the device's
/// driver data.
pub(crate) struct NodeAttrs {
    pub(crate) mode: u16,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

/// The char-device region and the class; module lifetime.
pub(crate) struct Region {
    base: u32,
}

impl Region {
    /// Allocates [`MAX_NODES`] device numbers and registers the class.
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: Called once, at module initialisation, before any node.
        unsafe { NODES.init() };
        let mut base: bindings::dev_t = 0;
        // SAFETY: `base` is a valid out pointer; the name is static.
        to_result(unsafe {
            bindings::alloc_chrdev_region(&mut base, 0, MAX_NODES, c"ikernel".as_char_ptr())
        })?;
        // SAFETY: `CLASS` is a static, valid class.
        if let Err(e) = to_result(unsafe { bindings::class_register(&CLASS.0) }) {
            // SAFETY: Allocated just above.
            unsafe { bindings::unregister_chrdev_region(base, MAX_NODES) };
            return Err(e);
        }
        BASE.store(base, Relaxed);
        Ok(Self { base })
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // Every node was removed with its channel: channels hold their
        // control file, which holds the module.
        // SAFETY: Registered in `register`.
        unsafe { bindings::class_unregister(&CLASS.0) };
        // SAFETY: Allocated in `register`.
        unsafe { bindings::unregister_chrdev_region(self.base, MAX_NODES) };
        // A static is never dropped: free the table's buffer here, or every
        // unload leaks it (kmemleak in the faults kernel found this).
        drop(core::mem::replace(&mut *NODES.lock(), KVec::new()));
    }
}

/// Writes one statistics line per exported node (`ikernel/stats` in
/// debugfs).
pub(crate) fn write_stats(_: &(), f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    for e in NODES.lock().iter().flatten() {
        e.write_stats(f)?;
    }
    Ok(())
}

/// Finds the export behind `minor`.
fn lookup(minor: u32) -> Option<Arc<Export>> {
    NODES
        .lock()
        .get(usize::try_from(minor).ok()?)
        .and_then(|e| e.clone())
}

/// One exported node: its minor, `cdev` and `struct device`.
///
/// # Invariants
///
/// `cdev` is a live, added `cdev_alloc` cdev and `dev` an added device of
/// [`NODE_TYPE`] whose driver data points to `attrs`; both are removed in
/// [`Drop`], and `NODES[minor]` holds this node's export until then.
pub(crate) struct Node {
    minor: u32,
    cdev: *mut bindings::cdev,
    dev: *mut bindings::device,
    /// The device's driver data.
    _attrs: KBox<NodeAttrs>,
}

// SAFETY: The pointers are to kernel objects usable from any thread.
unsafe impl Send for Node {}
// SAFETY: `Node` has no `&self` methods that touch them.
unsafe impl Sync for Node {}

impl Node {
    /// Creates `/dev/<name>` for `export`.
    ///
    /// # Errors
    ///
    /// `ENOSPC` when [`MAX_NODES`] nodes exist, `EEXIST` if a device of that
    /// name exists, `ENOMEM`.
    pub(crate) fn create(name: &CStr, export: Arc<Export>, attrs: NodeAttrs) -> Result<Node> {
        let attrs = KBox::new(attrs, GFP_KERNEL)?;
        let minor = {
            let mut nodes = NODES.lock();
            // Two devices of one name would collide in devtmpfs and sysfs.
            if nodes.iter().flatten().any(|e| e.name == export.name) {
                return Err(EEXIST);
            }
            let free = nodes.iter().position(Option::is_none);
            match free {
                Some(i) => {
                    nodes[i] = Some(export);
                    u32::try_from(i)?
                }
                None if nodes.len() < MAX_NODES as usize => {
                    nodes.push(Some(export), GFP_KERNEL)?;
                    u32::try_from(nodes.len() - 1)?
                }
                None => return Err(ENOSPC),
            }
        };
        let devt = BASE.load(Relaxed) + minor;
        let release_minor = || {
            if let Some(e) = NODES.lock().get_mut(minor as usize) {
                *e = None;
            }
        };
        // SAFETY: Plain allocation.
        let cdev = unsafe { bindings::cdev_alloc() };
        if cdev.is_null() {
            release_minor();
            return Err(ENOMEM);
        }
        // SAFETY: `cdev` is a fresh cdev; `FOPS` is static; the module owns
        // the fops and is pinned by every open file through `owner`.
        let r = unsafe {
            (*cdev).ops = &FOPS.0;
            (*cdev).owner = module_ptr();
            to_result(bindings::cdev_add(cdev, devt, 1))
        };
        if let Err(e) = r {
            // SAFETY: `cdev` is ours; `cdev_del` of a never-added cdev only
            // drops its reference (cdev_alloc's kobject).
            unsafe { bindings::kobject_put(&mut (*cdev).kobj) };
            release_minor();
            return Err(e);
        }
        let dev = match Self::add_device(name, devt, &attrs) {
            Ok(dev) => dev,
            Err(e) => {
                // SAFETY: Added above, not used elsewhere yet except by
                // opens that hold their own references.
                unsafe { bindings::cdev_del(cdev) };
                release_minor();
                return Err(e);
            }
        };
        // INVARIANT: Both are added; `NODES[minor]` holds the export.
        Ok(Node {
            minor,
            cdev,
            dev,
            _attrs: attrs,
        })
    }

    fn add_device(name: &CStr, devt: u32, attrs: &NodeAttrs) -> Result<*mut bindings::device> {
        let dev = KBox::<bindings::device>::new_uninit(GFP_KERNEL)?;
        let dev = KBox::into_raw(dev).cast::<bindings::device>();
        // SAFETY: `dev` is a fresh allocation of a `struct device`; zeroing
        // makes it valid for `device_initialize`, after which it is
        // reference counted and freed by `node_release`.
        unsafe {
            ptr::write_bytes(dev, 0, 1);
            bindings::device_initialize(dev);
            (*dev).devt = devt;
            (*dev).class = &CLASS.0;
            (*dev).type_ = &NODE_TYPE.0;
            (*dev).release = Some(node_release);
            (*dev).driver_data = ptr::from_ref(attrs).cast_mut().cast();
        }
        // SAFETY: `dev` is initialised; the format takes one string.
        let r = to_result(unsafe {
            bindings::dev_set_name(dev, c"%s".as_char_ptr(), name.as_char_ptr())
        })
        // SAFETY: As above; `device_add` makes the node.
        .and_then(|()| to_result(unsafe { bindings::device_add(dev) }));
        if let Err(e) = r {
            // SAFETY: Drops the reference of `device_initialize`, which frees
            // the name and calls `node_release`.
            unsafe { bindings::put_device(dev) };
            return Err(e);
        }
        Ok(dev)
    }

    /// The node's minor number.
    pub(crate) fn minor(&self) -> u32 {
        self.minor
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // No new open finds the export from now on; open files keep theirs.
        let export = NODES
            .lock()
            .get_mut(self.minor as usize)
            .and_then(Option::take);
        // SAFETY: Both were added in `create` and are removed only here;
        // open files hold their own references to the cdev.  The device's
        // driver data (`attrs`) is only read by `node_devnode` while the
        // device is registered, which ends here, before `attrs` is freed.
        unsafe {
            bindings::device_unregister(self.dev);
            bindings::cdev_del(self.cdev);
        }
        drop(export);
    }
}

/// Frees a node's `struct device` with its last reference.
///
/// # Safety
///
/// `dev` was allocated by [`Node::add_device`].
unsafe extern "C" fn node_release(dev: *mut bindings::device) {
    // SAFETY: `dev` came from `KBox::into_raw` of a `KBox<device>`.
    drop(unsafe { KBox::from_raw(dev) });
}

/// Mode and owner of a node for devtmpfs.
///
/// # Safety
///
/// `dev` is a registered device of [`NODE_TYPE`]; the out pointers are null
/// or valid.
unsafe extern "C" fn node_devnode(
    dev: *const bindings::device,
    mode: *mut bindings::umode_t,
    uid: *mut bindings::kuid_t,
    gid: *mut bindings::kgid_t,
) -> *mut c_char {
    // SAFETY: The driver data of a registered node is its `NodeAttrs`
    // (`Node` invariant).
    let a = unsafe { &*(*dev).driver_data.cast::<NodeAttrs>() };
    // SAFETY: The out pointers are null or valid (the function's contract).
    unsafe {
        if !mode.is_null() {
            *mode = a.mode;
        }
        if !uid.is_null() {
            (*uid).val = a.uid;
        }
        if !gid.is_null() {
            (*gid).val = a.gid;
        }
    }
    ptr::null_mut()
}

/// What a caller's buffer must allow.
#[derive(Clone, Copy)]
pub(crate) enum Access {
    Read,
    Write,
}

/// How many bytes from `addr` (at most `len`) the calling process can
/// access as `how`: a prefix, ending at a page boundary or at `len`.
///
/// Each page is pinned and unpinned (`pin_user_pages_fast`), which faults
/// it in like an access would but never changes its contents.
pub(crate) fn accessible(addr: usize, len: usize, how: Access) -> usize {
    const PAGE: usize = kernel::page::PAGE_SIZE;
    let gup: c_uint = match how {
        Access::Read => 0,
        Access::Write => bindings::FOLL_WRITE,
    };
    let end = addr.saturating_add(len);
    let mut cur = addr;
    while cur < end {
        let first = cur & !(PAGE - 1);
        let mut page: *mut bindings::page = ptr::null_mut();
        // SAFETY: `page` is valid for one page pointer; any address is
        // accepted (an inaccessible one fails).
        let n = unsafe { bindings::pin_user_pages_fast(first, 1, gup, &mut page) };
        if n != 1 {
            break;
        }
        // SAFETY: Pinned just above, unpinned once.
        unsafe { bindings::unpin_user_page(page) };
        cur = first.saturating_add(PAGE);
    }
    cur.min(end) - addr
}

/// Borrows the open file behind a file's private data.
///
/// # Safety
///
/// `file` is a file opened by [`fop_open`] and not yet released.
unsafe fn open_file<'a>(file: *mut bindings::file) -> &'a OpenFile {
    // SAFETY: `fop_open` stored a `KBox<OpenFile>` there; it is freed only
    // by `fop_release`, after every other call on the file.
    unsafe { <KBox<OpenFile> as ForeignOwnable>::borrow((*file).private_data) }
}

/// The file's `f_flags`.
///
/// # Safety
///
/// `file` is a live file.
unsafe fn flags(file: *mut bindings::file) -> u32 {
    // SAFETY: Reading a word of a live file; fcntl may change it
    // concurrently, any value read is a valid flag set.
    unsafe { ptr::read_volatile(&(*file).f_flags) }
}

/// `open` of an exported node.
///
/// # Safety
///
/// Called by the VFS with a node of [`CLASS`] being opened.
unsafe extern "C" fn fop_open(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: `inode` is the node being opened.
    let minor = unsafe { (*inode).i_rdev } & bindings::MINORMASK;
    let Some(export) = lookup(minor) else {
        return ENODEV.to_errno();
    };
    // SAFETY: `file` is being opened.
    let opened = OpenFile::open(export, unsafe { flags(file) });
    let (of, seekable) = match opened {
        Ok(x) => x,
        Err(e) => return e.to_errno(),
    };
    if !seekable {
        // SAFETY: `file` is being opened; this clears its seek modes, as
        // the driver in the VM did for its own file.
        unsafe { bindings::nonseekable_open(inode, file) };
    }
    // SAFETY: The open call owns the private data; `fop_release` frees it.
    unsafe { (*file).private_data = of.into_foreign() };
    0
}

/// `release` (last close) of a file opened by [`fop_open`].
///
/// # Safety
///
/// Called by the VFS once, after every other call on the file.
unsafe extern "C" fn fop_release(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: The release call owns the private data stored by `fop_open`.
    let of = unsafe { <KBox<OpenFile> as ForeignOwnable>::from_foreign((*file).private_data) };
    of.release();
    0
}

/// `read`.
///
/// # Safety
///
/// Called by the VFS on a file opened by [`fop_open`]; `ppos` is valid.
unsafe extern "C" fn fop_read(
    file: *mut bindings::file,
    buf: *mut c_char,
    count: usize,
    ppos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: `file` is open; `ppos` is valid for this call.
    let (of, fl, pos) = unsafe { (open_file(file), flags(file), *ppos) };
    match of.read(buf as usize, count, pos, fl) {
        Ok((n, newpos)) => {
            // SAFETY: `ppos` is valid for this call.
            unsafe { *ppos = newpos };
            n as isize
        }
        Err(e) => e.to_errno() as isize,
    }
}

/// `write`.
///
/// # Safety
///
/// Called by the VFS on a file opened by [`fop_open`]; `ppos` is valid.
unsafe extern "C" fn fop_write(
    file: *mut bindings::file,
    buf: *const c_char,
    count: usize,
    ppos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: `file` is open; `ppos` is valid for this call.
    let (of, fl, pos) = unsafe { (open_file(file), flags(file), *ppos) };
    match of.write(buf as usize, count, pos, fl) {
        Ok((n, newpos)) => {
            // SAFETY: `ppos` is valid for this call.
            unsafe { *ppos = newpos };
            n as isize
        }
        Err(e) => e.to_errno() as isize,
    }
}

/// `llseek`.
///
/// # Safety
///
/// Called by the VFS on a file opened by [`fop_open`].
unsafe extern "C" fn fop_llseek(
    file: *mut bindings::file,
    offset: bindings::loff_t,
    whence: c_int,
) -> bindings::loff_t {
    // SAFETY: `file` is open; the VFS serialises llseek against other
    // position updates of this file (f_pos_lock).
    let (of, fl, pos) = unsafe { (open_file(file), flags(file), (*file).f_pos) };
    match of.llseek(pos, offset, whence, fl) {
        Ok(newpos) => {
            // SAFETY: As above.
            unsafe { (*file).f_pos = newpos };
            newpos
        }
        Err(e) => bindings::loff_t::from(e.to_errno()),
    }
}

/// `unlocked_ioctl`.
///
/// # Safety
///
/// Called by the VFS on a file opened by [`fop_open`].
unsafe extern "C" fn fop_ioctl(file: *mut bindings::file, cmd: c_uint, arg: c_ulong) -> c_long {
    // SAFETY: `file` is open.
    let (of, fl) = unsafe { (open_file(file), flags(file)) };
    match of.ioctl(cmd, arg, fl) {
        Ok(v) => v as c_long,
        // CAST: An errno fits any integer type.
        Err(e) => e.to_errno() as c_long,
    }
}

/// `compat_ioctl`.
///
/// # Safety
///
/// Called by the VFS on a file opened by [`fop_open`].
unsafe extern "C" fn fop_compat_ioctl(
    file: *mut bindings::file,
    cmd: c_uint,
    arg: c_ulong,
) -> c_long {
    // A 32-bit caller's pointer is its value zero-extended (compat_ptr on
    // x86-64); integer arguments are passed the same way.
    // SAFETY: As `fop_ioctl`.
    unsafe { fop_ioctl(file, cmd, arg & 0xffff_ffff) }
}

/// `poll`.
///
/// # Safety
///
/// Called by the VFS on a file opened by [`fop_open`]; `pt` is null or
/// valid.
unsafe extern "C" fn fop_poll(
    file: *mut bindings::file,
    pt: *mut bindings::poll_table_struct,
) -> bindings::__poll_t {
    // SAFETY: `file` is open and valid for this call.
    let (of, f) = unsafe { (open_file(file), File::from_raw_file(file)) };
    // SAFETY: `pt` is null or a valid poll table for this call.
    let table = unsafe { PollTable::from_raw(pt) };
    of.poll(f, &table)
}

/// host_stub's own workqueue, for the channels' drain work.
static QUEUE: AtomicPtr<bindings::workqueue_struct> = AtomicPtr::new(ptr::null_mut());

/// Owns [`QUEUE`] for the module's lifetime.  Destroying the queue at unload
/// waits for drain work still queued, so none runs after the module's code
/// is gone; a system workqueue would not wait for it.
pub(crate) struct WorkQueue(());

impl WorkQueue {
    /// Allocates the queue (unbound: a drain may take a while).
    pub(crate) fn create() -> Result<Self> {
        // SAFETY: the format is a NUL-terminated string with no conversion,
        // so no variadic argument is read.
        let wq = unsafe {
            bindings::alloc_workqueue_noprof(
                c"ikernel_host".as_char_ptr(),
                bindings::wq_flags_WQ_UNBOUND,
                0,
            )
        };
        if wq.is_null() {
            return Err(ENOMEM);
        }
        QUEUE.store(wq, Ordering::Release);
        Ok(Self(()))
    }
}

impl Drop for WorkQueue {
    fn drop(&mut self) {
        let wq = QUEUE.load(Ordering::Acquire);
        // SAFETY: `wq` is the queue `create` allocated, destroyed only here.
        // The module is unloading, so no channel is open to queue new work;
        // work already queued may requeue itself while this drains it, and
        // finds `QUEUE` still set.
        unsafe { bindings::destroy_workqueue(wq) };
        QUEUE.store(ptr::null_mut(), Ordering::Release);
    }
}

/// The queue for drain work: [`QUEUE`].
pub(crate) fn work_queue() -> &'static kernel::workqueue::Queue {
    let wq = QUEUE.load(Ordering::Acquire);
    // SAFETY: only open channels queue work, and the module (with the
    // `WorkQueue` that keeps `wq` alive) outlives every channel.
    unsafe { kernel::workqueue::Queue::from_raw(wq) }
}

/// One turn of a busy poll: lets every other runnable task of this CPU go
/// first, and returns at once when there is none.
pub(crate) fn poll_yield() {
    // SAFETY: `yield()` may be called from any sleepable context; the
    // pollers call it with no lock held.
    unsafe { bindings::yield_() };
}
