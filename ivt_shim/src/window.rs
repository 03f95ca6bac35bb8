// SPDX-License-Identifier: GPL-2.0

//! The shared window and the channel to host_stub (`/dev/ikernel`).
//!
//! With host_stub, the window is allocated and initialised by host_stub and
//! mapped from `/dev/ikernel`. Without it (`--no-host-stub`, no device, or
//! an ioctl answering `ENOTTY`), the shim allocates the window from a memfd
//! and initialises the header itself with the ring crate. Every offset into
//! the header comes from the ring crate.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use ikernel_ring::uapi::{
    self, DoorbellsArg, ExportArg, ExportNetArg, GuestRamArg, StateArg, Version, WindowArg,
    EXPORT_REOPEN, NAME_MAX, PATH_MAX,
};
use ikernel_ring::user::RawWindow;
use ikernel_ring::{
    hdr, read_exports, ExportsReport, GuestState, Host, HostState, Layout, Window,
    FEATURE_EVENT_IDX,
};
use log::{info, warn};
use vmm_sys_util::eventfd::EventFd;
use vmm_sys_util::ioctl::{ioctl_with_mut_ref, ioctl_with_ref};

/// `struct ikernel_ioctl_desc`: one entry of an export's ioctl table.
pub use ikernel_ring::uapi::IoctlDescArg as IkIoctlDesc;

/// One export for [`Channel::export`], in host_stub's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReq {
    /// Host node name (`/dev/<name>`), 1-31 bytes.
    pub name: String,
    /// Position in the driver VM's export list.
    pub index: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Deadline of every forwarded call, 0 = none.
    pub timeout_ms: u32,
    /// Open files reopen transparently in a restarted driver VM.
    pub reopen: bool,
    pub ioctls: Vec<IkIoctlDesc>,
    /// The node in the driver VM (shown in host_stub's sysfs).
    pub guest_path: String,
    /// The driver VM's name (shown in host_stub's sysfs).
    pub vm_name: String,
}

/// `text` as a NUL-terminated, NUL-padded field of `N` bytes, if it fits
/// and has no NUL of its own.
fn c_field<const N: usize>(text: &str, what: &str) -> io::Result<[u8; N]> {
    let b = text.as_bytes();
    if b.len() >= N || b.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{what} {text:?} must be at most {} bytes, without NUL",
                N - 1
            ),
        ));
    }
    let mut out = [0u8; N];
    out[..b.len()].copy_from_slice(b);
    Ok(out)
}

impl ExportReq {
    /// The ioctl argument; `ioctls` points into `self.ioctls`, which must
    /// outlive its use.
    fn raw(&self) -> io::Result<ExportArg> {
        let n = self.name.as_bytes();
        if n.is_empty() || n.len() >= NAME_MAX || n.contains(&0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("export name {:?} must be 1-31 bytes", self.name),
            ));
        }
        Ok(ExportArg {
            name: c_field::<NAME_MAX>(&self.name, "export name")?,
            guest_path: c_field::<PATH_MAX>(&self.guest_path, "guest_path")?,
            vm_name: c_field::<NAME_MAX>(&self.vm_name, "VM name")?,
            index: self.index,
            mode: self.mode,
            uid: self.uid,
            gid: self.gid,
            timeout_ms: self.timeout_ms,
            nr_ioctls: u32::try_from(self.ioctls.len()).map_err(io::Error::other)?,
            ioctls: if self.ioctls.is_empty() {
                0
            } else {
                self.ioctls.as_ptr() as u64
            },
            minor: 0,
            flags: if self.reopen { EXPORT_REOPEN } else { 0 },
        })
    }
}

/// One net export for [`Channel::export_net`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetExportReq {
    /// Host interface name, 1-15 bytes.
    pub name: String,
    /// Position in the driver VM's export list (after the nodes).
    pub index: u32,
    /// MTU of the host interface.
    pub mtu: u32,
    /// The interface in the driver VM.
    pub guest_if: String,
    /// The driver VM's name.
    pub vm_name: String,
}

impl NetExportReq {
    fn raw(&self) -> io::Result<ExportNetArg> {
        if self.name.is_empty() || self.name.len() > uapi::IFNAME_MAX {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("interface name {:?} must be 1-15 bytes", self.name),
            ));
        }
        Ok(ExportNetArg {
            name: c_field::<NAME_MAX>(&self.name, "interface name")?,
            index: self.index,
            mtu: self.mtu,
            ifindex: 0,
            flags: 0,
            guest_if: c_field::<NAME_MAX>(&self.guest_if, "guest interface")?,
            vm_name: c_field::<NAME_MAX>(&self.vm_name, "VM name")?,
        })
    }
}

