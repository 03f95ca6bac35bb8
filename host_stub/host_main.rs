// SPDX-License-Identifier: GPL-2.0

//! ikernel host stub.
//!
//! Runs in the host kernel.  It owns `/dev/ikernel`, the root-only control
//! device: each open file is one channel to one driver VM, and the channel
//! dies with that file.  The VMM binds the shared window and doorbells to a
//! channel and exports the driver VM's device nodes; each becomes a char
//! device of class `ikernel` whose file operations are forwarded over the
//! ring.

use kernel::{
    fs::File,
    miscdevice::{
        MiscDevice,
        MiscDeviceOptions,
        MiscDeviceRegistration, //
    },
    mm::virt::VmaNew,
    prelude::*,
    sync::{
        Arc,
        ArcBorrow, //
    },
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

mod channel;
mod chardev;
#[path = "../common/eventfd.rs"]
mod eventfd;
mod export;
#[path = "../common/kick.rs"]
mod kick;
#[path = "../common/poll.rs"]
mod poll;
#[path = "../ring/src/ring.rs"]
#[allow(
    dead_code,
    unreachable_pub,
    unused_imports,
    reason = "the shared ring serves host, guest and shim"
)]
mod ring;
#[path = "../common/uapi.rs"]
mod uapi;
#[path = "../common/version.rs"]
mod version;
// KUnit tests of the window accessor and the ring over it: test flavour
// only (Documentation/building.rst).
#[cfg(ikernel_test)]
#[path = "../common/kunit_window.rs"]
mod kunit_window;
#[path = "../common/window.rs"]
mod window;

use channel::Channel;

module! {
    type: IkernelHost,
    name: "ikernel_host",
    authors: ["ikernel developers"],
    description: "ikernel host stub: device nodes served by drivers in driver VMs",
    license: "GPL",
}

/// The module: the registration of `/dev/ikernel` and of the exported
/// nodes' device numbers.
#[pin_data(PinnedDrop)]
struct IkernelHost {
    #[pin]
    _control: MiscDeviceRegistration<Channel>,
    /// `/sys/kernel/debug/ikernel/stats`; removed before the nodes' region.
    #[pin]
    _stats: kernel::debugfs::File<()>,
    /// `/sys/kernel/debug/ikernel/poll_max_us`, the host's poll bound.
    #[pin]
    _poll: kernel::debugfs::File<()>,
    /// `/sys/kernel/debug/ikernel/direct_copy`: 0 sends bulk data through
    /// a kernel buffer (for comparison, and to test that path).
    #[pin]
    _direct: kernel::debugfs::File<()>,
    _debugfs: kernel::debugfs::Dir,
    _nodes: chardev::Region,
    /// The drain work's queue; destroyed last, once no channel is left.
    _queue: chardev::WorkQueue,
}

impl kernel::InPlaceModule for IkernelHost {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        pr_info!(
            "ikernel host stub {}.{}.{} loaded\n",
            version::MAJOR,
            version::MINOR,
            version::PATCH
        );
        // No mode is set, so devtmpfs creates the node 0600 root:root: only
        // root may open a channel to a driver VM.
        let options = MiscDeviceOptions { name: c"ikernel" };
        let debugfs = kernel::debugfs::Dir::new(c"ikernel");
        try_pin_init!(Self {
            _queue: chardev::WorkQueue::create()?,
            _nodes: chardev::Region::register()?,
            _stats <- debugfs.read_callback_file(c"stats", (), &chardev::write_stats),
            _poll <- debugfs.read_write_callback_file(c"poll_max_us", (), &show_poll, &store_poll),
            _direct <- debugfs.read_write_callback_file(
                c"direct_copy",
                (),
                &show_direct,
                &store_direct
            ),
            _debugfs: debugfs,
            _control <- MiscDeviceRegistration::register(options),
        })
    }
}

/// Reads `poll_max_us`.
fn show_poll(_: &(), f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    writeln!(f, "{}", channel::poll_max_us())
}

/// Writes `poll_max_us`: a decimal number of microseconds, at most
/// [`channel::POLL_MAX_US_LIMIT`]; 0 turns polling off.
fn store_poll(_: &(), r: &mut kernel::uaccess::UserSliceReader) -> Result {
    channel::set_poll_max_us(read_u32(r)?)
}

/// Reads `direct_copy`.
fn show_direct(_: &(), f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    writeln!(f, "{}", u32::from(channel::direct_copy()))
}

/// Writes `direct_copy`: 1 (the default) copies bulk data straight between
/// user memory and the window, 0 always through a kernel buffer.
fn store_direct(_: &(), r: &mut kernel::uaccess::UserSliceReader) -> Result {
    match read_u32(r)? {
        0 => channel::set_direct_copy(false),
        1 => channel::set_direct_copy(true),
        _ => return Err(EINVAL),
    }
    Ok(())
}

/// A decimal `u32` written to a debugfs file.
fn read_u32(r: &mut kernel::uaccess::UserSliceReader) -> Result<u32> {
    let mut buf = [0u8; 12];
    let n = r.len();
    if n == 0 || n > buf.len() {
        return Err(EINVAL);
    }
    r.read_slice(&mut buf[..n])?;
    let s = core::str::from_utf8(&buf[..n]).map_err(|_| EINVAL)?;
    s.trim().parse::<u32>().map_err(|_| EINVAL)
}

#[pinned_drop]
impl PinnedDrop for IkernelHost {
    fn drop(self: Pin<&mut Self>) {
        pr_info!("ikernel host stub unloaded\n");
    }
}

#[vtable]
impl MiscDevice for Channel {
    type Ptr = Arc<Self>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Arc<Self>> {
        Arc::pin_init(Channel::new(), GFP_KERNEL)
    }

    fn release(me: Arc<Channel>, _file: &File) {
        me.shutdown();
    }

    fn mmap(me: ArcBorrow<'_, Channel>, _file: &File, vma: &VmaNew) -> Result {
        me.mmap(vma)
    }

    fn ioctl(me: ArcBorrow<'_, Channel>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        let user = UserSlice::new(UserPtr::from_addr(arg), kernel::ioctl::_IOC_SIZE(cmd));
        match cmd {
            ring::uapi::IOC_VERSION => version::write_to(ring::uapi::Side::Host, user.writer()),
            _ => Channel::ioctl(me, cmd, user),
        }
    }
}
