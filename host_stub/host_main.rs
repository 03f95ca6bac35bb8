// SPDX-License-Identifier: GPL-2.0

//! ikernel host stub.
//!
//! Runs in the host kernel.  It owns `/dev/ikernel`, the root-only control
//! device: each open file is one channel to one driver VM, and the channel
//! dies with that file.  The VMM binds the shared window and doorbells to a
//! channel and exports the driver VM's device nodes; each becomes a char
//! device of class `ikernel` whose file operations are forwarded over the
//! ring.
//!
//! The crate is layered, each layer using only those below it:
//!
//! ```text
//! host_main  control device, module, debugfs   (Control)
//!   node     the exported nodes' table          (Node, FileOps for OpenFile)
//!   export   file operations as requests        (Export, OpenFile)
//!   channel  one driver VM's ring and waiters   (Channel: call, drain, files)
//!   sys      raw kernel calls, sys/cdev.rs      (the only `bindings::` users)
//!   ring     the shared ring (ring/src/)
//! ```

use kernel::{
    fs::File,
    miscdevice::{
        MiscDevice,
        MiscDeviceOptions,
        MiscDeviceRegistration, //
    },
    mm::virt::VmaNew,
    new_mutex,
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    },
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

mod channel;
#[path = "../common/eventfd.rs"]
mod eventfd;
mod export;
#[path = "../common/kick.rs"]
mod kick;
mod net;
mod node;
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
mod sys;
#[path = "../common/window.rs"]
mod window;

use channel::Channel;
use export::Export;
use node::{
    Node,
    NodeAttrs, //
};
use ring::uapi::{
    ExportArg,
    ExportNetArg,
    IOC_EXPORT,
    IOC_EXPORT_NET,
    IOC_SET_STATE,
    IOC_VERSION, //
};

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
    _control: MiscDeviceRegistration<Control>,
    /// `/sys/kernel/debug/ikernel/stats`; removed before the nodes' region.
    #[pin]
    _stats: kernel::debugfs::File<()>,
    _debugfs: kernel::debugfs::Dir,
    _nodes: node::Region,
    /// The drain work's queue; destroyed last, once no channel is left.
    _queue: sys::WorkQueue,
    _nets: net::Table,
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
            _queue: sys::WorkQueue::create()?,
            _nodes: node::Region::register()?,
            _nets: net::Table::init(),
            _stats <- debugfs.read_callback_file(c"stats", (), &node::write_stats),
            _debugfs: debugfs,
            _control <- MiscDeviceRegistration::register(options),
        })
    }
}

// The module parameters (params.c declares them with module_param_cb(),
// which the kernel crate has no abstraction for, and calls these).

/// `poll_max_us`: the host's poll bound.
#[no_mangle]
extern "C" fn ikernel_host_param_poll_max_us() -> u32 {
    channel::poll_max_us()
}

