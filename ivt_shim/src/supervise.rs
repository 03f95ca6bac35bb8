// SPDX-License-Identifier: GPL-2.0

//! `ivt-shim run`: boot, wire and supervise a driver VM.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::thread::JoinHandleExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use log::{error, info, warn};
use vmm_sys_util::signal::{register_signal_handler, SIGRTMIN};

use crate::config::{Config, ReadyMode};
use crate::events::{Cause, Event, Events, HostView};
use crate::image;
use crate::locks::{is_conflict, run_dir, Locks, Resource};
use crate::notify;
use crate::pio::Ports;
use crate::restarts::{Decision, RestartBudget};
use crate::sandbox;
use crate::vm::{guest_cmdline, run_vcpu, Exit, Passed, Vm};
use crate::window::{
    is_no_host_stub, Channel, ExportReq, HostStubUse, IkIoctlDesc, NetExportReq, VmState,
    HOST_STUB_DEV,
};
use ikernel_ring::ExportsReport;

static TERMINATE: AtomicBool = AtomicBool::new(false);

extern "C" fn on_term(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    TERMINATE.store(true, Ordering::SeqCst);
}

extern "C" fn on_kick(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {}

fn install_signals() -> io::Result<()> {
    for s in [libc::SIGTERM, libc::SIGINT] {
        // SAFETY: A sigaction with a handler that only stores to an atomic.
        let r = unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_term as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO;
            libc::sigaction(s, &sa, std::ptr::null_mut())
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    register_signal_handler(SIGRTMIN(), on_kick)
        .map_err(|e| io::Error::other(format!("signal: {e}")))
}

/// Options of `run`.
pub struct RunOpts {
    pub no_host_stub: bool,
    #[cfg(feature = "test-hooks")]
    pub hooks: TestHooks,
    pub rebuild_image: bool,
    /// The config file (named in the start event).
    pub config: std::path::PathBuf,
    /// Append machine-readable state events to this file.
    pub events: Option<std::path::PathBuf>,
    /// The seccomp filter's mode (and whether capabilities are dropped).
    pub seccomp: sandbox::Mode,
}

/// The test hooks of `run` (feature `test-hooks` only).
#[cfg(feature = "test-hooks")]
pub struct TestHooks {
    /// Add `ikernel_test_panic` to the guest command line of this generation.
    pub panic_generation: Option<u32>,
    /// Freeze the vCPU of this generation once it is ready (tests the hang
    /// detection: the heartbeat stops).
    pub hang_generation: Option<u32>,
    /// Exit 0 after this many generations reached ready; 0 = never.
    pub exit_after_ready: u32,
}

enum Death {
    Exit(Exit),
    Hang(u64),
    ReadyTimeout(u64),
    InitError(String),
    Broken(String),
    Panic(String),
}

impl Death {
    /// The death as a stable word, for the events.
    fn cause(&self) -> Cause {
        match self {
            Death::Exit(Exit::Shutdown) => Cause::TripleFault,
            Death::Exit(_) => Cause::VcpuExit,
            Death::Hang(_) => Cause::Hang,
            Death::ReadyTimeout(_) => Cause::ReadyTimeout,
            Death::InitError(_) => Cause::InitError,
            Death::Broken(_) => Cause::Broken,
            Death::Panic(_) => Cause::Panic,
        }
    }
}

/// Host names of the exports whose flag in `present` is `want`.
fn names_where<'a>(names: &'a [ExportName], present: &[bool], want: bool) -> Vec<&'a str> {
    names
        .iter()
        .zip(present)
        .filter(|(_, &p)| p == want)
        .map(|(n, _)| n.host.as_str())
        .collect()
}

impl std::fmt::Display for Death {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Death::Exit(Exit::Shutdown) => write!(f, "triple fault / reboot (KVM_EXIT_SHUTDOWN)"),
            Death::Exit(e) => write!(f, "vCPU exit: {e:?}"),
            Death::Hang(s) => write!(f, "hang: heartbeat stopped for {s} s"),
            Death::ReadyTimeout(s) => write!(f, "not ready after {s} s"),
            Death::InitError(l) => write!(f, "guest init failed: {l}"),
            Death::Broken(v) => write!(f, "broke the ring: {v} (host_stub)"),
            Death::Panic(l) => write!(f, "guest kernel died: {l}"),
        }
    }
}

fn sleep_interruptible(d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end && !TERMINATE.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(20).min(end - Instant::now()));
    }
}