/// Driver-VM states reported to host_stub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum VmState {
    Booting = uapi::VM_BOOTING,
    Running = uapi::VM_RUNNING,
    Down = uapi::VM_DOWN,
}

/// The ring layout for a window of `size` bytes with `entries` slots per
/// ring (the ring crate's sizing, the same as host_stub's).
pub fn layout_for(size: u64, entries: u32) -> Option<Layout> {
    Layout::for_window(size, entries).ok()
}

/// A `MAP_SHARED` mapping, unmapped on drop.
struct Mapping {
    base: *mut u8,
    size: usize,
}

impl Mapping {
    fn new(fd: &impl AsRawFd, size: usize) -> io::Result<Mapping> {
        // SAFETY: A fresh shared mapping of `fd`; no existing memory is affected.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping {
            base: p.cast(),
            size,
        })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `base..base+size` is our mapping; nothing refers to it once
        // the channel (which drops its windows first) is dropped.
        unsafe { libc::munmap(self.base.cast(), self.size) };
    }
}

/// Who owns the window.
enum Backend {
    /// host_stub: the open `/dev/ikernel` file is the channel.
    HostStub(File),
    /// The shim itself (memfd), with the ring crate's host side.
    Local {
        _memfd: OwnedFd,
        host: Option<Box<Host<RawWindow>>>,
        layout: Layout,
    },
}

/// One channel: the window mapping and its owner.
pub struct Channel {
    backend: Backend,
    win: Window<RawWindow>,
    // Declared last: dropped after the windows that point into it.
    map: Mapping,
}

/// An ioctl number of `ikernel_ring::uapi` as `ioctl(2)` takes it.
fn ioc(nr: u32) -> libc::c_ulong {
    libc::c_ulong::from(nr)
}

fn is_enotty(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ENOTTY)
}