/// Sets `poll_max_us`: microseconds, at most the limit of
/// [`channel::set_poll_max_us`] (else `-EINVAL`); 0 turns polling off.
#[no_mangle]
extern "C" fn ikernel_host_param_set_poll_max_us(us: u32) -> kernel::ffi::c_int {
    match channel::set_poll_max_us(us) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `direct_copy`: bulk data straight between user memory and the window.
#[no_mangle]
extern "C" fn ikernel_host_param_direct_copy() -> bool {
    channel::direct_copy()
}

/// Sets `direct_copy`; off sends bulk data through a kernel buffer (for
/// comparison, and to test that path).
#[no_mangle]
extern "C" fn ikernel_host_param_set_direct_copy(on: bool) {
    channel::set_direct_copy(on);
}

#[pinned_drop]
impl PinnedDrop for IkernelHost {
    fn drop(self: Pin<&mut Self>) {
        pr_info!("ikernel host stub unloaded\n");
    }
}

/// One open file of `/dev/ikernel`: a channel and the nodes it exports.
#[pin_data]
struct Control {
    channel: Arc<Channel>,
    /// The exported nodes, removed when the file closes.
    #[pin]
    nodes: Mutex<KVec<Node>>,
    #[pin]
    nets: Mutex<KVec<net::NetHandle>>,
}

impl Control {
    /// `IKERNEL_IOC_EXPORT`: creates `/dev/<name>` for an export of the
    /// driver VM and writes its minor back.
    fn export(&self, user: UserSlice) -> Result<isize> {
        let (mut reader, mut writer) = user.reader_writer();
        let mut arg: ExportArg = reader.read()?;
        let export = Export::from_arg(self.channel.clone(), &arg)?;
        let attrs = NodeAttrs {
            // CAST: `Export::from_arg` checked `mode <= 0o777`.
            mode: arg.mode as u16,
            uid: arg.uid,
            gid: arg.gid,
        };
        let node = Node::create(export, attrs)?;
        arg.minor = node.minor();
        self.keep(&self.nodes, node)?;
        writer.write(&arg)?;
        Ok(0)
    }

    fn export_net(&self, user: UserSlice) -> Result<isize> {
        let (mut reader, mut writer) = user.reader_writer();
        let mut arg: ExportNetArg = reader.read()?;
        let net = net::NetHandle::create(self.channel.clone(), &arg)?;
        arg.ifindex = net.ifindex();
        self.keep(&self.nets, net)?;
        writer.write(&arg)?;
        Ok(0)
    }

    /// Keeps a new node or interface in `list` for the channel's life;
    /// `ENXIO` (and `item` dropped) if the channel closed meanwhile.
    fn keep<T>(&self, list: &Mutex<KVec<T>>, item: T) -> Result {
        let mut g = list.lock();
        let room = g.reserve(1, GFP_KERNEL);
        if self.channel.is_closed() || room.is_err() {
            // Dropped outside the lock: node removal takes the node
            // table's, interface removal the RTNL.
            drop(g);
            drop(item);
            return Err(if room.is_err() { ENOMEM } else { ENXIO });
        }
        // Cannot fail: room was reserved.
        let _ = g.push(item, GFP_KERNEL);
        Ok(())
    }
}

#[vtable]
impl MiscDevice for Control {
    type Ptr = Pin<KBox<Self>>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        let channel = Arc::pin_init(Channel::new(), GFP_KERNEL)?;
        KBox::pin_init(
            try_pin_init!(Control {
                channel,
                nodes <- new_mutex!(KVec::new(), "ikernel::Control::nodes"),
                nets <- new_mutex!(KVec::new(), "ikernel::Control::nets"),
            }),
            GFP_KERNEL,
        )
    }

    fn release(me: Pin<KBox<Self>>, _file: &File) {
        // Calls and pollers fail from here on; then the nodes go (node
        // removal waits for nothing a caller holds).
        me.channel.shutdown();
        let nodes = core::mem::take(&mut *me.nodes.lock());
        drop(nodes);
        let nets = core::mem::take(&mut *me.nets.lock());
        drop(nets);
    }

    fn mmap(me: Pin<&Self>, _file: &File, vma: &VmaNew) -> Result {
        me.channel.mmap(vma)
    }

    fn ioctl(me: Pin<&Self>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        let user = UserSlice::new(UserPtr::from_addr(arg), kernel::ioctl::_IOC_SIZE(cmd));
        match cmd {
            IOC_VERSION => version::write_to(ring::uapi::Side::Host, user.writer()),
            IOC_EXPORT => me.export(user),
            IOC_EXPORT_NET => me.export_net(user),
            IOC_SET_STATE => {
                let r = me.channel.ioctl(cmd, user)?;
                // A new generation describes its nodes anew.
                for n in me.nodes.lock().iter() {
                    n.export().redescribe();
                }
                Ok(r)
            }
            _ => me.channel.ioctl(cmd, user),
        }
    }
}
