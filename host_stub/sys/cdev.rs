// SPDX-License-Identifier: GPL-2.0

//! The exported nodes' raw char-device plumbing.
//!
//! What the kernel crate has no abstraction for here: a char-device region,
//! the `ikernel` device class with per-node mode and owner, one `cdev` and
//! one `struct device` per exported node, and a `file_operations` table with
//! `poll` and `llseek` (the kernel crate's `MiscDevice` has neither, and misc
//! devices run `open` under the global `misc_mtx`, which a round trip to a
//! driver VM must not hold), and the read-only sysfs attributes of a node
//! (`/sys/class/ikernel/<name>/`), and anonymous files with the same
//! operations, for the files a forwarded ioctl makes ([`AnonFops`]).  Each
//! C callback only converts its arguments and calls the safe [`FileOps`] or
//! [`NodeInfo`] implementation.

use core::{
    marker::PhantomData,
    ptr, //
};
use kernel::{
    bindings,
    error::to_result,
    ffi::{
        c_char,
        c_int,
        c_long,
        c_uint,
        c_ulong,
        c_void, //
    },
    fs::File,
    mm::virt::VmaNew,
    prelude::*,
    sync::{
        aref::ARef,
        poll::PollTable,
        Arc, //
    },
    types::ForeignOwnable,
};

use super::guestram::GuestRam;

/// The file operations of an exported node, in safe code.  One value of
/// the implementing type is the private data of one open file.
pub(crate) trait FileOps: Sized + Send + Sync {
    /// Opens the node of minor `minor` with open flags `flags`; returns the
    /// file and whether it is seekable.
    fn open(minor: u32, flags: u32) -> Result<(KBox<Self>, bool)>;
    /// Last close.
    fn release(this: KBox<Self>);
    /// `read` into user memory at `addr`: bytes read and the new position.
    fn read(&self, addr: usize, count: usize, pos: i64, flags: u32) -> Result<(usize, i64)>;
    /// `write` from user memory at `addr`: bytes written and the new
    /// position.
    fn write(&self, addr: usize, count: usize, pos: i64, flags: u32) -> Result<(usize, i64)>;
    /// `llseek` from `pos`: the new position.
    fn llseek(&self, pos: i64, offset: i64, whence: i32, flags: u32) -> Result<i64>;
    /// `unlocked_ioctl` (and `compat_ioctl`, with the argument widened).
    fn ioctl(&self, cmd: u32, arg: usize, flags: u32) -> Result<isize>;
    /// `poll`: registers the caller and returns the current mask.
    fn poll(&self, file: &File, table: &PollTable<'_>) -> u32;
    /// `mmap`: sets up the new mapping `vma`.
    fn mmap(&self, vma: &VmaNew, flags: u32) -> Result;
    /// The RAM whose address space the file's mappings use; it outlives
    /// the file.
    fn ram(&self) -> &GuestRam;
}

/// A read-only sysfs attribute of an exported node: one value per file,
/// in `/sys/class/ikernel/<name>/` or its `stats/` directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Attr {
    /// The driver VM's state as a word.
    State,
    /// The driver VM's generation.
    Generation,
    /// The node in the driver VM.
    GuestPath,
    /// The driver VM's name.
    VmName,
    /// The process that exported the node (the VMM).
    OwnerPid,
    /// The node's index in the driver VM's export list.
    Index,
    /// The guest's report of its node: present, missing or unknown.
    GuestNode,
    /// Deadline of each call in milliseconds, 0 for none.
    TimeoutMs,
    /// 1 if files reopen in a restarted driver VM.
    Reopen,
    /// The subsystem of the node in the driver VM (empty until the guest
    /// described it).
    GuestSubsystem,
    /// `KEY=VALUE` lines: the guest's `SUBSYSTEM`, `DRIVER` and `uevent`.
    GuestUevent,
    /// `name=value` lines: the guest device's readable attributes.
    GuestAttrs,
    /// `stats/`: a counter of the export.
    Stat(Stat),
}