fn ioctl_ref<T>(f: &File, req: libc::c_ulong, arg: &T) -> io::Result<()> {
    // SAFETY: `req` is one of the ioctls above, whose argument type is `T`;
    // the kernel reads at most `size_of::<T>()` bytes from `arg`.
    let r = unsafe { ioctl_with_ref(f, req, arg) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn ioctl_mut<T>(f: &File, req: libc::c_ulong, arg: &mut T) -> io::Result<()> {
    // SAFETY: As in `ioctl_ref`; the kernel writes at most `size_of::<T>()`.
    let r = unsafe { ioctl_with_mut_ref(f, req, arg) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// host_stub's control device.
pub const HOST_STUB_DEV: &str = "/dev/ikernel";

/// Whether [`Channel::open`] uses host_stub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostStubUse {
    /// Never (`--no-host-stub`): a local window.
    Never,
    /// If it is there; else a local window, with a warning.
    Prefer,
    /// host_stub or nothing (a config with exports): its absence is a
    /// [`NoHostStub`] error.
    Require,
}

/// host_stub is needed but not there (no `/dev/ikernel`, or one that does
/// not know the shim's ioctls).
#[derive(Debug)]
pub struct NoHostStub(pub String);

impl std::fmt::Display for NoHostStub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NoHostStub {}

/// Whether `e` is a [`NoHostStub`].
pub fn is_no_host_stub(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|i| i.is::<NoHostStub>())
}

impl Channel {
    /// Opens a channel: host_stub or a local memfd window, as `use_` says.
    pub fn open(size: u64, entries: u32, use_: HostStubUse) -> io::Result<Channel> {
        if use_ != HostStubUse::Never {
            match Self::open_host_stub(size, entries) {
                Ok(c) => return Ok(c),
                Err(e) if e.kind() == io::ErrorKind::NotFound || is_enotty(&e) => {
                    if use_ == HostStubUse::Require {
                        return Err(io::Error::other(NoHostStub(format!(
                            "{HOST_STUB_DEV}: {e}"
                        ))));
                    }
                    warn!(
                        "host_stub unavailable ({e}); using a local window (no host-side channel)"
                    );
                }
                Err(e) => return Err(io::Error::new(e.kind(), format!("{HOST_STUB_DEV}: {e}"))),
            }
        }
        Self::open_local(size, entries)
    }

    fn open_host_stub(size: u64, entries: u32) -> io::Result<Channel> {
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(HOST_STUB_DEV)?;
        let mut v = Version::default();
        ioctl_mut(&f, ioc(uapi::IOC_VERSION), &mut v)?;
        info!(
            "host_stub {}.{}.{} ring ABI {} side {}",
            v.major, v.minor, v.patch, v.ring_abi, v.side
        );
        if v.ring_abi != ikernel_ring::ABI_VERSION {
            return Err(io::Error::other(format!(
                "host_stub speaks ring ABI {}, the shim {}",
                v.ring_abi,
                ikernel_ring::ABI_VERSION
            )));
        }
        let w = WindowArg {
            size,
            ring_entries: entries,
            reserved: 0,
        };
        ioctl_ref(&f, ioc(uapi::IOC_CREATE_WINDOW), &w)?;
        let usize_ = usize::try_from(size).map_err(io::Error::other)?;
        let map = Mapping::new(&f, usize_)?;
        // SAFETY: `map` stays mapped until after `win` is dropped (field
        // order of `Channel`), and we access it only atomically/volatilely.
        let raw = unsafe { RawWindow::new(map.base, map.size) }
            .ok_or_else(|| io::Error::other("unaligned window"))?;
        Ok(Channel {
            backend: Backend::HostStub(f),
            win: Window::new(raw),
            map,
        })
    }

    fn open_local(size: u64, entries: u32) -> io::Result<Channel> {
        let layout = layout_for(size, entries)
            .ok_or_else(|| io::Error::other("window too small for its rings"))?;
        // SAFETY: The name is a NUL-terminated literal.
        let fd = unsafe { libc::memfd_create(c"ikernel-window".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh descriptor we own.
        let memfd = unsafe { OwnedFd::from_raw_fd(fd) };
        let len = libc::off_t::try_from(size).map_err(io::Error::other)?;
        // SAFETY: Plain syscall on our descriptor.
        if unsafe { libc::ftruncate(memfd.as_raw_fd(), len) } < 0 {
            return Err(io::Error::last_os_error());
        }
        let usize_ = usize::try_from(size).map_err(io::Error::other)?;
        let map = Mapping::new(&memfd, usize_)?;
        // SAFETY: As in `open_host_stub`.
        let raw = unsafe { RawWindow::new(map.base, map.size) }
            .ok_or_else(|| io::Error::other("unaligned window"))?;
        Ok(Channel {
            backend: Backend::Local {
                _memfd: memfd,
                host: None,
                layout,
            },
            win: Window::new(raw),
            map,
        })
    }

    /// True if host_stub owns the window.
    pub fn has_host_stub(&self) -> bool {
        matches!(self.backend, Backend::HostStub(_))
    }

    /// Host address and size of the window mapping (for the KVM slot).
    pub fn mapping(&self) -> (u64, u64) {
        (self.map.base as u64, self.map.size as u64)
    }

    /// Hands the doorbell eventfds to host_stub.
    pub fn bind_doorbells(&self, kick: &EventFd, call: &EventFd) -> io::Result<()> {
        if let Backend::HostStub(f) = &self.backend {
            let d = DoorbellsArg {
                kick_fd: kick.as_raw_fd(),
                call_fd: call.as_raw_fd(),
            };
            ioctl_ref(f, ioc(uapi::IOC_BIND_DOORBELLS), &d)?;
        }
        Ok(())
    }

    /// Reports the driver VM's state; `Booting` with a new generation
    /// (re)initialises the window for that generation.
    pub fn set_state(&mut self, state: VmState, generation: u32) -> io::Result<()> {
        match &mut self.backend {
            Backend::HostStub(f) => {
                let s = StateArg {
                    state: state as u32,
                    generation,
                    ..Default::default()
                };
                ioctl_ref(f, ioc(uapi::IOC_SET_STATE), &s)
            }
            Backend::Local { host, layout, .. } => {
                let r = match (state, host.as_mut()) {
                    (VmState::Booting, Some(h)) => h.reset(generation, |_, _| {}),
                    (VmState::Booting, None) => {
                        // SAFETY: As in `open_host_stub`: a second accessor
                        // of the same mapping, dropped with the channel
                        // before the mapping.
                        let raw = unsafe { RawWindow::new(self.map.base, self.map.size) }
                            .ok_or_else(|| io::Error::other("unaligned window"))?;
                        Host::new(raw, *layout, FEATURE_EVENT_IDX, generation).map(|h| {
                            *host = Some(Box::new(h));
                        })
                    }
                    (VmState::Down, Some(h)) => h.set_state(HostState::Closing),
                    _ => Ok(()),
                };
                r.map_err(|e| io::Error::other(format!("ring: {e}")))
            }
        }
    }

    /// Tells host_stub that the memfd `ram` holds `size` bytes of RAM of
    /// generation `generation` (reported booting before), so that exported
    /// nodes can be mapped.  Returns whether host_stub took it: a host_stub
    /// that does not know the request (`ENOTTY`) serves no mmap, which is
    /// not an error.
    pub fn set_ram(&self, ram: &impl AsRawFd, size: u64, generation: u32) -> io::Result<bool> {
        let Backend::HostStub(f) = &self.backend else {
            return Ok(false);
        };
        let a = GuestRamArg {
            fd: ram.as_raw_fd(),
            generation,
            size,
        };
        match ioctl_ref(f, ioc(uapi::IOC_GUEST_RAM), &a) {
            Ok(()) => Ok(true),
            Err(e) if e.raw_os_error() == Some(libc::ENOTTY) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Asks host_stub for its view (for diagnostics).
    pub fn get_state(&self) -> Option<StateArg> {
        if let Backend::HostStub(f) = &self.backend {
            let mut s = StateArg::default();
            ioctl_mut(f, ioc(uapi::IOC_GET_STATE), &mut s).ok()?;
            return Some(s);
        }
        None
    }

    /// Asks host_stub to create the host node of one export
    /// (`IKERNEL_IOC_EXPORT`); returns its minor number.  Exports last as
    /// long as the channel, across driver-VM restarts.  Without host_stub
    /// there is nobody to export to: `Unsupported`.
    pub fn export(&self, req: &ExportReq) -> io::Result<u32> {
        let Backend::HostStub(f) = &self.backend else {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "no host_stub: nothing to export to",
            ));
        };
        let mut e = req.raw()?;
        // `e.ioctls` points into `req.ioctls`, borrowed for this call.
        ioctl_mut(f, ioc(uapi::IOC_EXPORT), &mut e)?;
        Ok(e.minor)
    }

    /// Asks host_stub to create the host interface of one net export
    /// (`IKERNEL_IOC_EXPORT_NET`); returns its interface index.
    pub fn export_net(&self, req: &NetExportReq) -> io::Result<u32> {
        let Backend::HostStub(f) = &self.backend else {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "no host_stub: nothing to export to",
            ));
        };
        let mut e = req.raw()?;
        ioctl_mut(f, ioc(uapi::IOC_EXPORT_NET), &mut e)?;
        Ok(e.ifindex)
    }

    /// True when the guest attached to the current generation and serves.
    pub fn guest_ready(&self) -> bool {
        let st = self.win.load(hdr::GUEST_STATE).unwrap_or(0);
        let gg = self.win.load(hdr::GUEST_GENERATION).unwrap_or(0);
        let hg = self.win.load(hdr::GENERATION).unwrap_or(u32::MAX);
        st == GuestState::Ready as u32 && gg == hg
    }

    /// The ring violation with which the guest broke the window, as
    /// host_stub saw it; `None` while the ring is sound (or without
    /// host_stub, which alone checks the ring).
    pub fn broken(&self) -> Option<String> {
        let code = self.get_state()?.broken;
        let i = usize::try_from(code.checked_sub(1)?).ok()?;
        Some(match ikernel_ring::RingError::ALL.get(i) {
            Some(e) => format!("{e:?}"),
            None => format!("violation {code}"),
        })
    }

    /// The guest's heartbeat counter.
    pub fn heartbeat(&self) -> u32 {
        self.win.load(hdr::HEARTBEAT).unwrap_or(0)
    }

    /// The guest's report of which of the `configured` exports it serves,
    /// read once from the window header (only for the shim's log: the
    /// guest may write anything there).
    pub fn exports(&self, configured: u32) -> ExportsReport {
        read_exports(&self.win, configured).unwrap_or(ExportsReport::NotReported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_request_to_uapi() {
        let mut r = ExportReq {
            name: "ik_fifo".into(),
            index: 1,
            mode: 0o660,
            uid: 0,
            gid: 7,
            timeout_ms: 5000,
            reopen: true,
            ioctls: vec![IkIoctlDesc {
                cmd: 0x6b11,
                dir: 2,
                size: 4,
            }],
            guest_path: "/dev/ikfifo".into(),
            vm_name: "fifo".into(),
        };
        let e = r.raw().expect("valid");
        assert_eq!(&e.guest_path[..12], b"/dev/ikfifo\0");
        assert!(e.guest_path[11..].iter().all(|&b| b == 0));
        assert_eq!(&e.vm_name[..5], b"fifo\0");
        assert_eq!(&e.name[..8], b"ik_fifo\0");
        assert!(e.name[7..].iter().all(|&b| b == 0));
        assert_eq!((e.index, e.mode, e.gid, e.timeout_ms), (1, 0o660, 7, 5000));
        assert_eq!(e.flags, EXPORT_REOPEN);
        assert_eq!(e.nr_ioctls, 1);
        assert_eq!(e.ioctls, r.ioctls.as_ptr() as u64);
        r.ioctls.clear();
        assert_eq!(r.raw().expect("valid").ioctls, 0);
        r.name = "x".repeat(31);
        assert!(r.raw().is_ok());
        r.name = "x".repeat(32);
        assert!(r.raw().is_err());
        r.name.clear();
        assert!(r.raw().is_err());
        r.name = "x".into();
        r.guest_path = format!("/dev/{}", "p".repeat(122));
        assert!(r.raw().is_ok(), "127 bytes");
        r.guest_path.push('p');
        assert!(r.raw().is_err(), "128 bytes leave no room for the NUL");
        r.guest_path = "/dev/a\0b".into();
        assert!(r.raw().is_err());
        r.guest_path = "/dev/a".into();
        r.vm_name = "v".repeat(32);
        assert!(r.raw().is_err());
    }

    #[test]
    fn no_export_without_host_stub() {
        let c = Channel::open(256 * 1024, 16, HostStubUse::Never).expect("memfd window");
        let r = ExportReq {
            name: "x".into(),
            index: 0,
            mode: 0o600,
            uid: 0,
            gid: 0,
            timeout_ms: 0,
            reopen: false,
            ioctls: Vec::new(),
            guest_path: "/dev/x".into(),
            vm_name: String::new(),
        };
        let e = c.export(&r).expect_err("local window");
        assert_eq!(e.kind(), io::ErrorKind::Unsupported);
    }

    #[test]
    fn layouts() {
        let l = layout_for(256 * 1024, 16).expect("fits");
        assert!(u64::from(l.min_size) <= 256 * 1024);
        assert!(layout_for(4096, 16).is_none());
    }

    #[test]
    fn required_host_stub_that_is_missing_is_an_error() {
        if std::path::Path::new(HOST_STUB_DEV).exists() {
            return; // host_stub is loaded here: nothing to test
        }
        let e = Channel::open(256 * 1024, 16, HostStubUse::Require)
            .err()
            .expect("no host_stub");
        assert!(is_no_host_stub(&e), "{e}");
        assert!(e.to_string().contains(HOST_STUB_DEV), "{e}");
        // Preferred: the local window instead.
        assert!(!Channel::open(256 * 1024, 16, HostStubUse::Prefer)
            .expect("local window")
            .has_host_stub());
    }

    #[test]
    fn local_window_ready_detection() {
        let mut c = Channel::open(256 * 1024, 16, HostStubUse::Never).expect("memfd window");
        c.set_state(VmState::Booting, 1).expect("init");
        assert!(!c.guest_ready());
        // Play the guest with the ring crate's own guest side.
        // SAFETY: The channel's mapping outlives `raw` (dropped at scope end).
        let raw = unsafe { RawWindow::new(c.map.base, c.map.size) }.expect("aligned");
        let mut g = ikernel_ring::Guest::attach(raw, FEATURE_EVENT_IDX).expect("attach");
        assert!(c.guest_ready());
        g.beat().expect("beat");
        assert_eq!(c.heartbeat(), 1);
        assert_eq!(c.exports(2), ExportsReport::NotReported);
        let mut map = [0u32; ikernel_ring::EXPORTS_WORDS];
        map[0] = 0b01;
        g.report_exports(&map).expect("report");
        let ExportsReport::Reported(s) = c.exports(2) else {
            panic!("no report");
        };
        assert!(s.present(0) && !s.present(1));
        c.set_state(VmState::Down, 1).expect("down");
        c.set_state(VmState::Booting, 2).expect("reset");
        assert!(!c.guest_ready());
        assert_eq!(
            c.exports(2),
            ExportsReport::NotReported,
            "a new generation reports anew"
        );
    }
}
