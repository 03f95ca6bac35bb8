// SPDX-License-Identifier: GPL-2.0

//! The exported device nodes: one char device of class `ikernel` per
//! export, numbered in one region for the whole module.
//!
//! The node table maps a minor to its [`Export`]; opening a node looks its
//! export up there and every file operation goes to the [`OpenFile`] made
//! by the open.  The raw registration is `sys::cdev`'s.

use kernel::{
    fs::File,
    mm::virt::VmaNew,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{
            Atomic,
            Relaxed, //
        },
        poll::PollTable,
        Arc, //
    },
};

use crate::{
    export::{
        Export,
        OpenFile, //
    },
    sys::{
        cdev::{
            self,
            AnonFops,
            CdevNode,
            FileOps, //
        },
        guestram::GuestRam,
    },
};

pub(crate) use crate::sys::cdev::NodeAttrs;

/// Most exported nodes at once, over all channels.
pub(crate) const MAX_NODES: u32 = 256;

/// First device number of the region (major and minor 0), 0 if none.
static BASE: Atomic<u32> = Atomic::new(0);

kernel::sync::global_lock! {
    // SAFETY: Initialised by `Region::register` before any node exists.
    unsafe(uninit) static NODES: Mutex<KVec<Option<Arc<Export>>>> = KVec::new();
}

kernel::sync::global_lock! {
    // SAFETY: Initialised by `Region::register` before any node exists.
    unsafe(uninit) static ANON: Mutex<Option<AnonFops<OpenFile>>> = None;
}

/// The device numbers of every node and the class; module lifetime.
pub(crate) struct Region {
    _region: cdev::Region,
}

impl Region {
    /// Allocates [`MAX_NODES`] device numbers and registers the class.
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: Called once, at module initialisation, before any node.
        unsafe {
            NODES.init();
            ANON.init();
        }
        *ANON.lock() = Some(AnonFops::new()?);
        let region = cdev::Region::register(MAX_NODES)?;
        BASE.store(region.devt(0), Relaxed);
        Ok(Self { _region: region })
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // A static is never dropped: free the table's buffer here, or every
        // unload leaks it (kmemleak in the faults kernel found this).
        drop(core::mem::replace(&mut *NODES.lock(), KVec::new()));
        // Every anonymous file pinned the module: none is left.
        drop(ANON.lock().take());
    }
}

/// A new anonymous file (`anon_inode:ikernel`) for `of`, a file a
/// forwarded ioctl made, opened with `flags`.  On failure `of` is released.
pub(crate) fn anon_file(of: KBox<OpenFile>, flags: u32) -> Result<ARef<File>> {
    let made = match ANON.lock().as_ref() {
        Some(a) => a.file(of, flags),
        None => Err((ENODEV, of)),
    };
    // The guest's file is released with no lock held.
    made.map_err(|(e, of)| {
        OpenFile::release(&of);
        e
    })
}

/// Writes one statistics line per exported node (`ikernel/stats` in
/// debugfs).
pub(crate) fn write_stats(_: &(), f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    for e in NODES.lock().iter().flatten() {
        e.write_stats(f)?;
    }
    crate::net::write_stats(f)
}

/// Finds the export behind `minor`.
fn lookup(minor: u32) -> Option<Arc<Export>> {
    NODES
        .lock()
        .get(usize::try_from(minor).ok()?)
        .and_then(|e| e.clone())
}

/// One exported node.
///
/// # Invariants
///
/// `NODES[minor]` holds this node's export until the node is dropped.
pub(crate) struct Node {
    minor: u32,
    export: Arc<Export>,
    _dev: CdevNode<Export>,
}

impl Node {
    /// Creates `/dev/<name>` for `export`, named as the export is.
    ///
    /// # Errors
    ///
    /// `ENOSPC` when [`MAX_NODES`] nodes exist, `EEXIST` if a device of that
    /// name exists, `ENOMEM`.
    pub(crate) fn create(export: Arc<Export>, attrs: NodeAttrs) -> Result<Node> {
        let info = export.clone();
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
        match CdevNode::add::<OpenFile>(
            info.node_name(),
            BASE.load(Relaxed) + minor,
            attrs,
            info.clone(),
        ) {
            Ok(dev) => {
                info.set_dev(Some(dev.dev()));
                // INVARIANT: `NODES[minor]` was set above.
                Ok(Node {
                    minor,
                    export: info,
                    _dev: dev,
                })
            }
            Err(e) => {
                take_minor(minor);
                Err(e)
            }
        }
    }

    /// The node's minor number.
    pub(crate) fn minor(&self) -> u32 {
        self.minor
    }

    /// The node's export.
    pub(crate) fn export(&self) -> &Arc<Export> {
        &self.export
    }
}

/// Frees `minor` in the table and returns its export.
fn take_minor(minor: u32) -> Option<Arc<Export>> {
    NODES
        .lock()
        .get_mut(usize::try_from(minor).ok()?)
        .and_then(Option::take)
}

impl Drop for Node {
    fn drop(&mut self) {
        // No new open finds the export from now on; open files keep theirs.
        // The device goes with `_dev`, right after: no change is announced
        // for it from now on.
        drop(take_minor(self.minor));
        self.export.set_dev(None);
    }
}

impl FileOps for OpenFile {
    fn open(minor: u32, flags: u32) -> Result<(KBox<Self>, bool)> {
        let export = lookup(minor).ok_or(ENODEV)?;
        OpenFile::open(export, flags)
    }

    fn release(this: KBox<Self>) {
        OpenFile::release(&this);
    }

    fn read(&self, addr: usize, count: usize, pos: i64, flags: u32) -> Result<(usize, i64)> {
        OpenFile::read(self, addr, count, pos, flags)
    }

    fn write(&self, addr: usize, count: usize, pos: i64, flags: u32) -> Result<(usize, i64)> {
        OpenFile::write(self, addr, count, pos, flags)
    }

    fn llseek(&self, pos: i64, offset: i64, whence: i32, flags: u32) -> Result<i64> {
        OpenFile::llseek(self, pos, offset, whence, flags)
    }

    fn ioctl(&self, cmd: u32, arg: usize, flags: u32) -> Result<isize> {
        OpenFile::ioctl(self, cmd, arg, flags)
    }

    fn poll(&self, file: &File, table: &PollTable<'_>) -> u32 {
        OpenFile::poll(self, file, table)
    }

    fn mmap(&self, vma: &VmaNew, flags: u32) -> Result {
        OpenFile::mmap(self, vma, flags)
    }

    fn ram(&self) -> &GuestRam {
        OpenFile::ram(self)
    }
}