/// Sets `stop` and interrupts KVM_RUN on every vCPU thread until all have
/// returned (a thread may miss one signal between its check of `stop` and
/// KVM_RUN, hence the repetition).
fn stop_vcpus(stop: &AtomicBool, handles: &[thread::JoinHandle<Exit>]) {
    stop.store(true, Ordering::Release);
    while handles.iter().any(|h| !h.is_finished()) {
        for h in handles.iter().filter(|h| !h.is_finished()) {
            // SAFETY: `h` is a live thread of ours, not yet joined (the
            // handle is borrowed); SIGRTMIN has a no-op handler, so this only
            // interrupts KVM_RUN.
            unsafe { libc::pthread_kill(h.as_pthread_t(), SIGRTMIN()) };
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// The `[[export]]` list in host_stub's terms, in config order (the index
/// is the position, as in ikernel-served's arguments).  Owners must have
/// been resolved ([`Config::resolve_owners`], done by [`Config::load`]).
pub fn export_requests(cfg: &Config) -> io::Result<Vec<ExportReq>> {
    let bad = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
    cfg.export
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let name = e.host_name.get_ref().clone();
            let (uid, gid) = e
                .ids
                .ok_or_else(|| bad(format!("export {name}: owner not resolved")))?;
            let ioctls = e
                .ioctl
                .iter()
                .map(|io| {
                    Ok(IkIoctlDesc {
                        cmd: u32::try_from(*io.cmd.get_ref())
                            .map_err(|_| bad(format!("export {name}: ioctl cmd too large")))?,
                        dir: io.dir_code(),
                        size: u16::try_from(*io.size.get_ref())
                            .map_err(|_| bad(format!("export {name}: ioctl size too large")))?,
                    })
                })
                .collect::<io::Result<Vec<_>>>()?;
            Ok(ExportReq {
                index: u32::try_from(i).map_err(io::Error::other)?,
                mode: *e.mode.get_ref(),
                uid,
                gid,
                timeout_ms: u32::try_from(*e.timeout_ms.get_ref())
                    .map_err(|_| bad(format!("export {name}: timeout_ms too large")))?,
                reopen: e.reopen,
                ioctls,
                name,
                guest_path: e.guest_path.get_ref().clone(),
                vm_name: cfg.vm_name(),
            })
        })
        .collect()
}

/// The `[[netdev]]` list in host_stub's terms: indices follow the
/// `[[export]]` nodes, as on ikernel-served's command line.
pub fn net_export_requests(cfg: &Config) -> io::Result<Vec<NetExportReq>> {
    cfg.netdev
        .iter()
        .enumerate()
        .map(|(i, n)| {
            Ok(NetExportReq {
                name: n.host_name.get_ref().clone(),
                index: u32::try_from(cfg.export.len() + i).map_err(io::Error::other)?,
                mtu: *n.mtu.get_ref(),
                guest_if: n.guest_if.get_ref().clone(),
                vm_name: cfg.vm_name(),
            })
        })
        .collect()
}

/// The host nodes of `names`, for a status line (`none` without exports).
fn export_list(names: &[ExportName]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names
        .iter()
        .map(|n| {
            if n.guest.starts_with(crate::config::NET_NODE_PREFIX) {
                format!("{} (net)", n.host)
            } else {
                format!("/dev/{}", n.host)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Hands every export to host_stub, in order, the net interfaces then the
/// nodes; the first failure ends it.
fn export_all(
    cfg: &Config,
    chan: &Channel,
    reqs: &[ExportReq],
    nets: &[NetExportReq],
) -> io::Result<()> {
    if reqs.is_empty() && nets.is_empty() {
        return Ok(());
    }
    if !chan.has_host_stub() {
        info!(
            "no host_stub (local window): not exporting {} node(s) and {} interface(s)",
            reqs.len(),
            nets.len()
        );
        return Ok(());
    }
    for n in nets {
        let ifindex = chan.export_net(n).map_err(|err| {
            io::Error::new(
                err.kind(),
                format!(
                    "IKERNEL_IOC_EXPORT_NET {} (index {}, mtu {}) -> guest {}: {err}",
                    n.name, n.index, n.mtu, n.guest_if
                ),
            )
        })?;
        info!(
            "exported interface {} (ifindex {ifindex}) -> guest {}",
            n.name, n.guest_if
        );
    }
    for (r, e) in reqs.iter().zip(&cfg.export) {
        let minor = chan.export(r).map_err(|err| {
            let hint = if err.raw_os_error() == Some(libc::ENOTTY) {
                " (this host_stub has no export ioctl: load a current ikernel_host.ko)"
            } else {
                ""
            };
            io::Error::new(
                err.kind(),
                format!(
                    "IKERNEL_IOC_EXPORT /dev/{} (index {}) -> guest {}: {err}{hint}",
                    r.name,
                    r.index,
                    e.guest_path.get_ref()
                ),
            )
        })?;
        info!(
            "exported /dev/{} (minor {minor}) -> guest {}",
            r.name,
            e.guest_path.get_ref()
        );
    }
    Ok(())
}

/// One export as the shim's log names it: host node and guest path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportName {
    pub host: String,
    pub guest: String,
}

/// The `[[export]]` then `[[netdev]]` lists' names, in config order (=
/// export index).
pub fn export_names(cfg: &Config) -> Vec<ExportName> {
    cfg.export
        .iter()
        .map(|e| ExportName {
            host: e.host_name.get_ref().clone(),
            guest: e.guest_path.get_ref().clone(),
        })
        .chain(cfg.netdev.iter().map(|n| ExportName {
            host: n.host_name.get_ref().clone(),
            guest: n.served_node(),
        }))
        .collect()
}

/// The tail of the READY line: how many exports the guest serves and
/// which are missing, from `present` (one flag per export, in order).
pub fn describe_exports(names: &[ExportName], present: &[bool]) -> String {
    let served = present.iter().filter(|&&p| p).count();
    let missing: Vec<String> = names
        .iter()
        .zip(present)
        .filter(|(_, &p)| !p)
        .map(|(n, _)| format!("{} (guest {})", n.host, n.guest))
        .collect();
    if missing.is_empty() {
        format!("exports: all {served} served")
    } else {
        format!(
            "exports: {served} of {} served, missing: {}",
            names.len(),
            missing.join(", ")
        )
    }
}

/// One log line for every export whose guest node appeared or went away
/// between the reports `before` and `now`.
pub fn export_changes(names: &[ExportName], before: &[bool], now: &[bool]) -> Vec<String> {
    names
        .iter()
        .zip(before.iter().zip(now))
        .filter(|(_, (b, n))| b != n)
        .map(|(e, (_, &n))| {
            if n {
                format!("export {}: guest node {} appeared, served", e.host, e.guest)
            } else {
                format!(
                    "export {}: guest node {} missing, opens fail with ENODEV",
                    e.host, e.guest
                )
            }
        })
        .collect()
}

/// The guest's consistent exports report as one flag per export, or `None`
/// while it has not reported (or is rewriting its report).
fn presence(chan: &Channel, n: usize) -> Option<(Vec<bool>, bool)> {
    let count = u32::try_from(n).ok()?;
    match chan.exports(count) {
        ExportsReport::Reported(s) => Some(((0..count).map(|i| s.present(i)).collect(), s.stray)),
        ExportsReport::NotReported | ExportsReport::Changing => None,
    }
}

/// Exit status of `run` when the config has exports and host_stub is not
/// loaded (and `--no-host-stub` was not given).
pub const EXIT_NO_HOST_STUB: i32 = 3;

/// How `run` uses host_stub: never with `--no-host-stub`; required when
/// there are exports (without host_stub there would be no host nodes: a
/// service that silently serves nothing); else when it is there.
pub fn host_stub_use(cfg: &Config, no_host_stub: bool) -> HostStubUse {
    if no_host_stub {
        HostStubUse::Never
    } else if !cfg.has_exports() {
        HostStubUse::Prefer
    } else {
        HostStubUse::Require
    }
}

/// Exit status of `run` when another shim holds a host node name or host
/// ports of the config.
pub const EXIT_CONFLICT: i32 = 4;

/// The host resources `run` holds against other shims: the node and
/// interface names it will export (only with host_stub: without it there
/// are none), the ports and the PCI functions it hands through.
pub fn host_resources(cfg: &Config, hs_use: HostStubUse) -> Vec<Resource> {
    let nodes = cfg
        .export
        .iter()
        .filter(|_| hs_use != HostStubUse::Never)
        .map(|e| Resource::Node(e.host_name.get_ref().clone()));
    // CAST: validation keeps base + count at most 0x10000.
    let ports = cfg.ports.iter().map(|p| Resource::Ports {
        base: *p.base.get_ref() as u32,
        count: *p.count.get_ref() as u32,
    });
    let pci = cfg
        .pci
        .iter()
        .map(|d| Resource::Pci(d.host.get_ref().to_ascii_lowercase()));
    let nets = cfg
        .netdev
        .iter()
        .filter(|_| hs_use != HostStubUse::Never)
        .map(|n| Resource::Netdev(n.host_name.get_ref().clone()));
    nodes.chain(ports).chain(pci).chain(nets).collect()
}

/// The error of a config with exports without host_stub.
fn no_host_stub_message(cfg: &Config, why: &str) -> String {
    let names: Vec<&str> = cfg
        .export
        .iter()
        .map(|e| e.host_name.get_ref().as_str())
        .collect();
    let ifs: Vec<&str> = cfg
        .netdev
        .iter()
        .map(|n| n.host_name.get_ref().as_str())
        .collect();
    format!(
        "host_stub is not loaded ({why}), and the config exports {} node(s) ({}) and {} \
         interface(s) ({}) that only it can create: load it (`modprobe ikernel_host`, or \
         `insmod host_stub/ikernel_host.ko` from the source tree), or run with --no-host-stub \
         to boot the driver VM without exports",
        names.len(),
        names.join(", "),
        ifs.len(),
        ifs.join(", ")
    )
}

/// The `exit` event of a shim that stops before its first boot; returns
/// `status`.
fn exit_before_boot(events: &mut Events, reason: &'static str, status: i32) -> i32 {
    events.emit(Event::Exit {
        generation: 0,
        reason,
        status,
    });
    status
}

/// Boots and supervises; returns the process exit code.
pub fn run(cfg: &Config, opts: &RunOpts) -> io::Result<i32> {
    install_signals()?;
    if notify::init()? {
        info!("notifying the service manager ($NOTIFY_SOCKET)");
    }
    let mut events = Events::open(opts.events.as_deref())?;
    let hs_use = host_stub_use(cfg, opts.no_host_stub);
    // Fail at once, not after building the image.
    if hs_use == HostStubUse::Require && !std::path::Path::new(HOST_STUB_DEV).exists() {
        error!(
            "{}",
            no_host_stub_message(cfg, &format!("{HOST_STUB_DEV} does not exist"))
        );
        return Ok(exit_before_boot(
            &mut events,
            "no_host_stub",
            EXIT_NO_HOST_STUB,
        ));
    }
    let vm_name = cfg.vm_name();
    // Held until run returns, which removes them (through descriptors kept
    // open, so under the sandbox too); the kernel drops them if the shim
    // dies.
    let locks = match Locks::take(&run_dir(), &vm_name, &host_resources(cfg, hs_use)) {
        Ok(l) => l,
        Err(e) if is_conflict(&e) => {
            error!("{e}");
            return Ok(exit_before_boot(&mut events, "conflict", EXIT_CONFLICT));
        }
        Err(e) => return Err(e),
    };
    let held: Vec<String> = locks.paths().map(|p| p.display().to_string()).collect();
    if !held.is_empty() {
        info!("host resources locked: {}", held.join(", "));
    }
    let config_name = opts.config.to_string_lossy();
    let img = image::build(cfg, opts.rebuild_image)?;
    // Read once: every generation boots these bytes, so an image built in
    // a private directory (untrusted cache) is not needed on disk after.
    let initrd = std::fs::read(&img.path);
    img.remove_private();
    let initrd = initrd?;
    let exports = export_requests(cfg)?;
    let nets = net_export_requests(cfg)?;
    let names = export_names(cfg);
    events.emit(Event::Start {
        pid: std::process::id(),
        name: &vm_name,
        config: &config_name,
        exports: names.iter().map(|n| n.host.as_str()).collect(),
        window_gpa: *cfg.window.gpa.get_ref(),
        window_size: *cfg.window.size.get_ref(),
    });
    // Exports belong to the channel: made once, on the first ready, they
    // survive restarts.
    let mut exported = false;
    let mut fatal: Option<io::Error> = None;
    let port_ranges: Vec<(u16, u16)> = cfg
        .ports
        .iter()
        .map(|p| (*p.base.get_ref() as u16, *p.count.get_ref() as u16))
        .collect();

    let mut chan = match Channel::open(
        *cfg.window.size.get_ref(),
        *cfg.window.ring_entries.get_ref(),
        hs_use,
    ) {
        Ok(c) => c,
        Err(e) if is_no_host_stub(&e) => {
            error!("{}", no_host_stub_message(cfg, &e.to_string()));
            return Ok(exit_before_boot(
                &mut events,
                "no_host_stub",
                EXIT_NO_HOST_STUB,
            ));
        }
        Err(e) => return Err(e),
    };
    info!(
        "window {:#x}+{:#x} ({}), doorbell port {:#x}, irq {}",
        cfg.window.gpa.get_ref(),
        cfg.window.size.get_ref(),
        if chan.has_host_stub() {
            "host_stub"
        } else {
            "local, no host_stub"
        },
        cfg.window.doorbell_port.get_ref(),
        cfg.window.irq.get_ref()
    );
    let log_path = cfg.console_log();
    // A fresh host (e.g. /var/log/ikernel after make install) may lack the
    // console log's directory.
    if let Some(dir) = log_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
    }
    // Everything a generation needs from the file system, opened or read
    // once: from here on the shim opens no file (sandbox.rs), and every
    // generation gets the same kernel.
    let kvm =
        kvm_ioctls::Kvm::new().map_err(|e| io::Error::other(format!("open /dev/kvm: {e}")))?;
    let kernel_path = cfg.kernel();
    let kernel = std::fs::read(&kernel_path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", kernel_path.display())))?;
    let console_log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", log_path.display())))?;
    // ioperm (or /dev/port) once: the vCPU threads of every generation
    // inherit the main thread's I/O permission bitmap, so the shim needs
    // CAP_SYS_RAWIO only here.
    let ports = if port_ranges.is_empty() {
        None
    } else {
        let p = Ports::open(&port_ranges)?;
        info!(
            "port hand-through via {}: {:x?}",
            p.mechanism(),
            port_ranges
        );
        Some(Arc::new(p))
    };
    // PCI functions to hand through: opened, their BARs mapped and INTx
    // armed once, for every generation (vfio.rs).
    let pci = crate::vfio::HandThrough::open(cfg)?.map(Arc::new);
    // Set-up is complete: no capability is needed any more (the ports are
    // granted, every file is open), and what follows needs only the
    // syscalls of sandbox.rs.  Only this thread exists (the vCPU threads
    // come next), and the filters are synchronised to all threads anyway.
    // With lock files the runtime directory becomes the root, so that the
    // filters can let their removal at exit through (sandbox.rs).
    // The driver VM's RAM, one memfd for every generation (the sandbox
    // forbids making one later).
    let ram = crate::vm::GuestRam::new(cfg.memory_bytes())
        .map_err(|e| io::Error::new(e.kind(), format!("guest RAM memfd: {e}")))?;
    let confined = sandbox::confine(opts.seccomp, 0, locks.exit_fds())?;
    info!("{confined}");
    let r = &cfg.restart;
    let mut backoff = Duration::from_millis(*r.backoff_initial_ms.get_ref());
    let backoff_max = Duration::from_millis(*r.backoff_max_ms.get_ref());
    let dying_grace = Duration::from_secs(*r.dying_grace_s.get_ref());
    let window_s = *r.restart_window_s.get_ref();
    let mut budget = RestartBudget::new(r.max_restarts, window_s);
    let started = Instant::now();
    #[cfg(feature = "test-hooks")]
    let mut readies = 0u32;
    let mut generation = 0u32;
    let mut down_at: Option<Instant> = None;
    // Why the shim stops without a death, for the exit event.
    #[cfg_attr(not(feature = "test-hooks"), allow(unused_mut))]
    let mut exit_reason = "signal";

    loop {
        generation = generation.wrapping_add(1).max(1);
        #[cfg(feature = "test-hooks")]
        let test_panic = opts.hooks.panic_generation == Some(generation);
        #[cfg(not(feature = "test-hooks"))]
        let test_panic = false;
        let cmdline = guest_cmdline(cfg, test_panic);
        let mut log = console_log
            .try_clone()
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", log_path.display())))?;
        writeln!(
            log,
            "\n===== ivt-shim: generation {generation} starting; cmdline: {cmdline}"
        )?;
        chan.set_state(VmState::Booting, generation)?;
        events.emit(Event::Booting { generation });
        notify::status(&format!("generation {generation}: booting"));
        let t0 = Instant::now();
        let mut vm = Vm::new(
            &kvm,
            cfg,
            (&kernel, &initrd),
            &cmdline,
            chan.mapping(),
            log,
            Passed {
                ports: ports.clone(),
                pci: pci.as_ref(),
                ram: &ram,
            },
        )?;
        chan.bind_doorbells(&vm.kick, &vm.call)?;
        if !chan.set_ram(&ram, ram.size(), generation)? && generation == 1 {
            info!("host_stub takes no guest RAM: exported nodes cannot be mapped");
        }
        let console = vm.console.clone();
        info!(
            "generation {generation}: booting {} ({} MiB){}",
            cfg.kernel().display(),
            cfg.vm.memory_mib.get_ref(),
            if test_panic {
                ", test panic requested"
            } else {
                ""
            }
        );

        let stop = Arc::new(AtomicBool::new(false));
        let mut handles = Vec::new();
        for (id, mut vcpu) in vm.take_vcpus().into_iter().enumerate() {
            let stop2 = stop.clone();
            let dev = vm.devices.clone();
            let h = thread::Builder::new()
                .name(format!("vcpu{id}-gen{generation}"))
                .spawn(move || {
                    let e = run_vcpu(&mut vcpu, &dev, &stop2);
                    drop(vcpu);
                    e
                });
            match h {
                Ok(h) => handles.push(h),
                Err(e) => {
                    stop_vcpus(&stop, &handles);
                    for h in handles {
                        let _ = h.join();
                    }
                    return Err(e);
                }
            }
        }

        let mut ready_at: Option<Instant> = None;
        // The guest's exports report as last logged, one flag per export.
        let mut seen: Option<Vec<bool>> = None;
        // Set only by the hang test hook.
        #[cfg_attr(not(feature = "test-hooks"), allow(unused_mut))]
        let mut frozen = false;
        let mut hb = (0u32, Instant::now());
        // The console's Oops or panic line, and when it came.
        let mut dying: Option<(String, Instant)> = None;
        let death = loop {
            thread::sleep(Duration::from_millis(20));
            if TERMINATE.load(Ordering::SeqCst) {
                break None;
            }
            if !frozen && handles.iter().any(|h| h.is_finished()) {
                break Some(Death::Exit(Exit::Error("vCPU thread ended".into())));
            }
            if let Some(l) = console.lock().ok().and_then(|c| c.error.clone()) {
                break Some(Death::InitError(l));
            }
            if let Some((l, at)) = &dying {
                // Let the guest finish its report and reboot itself (a
                // triple fault ends the loop above), for dying_grace_s at
                // most: the restart waits for it.
                if at.elapsed() >= dying_grace {
                    break Some(Death::Panic(l.clone()));
                }
                continue;
            }
            if let Some(l) = console.lock().ok().and_then(|c| c.fatal.clone()) {
                // The guest kernel is dying (oops=panic): fail the waiters
                // now, not when the report has crawled out of the UART.
                info!("generation {generation}: guest kernel dying: {l}");
                if let Err(e) = chan.set_state(VmState::Down, generation) {
                    warn!("SET_STATE DOWN: {e}");
                }
                dying = Some((l, Instant::now()));
                continue;
            }
            match ready_at {
                None => {
                    let ready = match r.ready {
                        ReadyMode::Window => chan.guest_ready(),
                        ReadyMode::Console => console.lock().map(|c| c.ready).unwrap_or(false),
                    };
                    // With exports, ready also means that the guest said
                    // which of them it serves (the window's report; the
                    // console mode is for bring-up without it).
                    let report = presence(&chan, names.len());
                    let ready = ready
                        && (names.is_empty() || r.ready == ReadyMode::Console || report.is_some());
                    if ready {
                        let now = Instant::now();
                        ready_at = Some(now);
                        #[cfg(feature = "test-hooks")]
                        {
                            readies += 1;
                        }
                        let boot = now - t0;
                        let what = match &report {
                            _ if names.is_empty() => String::new(),
                            Some((p, _)) => format!("; {}", describe_exports(&names, p)),
                            None => "; exports: not reported (ready = console)".into(),
                        };
                        let restart_s = down_at.take().map(|d| (now - d).as_secs_f64());
                        match restart_s {
                            Some(d) => info!(
                                "generation {generation}: READY, boot-to-ready {:.3} s, down-to-ready (restart) {d:.3} s{what}",
                                boot.as_secs_f64(),
                            ),
                            None => info!("generation {generation}: READY, boot-to-ready {:.3} s{what}", boot.as_secs_f64()),
                        }
                        if report.as_ref().is_some_and(|(_, stray)| *stray) {
                            warn!("generation {generation}: the guest reported exports beyond the {} configured (ignored)", names.len());
                        }
                        chan.set_state(VmState::Running, generation)?;
                        let host = chan.get_state();
                        if let Some(s) = host {
                            info!(
                                "host_stub GET_STATE: state {} generation {} guest_state {} heartbeat {}",
                                s.state, s.generation, s.guest_state, s.heartbeat
                            );
                        }
                        let listed =
                            |want| report.as_ref().map(|(p, _)| names_where(&names, p, want));
                        events.emit(Event::Ready {
                            generation,
                            boot_to_ready_s: boot.as_secs_f64(),
                            down_to_ready_s: restart_s,
                            served: listed(true),
                            missing: listed(false),
                            host: host.map(HostView::from),
                        });
                        seen = report.map(|(p, _)| p);
                        if !exported {
                            exported = true;
                            if let Err(e) = export_all(cfg, &chan, &exports, &nets) {
                                fatal = Some(e);
                                break None;
                            }
                            // Every export's host node exists now.
                            notify::send(&format!(
                                "READY=1\nSTATUS=generation {generation}: running; exports: {}",
                                export_list(&names)
                            ));
                        } else {
                            notify::status(&format!(
                                "generation {generation}: running again; exports: {}",
                                export_list(&names)
                            ));
                        }
                        hb = (chan.heartbeat(), now);
                        backoff = Duration::from_millis(*r.backoff_initial_ms.get_ref());
                        #[cfg(feature = "test-hooks")]
                        if opts.hooks.hang_generation == Some(generation) {
                            info!("generation {generation}: test hook: freezing the vCPUs");
                            frozen = true;
                            stop_vcpus(&stop, &handles);
                        }
                        #[cfg(feature = "test-hooks")]
                        if opts.hooks.exit_after_ready != 0
                            && readies >= opts.hooks.exit_after_ready
                        {
                            exit_reason = "exit_after_ready";
                            TERMINATE.store(true, Ordering::SeqCst);
                        }
                    } else {
                        let t = *r.ready_timeout_s.get_ref();
                        if t != 0 && t0.elapsed() > Duration::from_secs(t) {
                            break Some(Death::ReadyTimeout(t));
                        }
                    }
                }
                Some(_) => {
                    if let Some(v) = chan.broken() {
                        break Some(Death::Broken(v));
                    }
                    // A node that appears later (slow set-up, a module
                    // loaded on demand) is served without a restart; say so.
                    if let Some((now, _)) = presence(&chan, names.len()) {
                        if let Some(before) = &seen {
                            let changes = export_changes(&names, before, &now);
                            for l in &changes {
                                info!("generation {generation}: {l}");
                            }
                            if !changes.is_empty() {
                                events.emit(Event::Exports {
                                    generation,
                                    served: names_where(&names, &now, true),
                                    missing: names_where(&names, &now, false),
                                });
                            }
                        } else if !names.is_empty() {
                            info!(
                                "generation {generation}: {}",
                                describe_exports(&names, &now)
                            );
                            events.emit(Event::Exports {
                                generation,
                                served: names_where(&names, &now, true),
                                missing: names_where(&names, &now, false),
                            });
                        }
                        seen = Some(now);
                    }
                    if r.heartbeat_timeout_s != 0 {
                        let b = chan.heartbeat();
                        if b != hb.0 {
                            hb = (b, Instant::now());
                        } else if hb.1.elapsed() > Duration::from_secs(r.heartbeat_timeout_s) {
                            break Some(Death::Hang(r.heartbeat_timeout_s));
                        }
                    }
                }
            }
        };

        // What host_stub saw (a broken ring's violation, the last kicks),
        // before the state below changes it.
        let host_at_death = chan.get_state().map(HostView::from);
        // Down at once: host_stub fails waiters before we tear the VM down.
        if death.is_some() || fatal.is_some() || TERMINATE.load(Ordering::SeqCst) {
            if let Err(e) = chan.set_state(VmState::Down, generation) {
                warn!("SET_STATE DOWN: {e}");
            }
        }
        let now = Instant::now();
        // Every vCPU stops and is joined before the VM is dropped.
        stop_vcpus(&stop, &handles);
        let mut exit = None;
        for (id, h) in handles.into_iter().enumerate() {
            let e = h
                .join()
                .unwrap_or(Exit::Error("vCPU thread panicked".into()));
            if e != Exit::Stopped && exit.is_none() {
                exit = Some((id, e));
            }
        }
        // No DMA into, and no device state from, the RAM about to go.
        if let Some(p) = &pci {
            p.detach();
        }
        drop(vm);
        let death = match (death, exit) {
            (Some(Death::Exit(_)), Some((id, e))) if !frozen => {
                if cfg.vm.vcpus.get_ref() > &1 {
                    info!("generation {generation}: vCPU {id} exited first");
                }
                Some(Death::Exit(e))
            }
            (d, _) => d,
        };
        let exit = |events: &mut Events, reason, status| {
            events.emit(Event::Exit {
                generation,
                reason,
                status,
            });
        };
        if let Some(e) = fatal {
            info!("generation {generation}: shut down (export failed)");
            exit(&mut events, "export_failed", 1);
            return Err(e);
        }
        let Some(death) = death else {
            notify::send("STOPPING=1\nSTATUS=orderly shutdown");
            info!("generation {generation}: orderly shutdown (signal)");
            exit(&mut events, exit_reason, 0);
            return Ok(0);
        };
        down_at = Some(now);
        let tail = console
            .lock()
            .map(|c| {
                c.tail
                    .iter()
                    .rev()
                    .take(5)
                    .rev()
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        error!(
            "generation {generation}: DOWN after {:.3} s: {death}",
            (now - t0).as_secs_f64()
        );
        notify::status(&format!("generation {generation}: down: {death}"));
        events.emit(Event::Down {
            generation,
            after_s: (now - t0).as_secs_f64(),
            cause: death.cause(),
            detail: death.to_string(),
            host: host_at_death,
        });
        for l in tail {
            info!("  console: {l}");
        }
        if TERMINATE.load(Ordering::SeqCst) {
            exit(&mut events, "signal", 0);
            return Ok(0);
        }
        let window = if window_s == 0 {
            "over the shim's life".to_string()
        } else {
            format!("in {window_s} s")
        };
        let (restart, in_window) = match budget.on_death(now - started) {
            Decision::GiveUp { total, in_window } => {
                error!(
                    "giving up: {in_window} restarts {window} (max_restarts = {}), {total} in all",
                    r.max_restarts
                );
                notify::status(&format!(
                    "giving up: {in_window} restarts {window} (max_restarts = {})",
                    r.max_restarts
                ));
                events.emit(Event::GivingUp {
                    restarts: total,
                    max_restarts: r.max_restarts,
                    in_window,
                    restart_window_s: window_s,
                });
                exit(&mut events, "gave_up", 1);
                return Ok(1);
            }
            Decision::Restart { number, in_window } => (number, in_window),
        };
        info!(
            "restart {restart} ({in_window}/{} {window}) in {} ms",
            r.max_restarts,
            backoff.as_millis()
        );
        events.emit(Event::Restart {
            restart,
            max_restarts: r.max_restarts,
            delay_ms: u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
            in_window,
            restart_window_s: window_s,
        });
        sleep_interruptible(backoff);
        if TERMINATE.load(Ordering::SeqCst) {
            exit(&mut events, "signal", 0);
            return Ok(0);
        }
        backoff = (backoff * 2).min(backoff_max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn names() -> Vec<ExportName> {
        ["fifo", "late", "pp"]
            .iter()
            .map(|n| ExportName {
                host: format!("ik_{n}"),
                guest: format!("/dev/{n}0"),
            })
            .collect()
    }

    #[test]
    fn ready_line_names_the_missing_exports() {
        let n = names();
        assert_eq!(
            describe_exports(&n, &[true, true, true]),
            "exports: all 3 served"
        );
        assert_eq!(
            describe_exports(&n, &[true, false, true]),
            "exports: 2 of 3 served, missing: ik_late (guest /dev/late0)"
        );
        assert_eq!(
            describe_exports(&n, &[false, false, true]),
            "exports: 1 of 3 served, missing: ik_fifo (guest /dev/fifo0), ik_late (guest /dev/late0)"
        );
        assert_eq!(describe_exports(&[], &[]), "exports: all 0 served");
    }

    #[test]
    fn changes_one_line_per_export() {
        let n = names();
        assert!(export_changes(&n, &[true, false, true], &[true, false, true]).is_empty());
        assert_eq!(
            export_changes(&n, &[true, false, true], &[true, true, true]),
            vec!["export ik_late: guest node /dev/late0 appeared, served".to_string()]
        );
        assert_eq!(
            export_changes(&n, &[true, true, true], &[false, true, false]),
            vec![
                "export ik_fifo: guest node /dev/fifo0 missing, opens fail with ENODEV".to_string(),
                "export ik_pp: guest node /dev/pp0 missing, opens fail with ENODEV".to_string(),
            ]
        );
    }

    #[test]
    fn presence_from_the_window() {
        let mut c = Channel::open(256 * 1024, 16, HostStubUse::Never).expect("memfd window");
        c.set_state(VmState::Booting, 1).expect("init");
        assert_eq!(presence(&c, 3), None, "not reported yet");
        let (base, size) = c.mapping();
        // SAFETY: The channel's mapping outlives `raw`: `g`, which owns
        // it, is declared after `c` and so dropped before it.
        let raw = unsafe { ikernel_ring::user::RawWindow::new(base as *mut u8, size as usize) }
            .expect("aligned");
        let mut g =
            ikernel_ring::Guest::attach(raw, ikernel_ring::FEATURE_EVENT_IDX).expect("attach");
        let mut map = [0u32; ikernel_ring::EXPORTS_WORDS];
        map[0] = 0b1001; // export 3 is beyond the 3 configured
        g.report_exports(&map).expect("report");
        assert_eq!(presence(&c, 3), Some((vec![true, false, false], true)));
        assert_eq!(
            presence(&c, 4),
            Some((vec![true, false, false, true], false))
        );
    }

    #[test]
    fn host_stub_is_required_for_exports() {
        let head = "[vm]\nkernel='k'\nconsole_log='c'\n";
        let none = Config::parse(Path::new("t.toml"), head).expect("config");
        let with = Config::parse(
            Path::new("t.toml"),
            &format!("{head}[[export]]\nguest_path='/dev/a'\nhost_name='ik_a'\n"),
        )
        .expect("config");
        assert_eq!(host_stub_use(&none, false), HostStubUse::Prefer);
        assert_eq!(host_stub_use(&none, true), HostStubUse::Never);
        assert_eq!(host_stub_use(&with, false), HostStubUse::Require);
        assert_eq!(host_stub_use(&with, true), HostStubUse::Never);
        assert_eq!(
            host_resources(&with, HostStubUse::Require),
            vec![Resource::Node("ik_a".into())]
        );
        assert!(host_resources(&with, HostStubUse::Never).is_empty());
        let pio = Config::parse(
            Path::new("t.toml"),
            &format!("{head}[[ports]]\nbase=0x378\ncount=3\n[[ports]]\nbase=0xffff\ncount=1\n"),
        )
        .expect("config");
        let want = vec![
            Resource::Ports {
                base: 0x378,
                count: 3,
            },
            Resource::Ports {
                base: 0xffff,
                count: 1,
            },
        ];
        assert_eq!(host_resources(&pio, HostStubUse::Never), want);
        assert_eq!(host_resources(&pio, HostStubUse::Prefer), want);
        let m = no_host_stub_message(&with, "/dev/ikernel does not exist");
        for part in [
            "ik_a",
            "modprobe ikernel_host",
            "--no-host-stub",
            "/dev/ikernel",
        ] {
            assert!(m.contains(part), "{m}");
        }
    }

    #[test]
    fn export_requests_in_config_order() {
        let mut cfg = Config::parse(
            Path::new("t.toml"),
            "[vm]\nkernel='k'\nconsole_log='c'\n\
             [[export]]\nguest_path='/dev/ikfifo'\nhost_name='ik_fifo'\nmode=0o666\n\
             owner='alice:lp'\ntimeout_ms=2500\n\
               [[export.ioctl]]\ncmd=0x6b11\ndir='read'\nsize=4\n\
               [[export.ioctl]]\ncmd=0x6b12\ndir='none'\nsize=0\n\
               [[export.ioctl]]\ncmd=0x6b13\ndir='write'\nsize=8\n\
               [[export.ioctl]]\ncmd=0x6b14\ndir='rw'\nsize=16383\n\
             [[export]]\nguest_path='/dev/parport0'\nhost_name='ik_pp0'\n",
        )
        .expect("config");
        assert!(export_requests(&cfg).is_err(), "owners not resolved");
        cfg.resolve_owners(
            "root:x:0:0::/:/bin/sh\nalice:x:1000:1000::/:/bin/sh\n",
            "root:x:0:\nlp:x:7:\n",
        )
        .expect("owners");
        let r = export_requests(&cfg).expect("requests");
        assert_eq!(r.len(), 2);
        assert_eq!(
            r[0],
            ExportReq {
                name: "ik_fifo".into(),
                index: 0,
                mode: 0o666,
                uid: 1000,
                gid: 7,
                timeout_ms: 2500,
                reopen: false,
                ioctls: vec![
                    IkIoctlDesc {
                        cmd: 0x6b11,
                        dir: 2,
                        size: 4
                    },
                    IkIoctlDesc {
                        cmd: 0x6b12,
                        dir: 0,
                        size: 0
                    },
                    IkIoctlDesc {
                        cmd: 0x6b13,
                        dir: 1,
                        size: 8
                    },
                    IkIoctlDesc {
                        cmd: 0x6b14,
                        dir: 3,
                        size: 16383
                    },
                ],
                guest_path: "/dev/ikfifo".into(),
                vm_name: "t".into(),
            }
        );
        assert_eq!(
            r[1],
            ExportReq {
                name: "ik_pp0".into(),
                index: 1,
                mode: 0o600,
                uid: 0,
                gid: 0,
                timeout_ms: 0,
                reopen: false,
                ioctls: Vec::new(),
                guest_path: "/dev/parport0".into(),
                vm_name: "t".into(),
            }
        );
    }
}
