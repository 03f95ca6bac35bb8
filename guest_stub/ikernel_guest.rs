// SPDX-License-Identifier: GPL-2.0

//! ikernel guest stub.
//!
//! Runs in the driver VM's kernel, next to the unmodified native driver.  It
//! owns `/dev/ikernel_guest`, the control device through which the driver
//! VM's serving processes attach; later work maps the shared window named on
//! the kernel command line, takes requests from the ring and performs them
//! against the real device node from a genuine process context.

use kernel::{
    fs::File,
    miscdevice::{
        MiscDevice,
        MiscDeviceOptions,
        MiscDeviceRegistration, //
    },
    prelude::*,
    sync::Arc,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

#[path = "../common/counter.rs"]
mod counter;
mod hw;
mod link;
#[path = "../ring/src/ring.rs"]
#[allow(
    dead_code,
    unreachable_pub,
    reason = "the shared ring serves host, guest and shim"
)]
mod ring;
#[path = "../common/version.rs"]
mod version;
#[path = "../common/window.rs"]
mod window;

module! {
    type: IkernelGuest,
    name: "ikernel_guest",
    authors: ["ikernel developers"],
    description: "ikernel guest stub: serves host requests against native drivers",
    license: "GPL",
    params: {
        window_gpa: u64 {
            default: 0,
            description: "Guest-physical address of the shared window (set by ivt-shim; 0: none)",
        },
        window_size: u64 {
            default: 0,
            description: "Size of the shared window in bytes",
        },
        doorbell_port: u32 {
            default: 0,
            description: "I/O port whose writes signal the host (KVM ioeventfd; 0: none)",
        },
        irq: u32 {
            default: 0,
            description: "Interrupt line the host raises (KVM irqfd; 0: none)",
        },
    },
}

/// The module: the registration of `/dev/ikernel_guest`.
#[pin_data(PinnedDrop)]
struct IkernelGuest {
    #[pin]
    _control: MiscDeviceRegistration<Server>,
    /// The shared window, when ivt-shim gave one on the command line.
    link: Option<Arc<link::Link>>,
}

impl kernel::InPlaceModule for IkernelGuest {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        pr_info!(
            "ikernel guest stub {}.{}.{} loaded\n",
            version::MAJOR,
            version::MINOR,
            version::PATCH
        );
        // Root only (devtmpfs default 0600): only the driver VM's init and
        // its serving processes attach here.
        let options = MiscDeviceOptions {
            name: c"ikernel_guest",
        };
        let gpa = module_parameters::window_gpa.value();
        let size = module_parameters::window_size.value();
        let link = if gpa == 0 {
            None
        } else {
            Some(link::Link::attach(
                gpa,
                size,
                module_parameters::doorbell_port.value(),
                module_parameters::irq.value(),
            ))
        };
        try_pin_init!(Self {
            _control <- MiscDeviceRegistration::register(options),
            link: link.transpose()?,
        })
    }
}

#[pinned_drop]
impl PinnedDrop for IkernelGuest {
    fn drop(self: Pin<&mut Self>) {
        if let Some(link) = &self.link {
            link.stop();
        }
        pr_info!("ikernel guest stub unloaded\n");
    }
}

/// One open file of `/dev/ikernel_guest`: a serving process of the driver VM.
struct Server;

#[vtable]
impl MiscDevice for Server {
    type Ptr = KBox<Self>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<KBox<Self>> {
        KBox::new(Server, GFP_KERNEL).map_err(Into::into)
    }

    fn ioctl(_me: &Server, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        let user = UserSlice::new(UserPtr::from_addr(arg), kernel::ioctl::_IOC_SIZE(cmd));
        match cmd {
            version::IOC_VERSION => {
                version::Version::this_module(ring::ABI_VERSION, version::Side::Guest)
                    .write_to(user.writer())
            }
            _ => Err(ENOTTY),
        }
    }
}