/// The counters in `stats/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stat {
    Opens,
    Calls,
    Errors,
    Timeouts,
    Interrupted,
    Eio,
    Reopens,
    Enodev,
    NewFiles,
    BadNewFiles,
    Mmaps,
    BadMmaps,
    BadNodeInfo,
    RemotePages,
    BadRemote,
}

/// What a node's sysfs attributes and uevents show, in safe code.
pub(crate) trait NodeInfo: Send + Sync {
    /// Writes the value of `attr`, without the newline.
    fn show(self: &Arc<Self>, attr: Attr, f: &mut kernel::str::Formatter<'_>) -> core::fmt::Result;
    /// Adds the node's own variables to a uevent.
    fn uevent(self: &Arc<Self>, env: &mut UeventEnv<'_>);
}

/// The environment of a uevent being built, to which [`NodeInfo::uevent`]
/// adds variables.
pub(crate) struct UeventEnv<'a>(&'a mut bindings::kobj_uevent_env);

/// Room left in a uevent for what the core adds after the device type's
/// callback (`SEQNUM` and the like): variables and bytes.
const UEVENT_SPARE_VARS: i32 = 8;
const UEVENT_SPARE_BYTES: usize = 256;

impl UeventEnv<'_> {
    /// Adds the variable `args` formats (`NAME=value`) if it fits with room
    /// to spare; a variable that does not fit is left out (never the
    /// kernel's warning of a full buffer).  Returns whether it was added.
    pub(crate) fn add(&mut self, args: core::fmt::Arguments<'_>) -> bool {
        let mut buf = [0u8; 320];
        let mut f = kernel::str::Formatter::new(&mut buf[..319]);
        if core::fmt::Write::write_fmt(&mut f, args).is_err() {
            return false;
        }
        let len = f.bytes_written();
        let env = &mut *self.0;
        // CAST: both are small non-negative counts kept by the kernel.
        let used = env.buflen as usize;
        let room = (bindings::UEVENT_BUFFER_SIZE as usize).saturating_sub(used);
        if env.envp_idx >= bindings::UEVENT_NUM_ENVP as i32 - UEVENT_SPARE_VARS
            || len + 1 + UEVENT_SPARE_BYTES > room
            || buf[..len].contains(&0)
        {
            return false;
        }
        // SAFETY: `env` is the live uevent environment the callback got;
        // `buf` is NUL-terminated (zeroed past `len`); the format takes one
        // string.  The checks above keep `add_uevent_var` from a full
        // buffer.
        unsafe { bindings::add_uevent_var(env, c"%s".as_char_ptr(), buf.as_ptr()) == 0 }
    }
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

/// The device type of exported nodes: gives each its mode and owner, and
/// its attributes.
static NODE_TYPE: StaticC<bindings::device_type> = StaticC(bindings::device_type {
    name: const_cstr(c"ikernel_node"),
    devnode: Some(node_devnode),
    uevent: Some(node_uevent),
    groups: GROUPS.0.as_ptr().cast_mut(),
    // SAFETY: All-zero is a valid `struct device_type`.
    ..unsafe { core::mem::zeroed() }
});

/// A read-only (0444) device attribute shown by [`attr_show`].
const fn ro_attr(name: &'static CStr) -> bindings::device_attribute {
    bindings::device_attribute {
        attr: bindings::attribute {
            name: const_cstr(name),
            mode: 0o444,
            // SAFETY: All-zero is valid for the rest of `struct attribute`
            // (no lockdep key: the attribute is static).
            ..unsafe { core::mem::zeroed() }
        },
        __bindgen_anon_1: bindings::device_attribute__bindgen_ty_1 {
            show: Some(attr_show),
        },
        __bindgen_anon_2: bindings::device_attribute__bindgen_ty_2 { store: None },
    }
}

/// The attributes in the node's directory, and what each shows.
const MAIN_ATTRS: [(&CStr, Attr); 12] = [
    (c"state", Attr::State),
    (c"generation", Attr::Generation),
    (c"guest_path", Attr::GuestPath),
    (c"vm_name", Attr::VmName),
    (c"owner_pid", Attr::OwnerPid),
    (c"index", Attr::Index),
    (c"guest_node", Attr::GuestNode),
    (c"timeout_ms", Attr::TimeoutMs),
    (c"reopen", Attr::Reopen),
    (c"guest_subsystem", Attr::GuestSubsystem),
    (c"guest_uevent", Attr::GuestUevent),
    (c"guest_attrs", Attr::GuestAttrs),
];

/// The attributes in `stats/`.
const STAT_ATTRS: [(&CStr, Attr); 15] = [
    (c"opens", Attr::Stat(Stat::Opens)),
    (c"calls", Attr::Stat(Stat::Calls)),
    (c"errors", Attr::Stat(Stat::Errors)),
    (c"timeouts", Attr::Stat(Stat::Timeouts)),
    (c"interrupted", Attr::Stat(Stat::Interrupted)),
    (c"eio", Attr::Stat(Stat::Eio)),
    (c"reopens", Attr::Stat(Stat::Reopens)),
    (c"enodev", Attr::Stat(Stat::Enodev)),
    (c"new_files", Attr::Stat(Stat::NewFiles)),
    (c"bad_new_files", Attr::Stat(Stat::BadNewFiles)),
    (c"mmaps", Attr::Stat(Stat::Mmaps)),
    (c"bad_mmaps", Attr::Stat(Stat::BadMmaps)),
    (c"bad_node_info", Attr::Stat(Stat::BadNodeInfo)),
    (c"remote_pages", Attr::Stat(Stat::RemotePages)),
    (c"bad_remote", Attr::Stat(Stat::BadRemote)),
];

/// `device_attribute`s of `list`, in its order.
const fn dev_attrs<const N: usize>(
    list: &[(&'static CStr, Attr); N],
) -> [bindings::device_attribute; N] {
    // SAFETY: All-zero is a valid `struct device_attribute`; each is
    // overwritten below.
    let mut out: [bindings::device_attribute; N] = unsafe { core::mem::zeroed() };
    let mut i = 0;
    while i < N {
        out[i] = ro_attr(list[i].0);
        i += 1;
    }
    out
}

static MAIN_DEV_ATTRS: StaticC<[bindings::device_attribute; 12]> = StaticC(dev_attrs(&MAIN_ATTRS));
static STAT_DEV_ATTRS: StaticC<[bindings::device_attribute; 15]> = StaticC(dev_attrs(&STAT_ATTRS));

/// The NULL-terminated `struct attribute *` list of `attrs`.
const fn attr_ptrs<const N: usize, const M: usize>(
    attrs: &'static [bindings::device_attribute; N],
) -> [*mut bindings::attribute; M] {
    let mut out = [ptr::null_mut(); M];
    let mut i = 0;
    while i < N {
        out[i] = ptr::from_ref(&attrs[i].attr).cast_mut();
        i += 1;
    }
    out
}

static MAIN_PTRS: StaticC<[*mut bindings::attribute; 13]> = StaticC(attr_ptrs(&MAIN_DEV_ATTRS.0));
static STAT_PTRS: StaticC<[*mut bindings::attribute; 16]> = StaticC(attr_ptrs(&STAT_DEV_ATTRS.0));

static MAIN_GROUP: StaticC<bindings::attribute_group> = StaticC(bindings::attribute_group {
    __bindgen_anon_2: bindings::attribute_group__bindgen_ty_2 {
        attrs: MAIN_PTRS.0.as_ptr().cast_mut(),
    },
    // SAFETY: All-zero is valid for the rest (no name: the node's own
    // directory; no visibility callback).
    ..unsafe { core::mem::zeroed() }
});
static STAT_GROUP: StaticC<bindings::attribute_group> = StaticC(bindings::attribute_group {
    name: const_cstr(c"stats"),
    __bindgen_anon_2: bindings::attribute_group__bindgen_ty_2 {
        attrs: STAT_PTRS.0.as_ptr().cast_mut(),
    },
    // SAFETY: All-zero is valid for the rest.
    ..unsafe { core::mem::zeroed() }
});
static GROUPS: StaticC<[*const bindings::attribute_group; 3]> =
    StaticC([&MAIN_GROUP.0, &STAT_GROUP.0, ptr::null()]);

/// Which [`Attr`] the `device_attribute` at `attr` shows, if it is one of
/// the static tables' (by address).
fn attr_of(attr: *const bindings::device_attribute) -> Option<Attr> {
    let find = |table: &[bindings::device_attribute], list: &[(&CStr, Attr)]| {
        let i = table.iter().position(|a| ptr::eq(a, attr))?;
        list.get(i).map(|&(_, k)| k)
    };
    find(&MAIN_DEV_ATTRS.0, &MAIN_ATTRS).or_else(|| find(&STAT_DEV_ATTRS.0, &STAT_ATTRS))
}

/// The forwarded file operations of [`FileOps`] type `T`.
struct Fops<T>(PhantomData<T>);

impl<T: FileOps> Fops<T> {
    const TABLE: bindings::file_operations = bindings::file_operations {
        open: Some(fop_open::<T>),
        release: Some(fop_release::<T>),
        read: Some(fop_read::<T>),
        write: Some(fop_write::<T>),
        llseek: Some(fop_llseek::<T>),
        unlocked_ioctl: Some(fop_ioctl::<T>),
        compat_ioctl: Some(fop_compat_ioctl::<T>),
        poll: Some(fop_poll::<T>),
        mmap: Some(fop_mmap::<T>),
        // SAFETY: All-zero is a valid `struct file_operations` (no
        // callbacks).
        ..unsafe { core::mem::zeroed() }
    };

    /// The table, in static memory (a promoted constant).
    const fn table() -> &'static bindings::file_operations {
        &Self::TABLE
    }
}

extern "C" {
    /// `anon_inode_getfile("ikernel", fops, private, flags)` (`anon.c`):
    /// `fops` is a `struct file_operations`, the result a `struct file`
    /// or an error pointer (opaque here: bindgen's types of those structs
    /// are not FFI-safe as a whole).
    fn ikernel_anon_getfile(fops: *const c_void, private: *mut c_void, flags: c_int)
        -> *mut c_void;
}

/// The file operations of [`FileOps`] type `T` for anonymous files: the
/// node's table with the module as owner (an anonymous file has no cdev to
/// pin the module through; the VFS pins the table's owner instead) and no
/// `open`.
pub(crate) struct AnonFops<T: FileOps> {
    fops: KBox<bindings::file_operations>,
    _t: PhantomData<T>,
}

// SAFETY: The table is written only in `new`; afterwards the kernel only
// reads it, from any thread.
unsafe impl<T: FileOps> Send for AnonFops<T> {}
// SAFETY: As above.
unsafe impl<T: FileOps> Sync for AnonFops<T> {}

impl<T: FileOps> AnonFops<T> {
    /// The table.  It must outlive every file made with it: keep it for the
    /// module's lifetime (each such file pins the module).
    pub(crate) fn new() -> Result<Self> {
        let fops = KBox::new(
            bindings::file_operations {
                owner: module_ptr(),
                open: None,
                ..Fops::<T>::TABLE
            },
            GFP_KERNEL,
        )?;
        Ok(Self {
            fops,
            _t: PhantomData,
        })
    }

    /// A new anonymous file (`anon_inode:ikernel`) whose private data is
    /// `of`, opened with `flags` (`O_ACCMODE` and `O_NONBLOCK` bits).
    /// Dropping the file's last reference releases it as a node's file is
    /// released.  On failure `of` comes back with the error.
    pub(crate) fn file(
        &self,
        of: KBox<T>,
        flags: u32,
    ) -> core::result::Result<ARef<File>, (Error, KBox<T>)> {
        let data = of.into_foreign();
        // CAST: open flags are small non-negative values.
        let fl = (flags & (bindings::O_ACCMODE | bindings::O_NONBLOCK)) as c_int;
        // SAFETY: The table lives as long as `self` (the contract of
        // `new`), longer than the file; `data` is the private data the
        // callbacks expect for `T`, owned by the file from here on if the
        // call succeeds.
        let f = unsafe {
            ikernel_anon_getfile(ptr::from_ref(&*self.fops).cast(), data, fl)
                .cast::<bindings::file>()
        };
        match kernel::error::from_err_ptr(f) {
            Ok(f) => {
                // SAFETY: The file is new and not installed anywhere: not
                // mapped yet; its private data holds the channel that owns
                // the RAM until its release.
                unsafe { <KBox<T> as ForeignOwnable>::borrow(data).ram().attach(f) };
                // SAFETY: `anon_inode_getfile` returned a new file with one
                // reference, which the `ARef` takes over.
                Ok(unsafe { ARef::from_raw(ptr::NonNull::new_unchecked(f.cast::<File>())) })
            }
            // SAFETY: The file was not made: the private data is still ours.
            Err(e) => Err((e, unsafe {
                <KBox<T> as ForeignOwnable>::from_foreign(data)
            })),
        }
    }
}

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

/// The part of a node's driver data that the C callbacks read without
/// knowing the [`NodeInfo`] type: the first field of [`DevData`].
#[repr(C)]
struct DevHead {
    attrs: NodeAttrs,
    /// Shows an attribute of the [`DevData`] this head begins.
    show: unsafe fn(&DevHead, Attr, &mut kernel::str::Formatter<'_>) -> core::fmt::Result,
    /// Adds the uevent variables of the [`DevData`] this head begins.
    uevent: unsafe fn(&DevHead, &mut UeventEnv<'_>),
}

/// A node's driver data: mode, owner and what its attributes show.
#[repr(C)]
struct DevData<I: NodeInfo> {
    head: DevHead,
    info: Arc<I>,
}

/// [`DevHead::show`] for `DevData<I>`.
///
/// # Safety
///
/// `head` is the `head` field of a `DevData<I>`.
unsafe fn show_info<I: NodeInfo>(
    head: &DevHead,
    attr: Attr,
    f: &mut kernel::str::Formatter<'_>,
) -> core::fmt::Result {
    // SAFETY: `DevData` is `repr(C)` with `head` first, and `head` is part
    // of a `DevData<I>` (the function's contract).
    let data = unsafe { &*ptr::from_ref(head).cast::<DevData<I>>() };
    data.info.show(attr, f)
}

/// [`DevHead::uevent`] for `DevData<I>`.
///
/// # Safety
///
/// `head` is the `head` field of a `DevData<I>`.
unsafe fn uevent_info<I: NodeInfo>(head: &DevHead, env: &mut UeventEnv<'_>) {
    // SAFETY: As in `show_info`.
    let data = unsafe { &*ptr::from_ref(head).cast::<DevData<I>>() };
    data.info.uevent(env);
}

/// A region of `count` char-device numbers and the class; module lifetime.
pub(crate) struct Region {
    base: u32,
    count: u32,
}

impl Region {
    /// Allocates `count` device numbers and registers the class.
    pub(crate) fn register(count: u32) -> Result<Self> {
        let mut base: bindings::dev_t = 0;
        // SAFETY: `base` is a valid out pointer; the name is static.
        to_result(unsafe {
            bindings::alloc_chrdev_region(&mut base, 0, count, c"ikernel".as_char_ptr())
        })?;
        // SAFETY: `CLASS` is a static, valid class.
        if let Err(e) = to_result(unsafe { bindings::class_register(&CLASS.0) }) {
            // SAFETY: Allocated just above.
            unsafe { bindings::unregister_chrdev_region(base, count) };
            return Err(e);
        }
        Ok(Self { base, count })
    }

    /// The device number of `minor` in this region.
    pub(crate) fn devt(&self, minor: u32) -> u32 {
        self.base + minor
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // Every node was removed with its channel: channels hold their
        // control file, which holds the module.
        // SAFETY: Registered in `register`.
        unsafe { bindings::class_unregister(&CLASS.0) };
        // SAFETY: Allocated in `register`.
        unsafe { bindings::unregister_chrdev_region(self.base, self.count) };
    }
}

/// One registered node: its `cdev` and `struct device`.
///
/// # Invariants
///
/// `cdev` is a live, added `cdev_alloc` cdev and `dev` an added device of
/// [`NODE_TYPE`] whose driver data points to `data`; both are removed in
/// [`Drop`].
pub(crate) struct CdevNode<I: NodeInfo> {
    cdev: *mut bindings::cdev,
    dev: *mut bindings::device,
    /// The device's driver data.
    _data: KBox<DevData<I>>,
}

// SAFETY: The pointers are to kernel objects usable from any thread; `I`
// is `Send + Sync`.
unsafe impl<I: NodeInfo> Send for CdevNode<I> {}
// SAFETY: `CdevNode` has no `&self` methods that touch them.
unsafe impl<I: NodeInfo> Sync for CdevNode<I> {}

impl<I: NodeInfo> CdevNode<I> {
    /// Adds `/dev/<name>` with device number `devt`, whose file operations
    /// are `T`'s and whose sysfs attributes show `info`.
    pub(crate) fn add<T: FileOps>(
        name: &CStr,
        devt: u32,
        attrs: NodeAttrs,
        info: Arc<I>,
    ) -> Result<Self> {
        let data = KBox::new(
            DevData {
                head: DevHead {
                    attrs,
                    show: show_info::<I>,
                    uevent: uevent_info::<I>,
                },
                info,
            },
            GFP_KERNEL,
        )?;
        // SAFETY: Plain allocation.
        let cdev = unsafe { bindings::cdev_alloc() };
        if cdev.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `cdev` is a fresh cdev; the table is static; the module
        // owns it and is pinned by every open file through `owner`.
        let r = unsafe {
            (*cdev).ops = Fops::<T>::table();
            (*cdev).owner = module_ptr();
            to_result(bindings::cdev_add(cdev, devt, 1))
        };
        if let Err(e) = r {
            // SAFETY: `cdev` is ours; for a never-added cdev this drops its
            // only reference (cdev_alloc's kobject).
            unsafe { bindings::kobject_put(&mut (*cdev).kobj) };
            return Err(e);
        }
        match add_device(name, devt, &data.head) {
            // INVARIANT: Both are added; the device points to `data`.
            Ok(dev) => Ok(Self {
                cdev,
                dev,
                _data: data,
            }),
            Err(e) => {
                // SAFETY: Added above, not used elsewhere yet except by
                // opens that hold their own references.
                unsafe { bindings::cdev_del(cdev) };
                Err(e)
            }
        }
    }
}

/// Adds the `struct device` of a node, with `head` (the start of its
/// [`DevData`]) as driver data.
fn add_device(name: &CStr, devt: u32, head: &DevHead) -> Result<*mut bindings::device> {
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
        (*dev).driver_data = ptr::from_ref(head).cast_mut().cast();
    }
    // SAFETY: `dev` is initialised; the format takes one string.
    let r =
        to_result(unsafe { bindings::dev_set_name(dev, c"%s".as_char_ptr(), name.as_char_ptr()) })
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

impl<I: NodeInfo> Drop for CdevNode<I> {
    fn drop(&mut self) {
        // SAFETY: Both were added in `add` and are removed only here; open
        // files hold their own references to the cdev.  The device's driver
        // data (`data`) is only read by `node_devnode` and `attr_show` while
        // the device is registered; unregistering removes the attributes and
        // waits for their readers, before `data` is freed.
        unsafe {
            bindings::device_unregister(self.dev);
            bindings::cdev_del(self.cdev);
        }
    }
}

/// A counted reference to a node's `struct device`, to announce changes of
/// what its attributes and uevents show.
///
/// # Invariants
///
/// `dev` is a device of [`NODE_TYPE`] on which this holds a reference.
pub(crate) struct NodeDev {
    dev: *mut bindings::device,
}

// SAFETY: A device reference may be used and dropped from any thread.
unsafe impl Send for NodeDev {}
// SAFETY: `changed` may run on several threads at once.
unsafe impl Sync for NodeDev {}

impl<I: NodeInfo> CdevNode<I> {
    /// A new reference to the node's device.  Drop it before the node,
    /// or [`NodeDev::changed`] would announce a removed device.
    pub(crate) fn dev(&self) -> NodeDev {
        // SAFETY: `self.dev` is an added device (type invariant); this
        // takes a reference of its own.
        let dev = unsafe { bindings::get_device(self.dev) };
        // INVARIANT: Referenced just above.
        NodeDev { dev }
    }
}

impl NodeDev {
    /// Sends a `change` uevent for the node, so that udev reads its
    /// variables again.
    pub(crate) fn changed(&self) {
        // SAFETY: The device is alive (type invariant) and still added: its
        // holder drops it before the node (the contract of `dev`).
        unsafe {
            bindings::kobject_uevent(&mut (*self.dev).kobj, bindings::kobject_action_KOBJ_CHANGE)
        };
    }
}

impl Drop for NodeDev {
    fn drop(&mut self) {
        // SAFETY: The reference taken in `CdevNode::dev`.
        unsafe { bindings::put_device(self.dev) };
    }
}

/// `uevent` of the node device type: the node's own variables after the
/// core's (`MAJOR`, `MINOR`, `DEVNAME`...).
///
/// # Safety
///
/// `dev` is a registered device of [`NODE_TYPE`]; `env` the environment of
/// a uevent being built for it.
unsafe extern "C" fn node_uevent(
    dev: *const bindings::device,
    env: *mut bindings::kobj_uevent_env,
) -> c_int {
    // SAFETY: The driver data of a registered node is its `DevHead`
    // (`CdevNode` invariant), valid while uevents can be sent for it.
    let head = unsafe { &*(*dev).driver_data.cast::<DevHead>() };
    // SAFETY: The core hands the callback its environment alone.
    let mut env = UeventEnv(unsafe { &mut *env });
    // SAFETY: `head` begins the `DevData` whose `uevent` it names.
    unsafe { (head.uevent)(head, &mut env) };
    0
}

/// Frees a node's `struct device` with its last reference.
///
/// # Safety
///
/// `dev` was allocated by [`CdevNode::add_device`].
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
    // SAFETY: The driver data of a registered node is its `DevHead`
    // (`CdevNode` invariant).
    let a = unsafe { &(*(*dev).driver_data.cast::<DevHead>()).attrs };
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

/// `show` of every node attribute: the value and a newline, at most a page.
///
/// # Safety
///
/// `dev` is a registered device of [`NODE_TYPE`], `attr` one of its
/// attributes and `buf` a page.
unsafe extern "C" fn attr_show(
    dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *mut c_char,
) -> isize {
    let Some(which) = attr_of(attr) else {
        return EINVAL.to_errno() as isize;
    };
    // SAFETY: The driver data of a registered node is its `DevHead`
    // (`CdevNode` invariant), valid while its attributes can be read.
    let head = unsafe { &*(*dev).driver_data.cast::<DevHead>() };
    let page = bindings::PAGE_SIZE;
    // SAFETY: sysfs hands `show` a buffer of one page, for it alone.
    let out = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), page) };
    let mut f = kernel::str::Formatter::new(out);
    // SAFETY: `head` begins the `DevData` whose `show` it names.
    let r = unsafe { (head.show)(head, which, &mut f) };
    if r.is_err() || core::fmt::Write::write_str(&mut f, "\n").is_err() {
        return EFBIG.to_errno() as isize;
    }
    // CAST: at most a page.
    f.bytes_written().min(page) as isize
}

/// Borrows the open file behind a file's private data.
///
/// # Safety
///
/// `file` is a file opened by [`fop_open`] for `T` and not yet released.
unsafe fn open_file<'a, T: FileOps>(file: *mut bindings::file) -> &'a T {
    // SAFETY: `fop_open` stored a `KBox<T>` there; it is freed only by
    // `fop_release`, after every other call on the file.
    unsafe { <KBox<T> as ForeignOwnable>::borrow((*file).private_data) }
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
unsafe extern "C" fn fop_open<T: FileOps>(
    inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: `inode` is the node being opened.
    let minor = unsafe { (*inode).i_rdev } & bindings::MINORMASK;
    // SAFETY: `file` is being opened.
    let opened = T::open(minor, unsafe { flags(file) });
    let (of, seekable) = match opened {
        Ok(x) => x,
        Err(e) => return e.to_errno(),
    };
    if !seekable {
        // SAFETY: `file` is being opened; this clears its seek modes, as
        // the driver in the VM did for its own file.
        unsafe { bindings::nonseekable_open(inode, file) };
    }
    // SAFETY: `file` is being opened, not mapped yet; `of` holds the
    // channel that owns the RAM until the file's release.
    unsafe { of.ram().attach(file) };
    // SAFETY: The open call owns the private data; `fop_release` frees it.
    unsafe { (*file).private_data = of.into_foreign() };
    0
}

/// `mmap`.
///
/// # Safety
///
/// Called by the VFS on a file opened by [`fop_open`] (or made by
/// [`AnonFops::file`]) with a new mapping `vma`, the mmap lock held.
unsafe extern "C" fn fop_mmap<T: FileOps>(
    file: *mut bindings::file,
    vma: *mut bindings::vm_area_struct,
) -> c_int {
    // SAFETY: `file` is open; `vma` is the mapping being set up, valid for
    // this call.
    let (of, fl, vma) = unsafe { (open_file::<T>(file), flags(file), VmaNew::from_raw(vma)) };
    match of.mmap(vma, fl) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `release` (last close) of a file opened by [`fop_open`].
///
/// # Safety
///
/// Called by the VFS once, after every other call on the file.
unsafe extern "C" fn fop_release<T: FileOps>(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: The release call owns the private data stored by `fop_open`.
    let of = unsafe { <KBox<T> as ForeignOwnable>::from_foreign((*file).private_data) };
    T::release(of);
    0
}

/// `read`.
///
/// # Safety
///
/// Called by the VFS on a file opened by [`fop_open`]; `ppos` is valid.
unsafe extern "C" fn fop_read<T: FileOps>(
    file: *mut bindings::file,
    buf: *mut c_char,
    count: usize,
    ppos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: `file` is open; `ppos` is valid for this call.
    let (of, fl, pos) = unsafe { (open_file::<T>(file), flags(file), *ppos) };
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
unsafe extern "C" fn fop_write<T: FileOps>(
    file: *mut bindings::file,
    buf: *const c_char,
    count: usize,
    ppos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: `file` is open; `ppos` is valid for this call.
    let (of, fl, pos) = unsafe { (open_file::<T>(file), flags(file), *ppos) };
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
unsafe extern "C" fn fop_llseek<T: FileOps>(
    file: *mut bindings::file,
    offset: bindings::loff_t,
    whence: c_int,
) -> bindings::loff_t {
    // SAFETY: `file` is open; the VFS serialises llseek against other
    // position updates of this file (f_pos_lock).
    let (of, fl, pos) = unsafe { (open_file::<T>(file), flags(file), (*file).f_pos) };
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
unsafe extern "C" fn fop_ioctl<T: FileOps>(
    file: *mut bindings::file,
    cmd: c_uint,
    arg: c_ulong,
) -> c_long {
    // SAFETY: `file` is open.
    let (of, fl) = unsafe { (open_file::<T>(file), flags(file)) };
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
unsafe extern "C" fn fop_compat_ioctl<T: FileOps>(
    file: *mut bindings::file,
    cmd: c_uint,
    arg: c_ulong,
) -> c_long {
    // A 32-bit caller's pointer is its value zero-extended (compat_ptr on
    // x86-64); integer arguments are passed the same way.
    // SAFETY: As `fop_ioctl`.
    unsafe { fop_ioctl::<T>(file, cmd, arg & 0xffff_ffff) }
}

/// `poll`.
///
/// # Safety
///
/// Called by the VFS on a file opened by [`fop_open`]; `pt` is null or
/// valid.
unsafe extern "C" fn fop_poll<T: FileOps>(
    file: *mut bindings::file,
    pt: *mut bindings::poll_table_struct,
) -> bindings::__poll_t {
    // SAFETY: `file` is open and valid for this call.
    let (of, f) = unsafe { (open_file::<T>(file), File::from_raw_file(file)) };
    // SAFETY: `pt` is null or a valid poll table for this call.
    let table = unsafe { PollTable::from_raw(pt) };
    of.poll(f, &table)
}
