// SPDX-License-Identifier: GPL-2.0

//! ikernel guest stub.
//!
//! Runs in the driver VM's kernel, next to the unmodified native driver.  It
//! owns `/dev/ikernel_guest`, the control device through which the driver
//! VM's serving process (`ikernel-served`) takes the host's requests.  The
//! module maps the shared window named on the kernel command line and
//! validates every request; the serving process performs each one with
//! ordinary system calls on the real device node, so the driver sees a
//! genuine process with genuine user buffers.

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
        atomic::{
            Atomic,
            Relaxed, //
        },
        Arc,
    },
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

mod hw;
mod link;
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
#[path = "../common/window.rs"]
mod window;

use ring::uapi::{
    GuestEvent,
    GuestExports,
    GuestReq,
    GuestResp,
    Side,
    EVENT_DEFER,
    GUEST_IN_WINDOW,
    IOC_GUEST_EVENT,
    IOC_GUEST_EXPORTS,
    IOC_GUEST_GET,
    IOC_GUEST_PUT,
    IOC_VERSION, //
};

/// `module!` with the parameters of both flavours, followed by `$test`, the
/// test flavour's own.
macro_rules! guest_module {
    ($($test:tt)*) => {
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
                poll_us: u32 {
                    default: 50,
                    description: "Longest time (us) a server polls for the next request before it sleeps (0: never)",
                },
                $($test)*
            },
        }
    };
}

#[cfg(not(ikernel_test))]
guest_module! {}

// The test flavour (`make test-modules`): the hostile mode's parameters.
#[cfg(ikernel_test)]
guest_module! {
    hostile: u64 {
        default: 0,
        description: "Tests only: attack kinds in order, one hex digit each (1 wrong_id, 2 dup_resp, 3 len_past, 4 index_jump, 5 torn_header, 6 late_change, 7 doorbell_flood, 8 event_flood, 9 probe_outside), tried after hostile_after requests (default 0: off)",
    },
    hostile_after: u32 {
        default: 0,
        description: "Tests only: requests answered normally before the hostile= attack",
    },
    hostile_attacks: u32 {
        default: 1,
        description: "Tests only: hostile= attacks per boot, each after hostile_after more requests, the kinds in turn",
    },
}

kernel::sync::global_lock! {
    // SAFETY: Initialised in the module initialiser before the control
    // device is registered, the only path that uses it.
    unsafe(uninit) static LINK: Mutex<Option<Arc<link::Link>>> = None;
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
            // Initialised before `_control`, which makes `LINK` reachable.
            link: {
                let link = link.transpose()?;
                // SAFETY: Called once, here, before anything uses `LINK`.
                unsafe { LINK.init() };
                *LINK.lock() = link.clone();
                link
            },
            _control <- MiscDeviceRegistration::register(options),
        })
    }
}

#[pinned_drop]
impl PinnedDrop for IkernelGuest {
    fn drop(self: Pin<&mut Self>) {
        if let Some(link) = &self.link {
            link.stop();
        }
        *LINK.lock() = None;
        pr_info!("ikernel guest stub unloaded\n");
    }
}

/// Largest reply the serving process may hand back (the ring's largest
/// slot buffer; the ring checks the request's own limit).
const REPLY_MAX: u32 = ring::MAX_SLOT_DATA;

/// One open file of `/dev/ikernel_guest`: a serving process of the driver VM.
struct Server {
    /// Where the process mapped the window through this file (its newest
    /// mapping), 0 before it did.
    map: Atomic<usize>,
}

impl Server {
    fn link() -> Result<Arc<link::Link>> {
        LINK.lock().clone().ok_or(ENODEV)
    }

