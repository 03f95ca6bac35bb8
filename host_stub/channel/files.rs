// SPDX-License-Identifier: GPL-2.0

//! The open files of a channel's exported nodes, as the channel sees them:
//! where the poll events the guest reports are routed.

use kernel::{
    new_poll_condvar,
    prelude::*,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        poll::PollCondVar,
        Arc, //
    },
};

use super::Channel;
use crate::ring;

/// What the channel knows of an open file: for routing poll events.
#[pin_data]
pub(crate) struct FileShared {
    index: u32,
    handle: u32,
    generation: u32,
    /// The guest file's poll mask as last reported.
    mask: Atomic<u32>,
    /// Set when the driver VM went down or the channel closed.
    dead: Atomic<bool>,
    #[pin]
    pollers: PollCondVar,
}

impl FileShared {
    /// The guest's file `handle` of export `index`, opened in generation
    /// `generation` with poll mask `events`.
    pub(crate) fn new(index: u32, handle: u32, generation: u32, events: u32) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(FileShared {
                index,
                handle,
                generation,
                mask: Atomic::new(events & ring::POLL_KNOWN),
                dead: Atomic::new(false),
                pollers <- new_poll_condvar!("ikernel::FileShared::pollers"),
            }),
            GFP_KERNEL,
        )
    }

    /// Whether this is `handle` of export `index` in generation `gen`.
    pub(crate) fn is(&self, index: u32, handle: u32, gen: u32) -> bool {
        self.index == index && self.handle == handle && self.generation == gen
    }

    /// The guest's handle of the file.
    pub(crate) fn handle(&self) -> u32 {
        self.handle
    }

    /// The driver VM generation the file was opened in.
    pub(crate) fn generation(&self) -> u32 {
        self.generation
    }

    /// The guest file's poll mask as last reported.
    pub(crate) fn mask(&self) -> u32 {
        self.mask.load(Relaxed)
    }

    /// Where pollers of the file wait.
    pub(crate) fn pollers(&self) -> &PollCondVar {
        &self.pollers
    }

    /// Whether the driver VM behind the file went away.
    pub(crate) fn is_dead(&self) -> bool {
        self.dead.load(Relaxed)
    }

    /// Records a new poll mask and wakes pollers if it changed.
    pub(crate) fn set_mask(&self, events: u32) {
        let events = events & ring::POLL_KNOWN;
        if self.mask.xchg(events, Relaxed) != events {
            self.pollers.notify_all();
        }
    }

    /// The file is dead (driver VM gone, or channel closed): wake pollers.
    pub(crate) fn kill(&self) {
        self.dead.store(true, Relaxed);
        self.pollers.notify_all();
    }
}

/// Kills every file in `files`.
pub(super) fn kill_all(files: &KVec<Arc<FileShared>>) {
    for f in files.iter() {
        f.kill();
    }
}

impl Channel {
    /// Registers an open file for poll events; fails if the driver VM
    /// changed generation since the open was answered, and with `EEXIST`
    /// if the guest gave its handle to another open file too.
    pub(crate) fn add_file(&self, f: Arc<FileShared>) -> Result {
        let mut g = self.inner.lock();
        self.check_live(&g, Some(f.generation()))?;
        if g.files
            .iter()
            .any(|x| x.is(f.index, f.handle, f.generation))
        {
            return Err(EEXIST);
        }
        g.files.push(f, GFP_KERNEL)?;
        Ok(())
    }

    /// Whether an open file is `handle` of export `index` in generation
    /// `gen`.
    pub(crate) fn has_file(&self, index: u32, handle: u32, gen: u32) -> bool {
        let g = self.inner.lock();
        g.files.iter().any(|x| x.is(index, handle, gen))
    }

    /// Forgets an open file.
    pub(crate) fn remove_file(&self, f: &FileShared) {
        let mut g = self.inner.lock();
        if let Some(i) = g.files.iter().position(|x| core::ptr::eq(&**x, f)) {
            let _ = g.files.remove(i);
        }
    }
}