    /// `IKERNEL_IOC_GUEST_GET`: waits for a request and hands it out.
    fn get(&self, user: UserSlice) -> Result<isize> {
        let (mut reader, mut writer) = user.reader_writer();
        let mut arg: GuestReq = reader.read()?;
        let dest = match arg.mode {
            0 => link::Dest::User {
                addr: usize::try_from(arg.buf)?,
                size: usize::try_from(arg.buf_size)?,
            },
            GUEST_IN_WINDOW => match self.map.load(Relaxed) {
                0 => return Err(EINVAL),
                base => link::Dest::Window { base },
            },
            _ => return Err(EINVAL),
        };
        let link = Self::link()?;
        let h = link.next_request(dest)?;
        let d = h.req.desc;
        let answer = |errno: Error| {
            let nothing = link::ReplyData::Kernel(&[]);
            let _ = link.respond(h.req.id, i64::from(errno.to_errno()), nothing, 0, 0);
        };
        match h.copied {
            Ok(()) => {}
            Err(e) if e == E2BIG => {
                answer(ENOMEM);
                return Err(E2BIG);
            }
            Err(e) => {
                answer(EIO);
                return Err(e);
            }
        }
        arg = GuestReq {
            id: h.req.id,
            op: u32::from(d.op),
            index: d.export,
            handle: d.handle,
            flags: d.flags,
            len: h.req.len,
            pos: d.pos,
            cmd: d.cmd,
            reply_max: d.reply_max,
            arg: d.arg,
            buf: u64::try_from(h.buf)?,
            buf_size: u32::try_from(h.buf_size)?,
            mode: arg.mode,
        };
        if let Err(e) = writer.write(&arg) {
            answer(EIO);
            return Err(e);
        }
        Ok(0)
    }

    /// `IKERNEL_IOC_GUEST_PUT`: publishes a response; one in the request's
    /// own buffer in the window this process mapped is published in place.
    fn put(&self, user: UserSlice) -> Result<isize> {
        let arg: GuestResp = user.reader().read()?;
        if arg.reserved != 0 || arg.len > REPLY_MAX {
            return Err(EINVAL);
        }
        let addr = usize::try_from(arg.buf)?;
        let len = usize::try_from(arg.len)?;
        let reply = match self.map.load(Relaxed) {
            0 => link::ReplyData::User { addr, len },
            base => link::ReplyData::Window { base, addr, len },
        };
        Self::link()?.respond(arg.id, arg.result, reply, arg.events, arg.aux)?;
        Ok(0)
    }

    /// `IKERNEL_IOC_GUEST_EVENT`: pushes a poll-readiness event.
    fn event(user: UserSlice) -> Result<isize> {
        let arg: GuestEvent = user.reader().read()?;
        if arg.flags & !EVENT_DEFER != 0 {
            return Err(EINVAL);
        }
        Self::link()?.push_poll(
            arg.index,
            arg.handle,
            arg.events,
            arg.flags & EVENT_DEFER == 0,
        )?;
        Ok(0)
    }

    /// `IKERNEL_IOC_GUEST_EXPORTS`: publishes which exports' nodes exist.
    fn exports(user: UserSlice) -> Result<isize> {
        let arg: GuestExports = user.reader().read()?;
        if arg.reserved != 0 || arg.count > ring::MAX_EXPORTS {
            return Err(EINVAL);
        }
        // No bit at or beyond `count`.
        let beyond = arg.map.iter().zip((0u32..).step_by(32)).any(|(w, first)| {
            let keep = match arg.count.saturating_sub(first) {
                0 => 0,
                k if k >= 32 => u32::MAX,
                k => (1u32 << k) - 1,
            };
            w & !keep != 0
        });
        if beyond {
            return Err(EINVAL);
        }
        Self::link()?.report_exports(arg.count, &arg.map)?;
        Ok(0)
    }
}
#[vtable]
impl MiscDevice for Server {
    type Ptr = KBox<Self>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<KBox<Self>> {
        KBox::new(
            Server {
                map: Atomic::new(0),
            },
            GFP_KERNEL,
        )
        .map_err(Into::into)
    }

    /// Maps the whole window (offset 0, its size, shared) into the serving
    /// process, which may then ask for requests `IKERNEL_GUEST_IN_WINDOW`.
    fn mmap(me: &Server, _file: &File, vma: &VmaNew) -> Result {
        Self::link()?.map_window(vma)?;
        if me.map.xchg(vma.start(), Relaxed) == 0 {
            pr_info!(
                "ikernel_guest: window mapped into the serving process: requests served in place\n"
            );
        }
        Ok(())
    }

    fn ioctl(me: &Server, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        let user = UserSlice::new(UserPtr::from_addr(arg), kernel::ioctl::_IOC_SIZE(cmd));
        match cmd {
            IOC_VERSION => version::write_to(Side::Guest, user.writer()),
            IOC_GUEST_GET => me.get(user),
            IOC_GUEST_PUT => me.put(user),
            IOC_GUEST_EVENT => Self::event(user),
            IOC_GUEST_EXPORTS => Self::exports(user),
            _ => Err(ENOTTY),
        }
    }
}
