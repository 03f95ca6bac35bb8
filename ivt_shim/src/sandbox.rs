// SPDX-License-Identifier: GPL-2.0

//! Least privilege for `ivt-shim run`: once set-up is done, the shim drops
//! the capabilities it no longer needs and confines itself with a seccomp
//! filter, so that a bug in its handling of guest input (port I/O, the
//! UART, the window) does not hand the guest a root process.
//!
//! Set-up opens everything a driver VM's life needs (`/dev/kvm`,
//! `/dev/ikernel`, the console log, the events file, the host ports, the
//! lock files) and reads the kernel and the image; after that a restart
//! only creates: a KVM VM, guest memory, vCPU threads and eventfds.  So the
//! filter allows, on x86_64:
//!
//! - memory: `brk`, `mmap` and `mprotect` without `PROT_EXEC`, `munmap`,
//!   `mremap`, `madvise`;
//! - threads: `clone` of threads only (`CLONE_THREAD`), `set_robust_list`,
//!   `rseq`, `futex`, `sched_yield`, `sched_getaffinity`, `gettid`,
//!   `getpid`, `prctl(PR_SET_NAME)`, `exit`, `exit_group`;
//! - signals: `rt_sigaction`, `rt_sigprocmask`, `rt_sigreturn`,
//!   `sigaltstack`, `restart_syscall`, `tgkill` to the shim's own threads;
//! - time: `clock_gettime`, `clock_getres`, `gettimeofday`,
//!   `clock_nanosleep`, `nanosleep`;
//! - descriptors already open: `read`, `write`, `writev`, `pread64`,
//!   `pwrite64`, `fstat`, `close`, `fcntl` (dup and flags only),
//!   `eventfd2`, `getrandom`, and `ioctl` with the KVM, host_stub and
//!   VFIO requests the shim makes ([`allowed_ioctls`]);
//! - under a service manager: `sendto` on the notification socket alone
//!   (`notify.rs`);
//! - with lock files (`locks.rs`), for their removal at exit: `flock` on
//!   `registry.lock`'s descriptor alone, and `unlinkat(dir, NAME, 0)` on
//!   the runtime directory's descriptor alone (see below).
//!
//! Anything else kills the shim with `SIGSYS` (`--seccomp enforce`, the
//! default), or is allowed and logged by the kernel (`--seccomp log`, to
//! find a missing syscall in `dmesg` or the audit log).  Two kinds of
//! calls fail with an error instead, in both modes, because library code
//! makes them and copes with a failure: every path lookup (`openat`,
//! `stat`, `unlink`, ...: `EPERM`; the shim opens no file after set-up,
//! glibc's malloc may try to read `/proc/sys/vm/overcommit_memory`), and
//! `clone3` (`ENOSYS`, on which glibc creates threads with `clone`, whose
//! flags the filter can check).
//!
//! The one path lookup let through is that `unlinkat`.  A filter sees its
//! descriptor and flags but not the name, and an absolute name or one
//! with `..` would leave the directory; so before the filters the shim
//! makes the runtime directory its root (`fchdir`, `chroot(".")`, with
//! `CAP_SYS_CHROOT`, dropped right after).  Every name then resolves
//! inside it: a compromised shim could remove files of the runtime
//! directory (other shims' lock files or events files), nothing else.
//! Where the shim cannot `chroot` (no capability), `unlinkat` stays
//! `EPERM` and its lock files stay behind, unlocked, until the next shim
//! replaces them.
//!
//! The filters go to every thread (`SECCOMP_FILTER_FLAG_TSYNC`) with
//! `no_new_privs`; the vCPU threads of later generations inherit them.
//! The shim stays uid 0: its files (console log, events, lock files) may
//! be root's, and with no capabilities, `no_new_privs` and no `execve`,
//! uid 0 alone gives nothing back.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::mem::size_of;
use std::os::fd::RawFd;

use kvm_bindings::{
    kvm_cpuid2, kvm_fpu, kvm_ioeventfd, kvm_irq_routing, kvm_irqfd, kvm_lapic_state, kvm_mp_state,
    kvm_pit_config, kvm_regs, kvm_sregs, kvm_userspace_memory_region,
};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};
use vmm_sys_util::ioctl::{ioctl_expr, _IOC_NONE, _IOC_READ, _IOC_WRITE};

use crate::locks::ExitFds;

/// `--seccomp`: what happens to a syscall that is not on the list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// It kills the shim (SIGSYS); capabilities are dropped.
    #[default]
    Enforce,
    /// The kernel allows and logs it (SECCOMP_RET_LOG: dmesg, audit);
    /// capabilities are dropped.
    Log,
    /// No filter, and every capability kept.
    Off,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Enforce => "enforce",
            Mode::Log => "log",
            Mode::Off => "off",
        })
    }
}

const KVMIO: u32 = 0xAE;

fn kvm_io(nr: u32) -> u64 {
    ioctl_expr(_IOC_NONE, KVMIO, nr, 0)
}

fn kvm_ior<T>(nr: u32) -> u64 {
    // CAST: every argument type here is far below the 14-bit size field.
    ioctl_expr(_IOC_READ, KVMIO, nr, size_of::<T>() as u32)
}

fn kvm_iow<T>(nr: u32) -> u64 {
    // CAST: as in `kvm_ior`.
    ioctl_expr(_IOC_WRITE, KVMIO, nr, size_of::<T>() as u32)
}

fn kvm_iowr<T>(nr: u32) -> u64 {
    // CAST: as in `kvm_ior`.
    ioctl_expr(_IOC_READ | _IOC_WRITE, KVMIO, nr, size_of::<T>() as u32)
}

/// The ioctl requests a generation makes, by name: the KVM ones of
/// `Vm::new` and `run_vcpu` (through kvm-ioctls), and host_stub's of the
/// supervision loop.  `IKERNEL_IOC_VERSION` and `_CREATE_WINDOW` come
/// only before the filter.
pub fn allowed_ioctls() -> Vec<(&'static str, u64)> {
    use ikernel_ring::uapi;
    vec![
        // /dev/kvm
        ("KVM_CREATE_VM", kvm_io(0x01)),
        ("KVM_CHECK_EXTENSION", kvm_io(0x03)),
        ("KVM_GET_VCPU_MMAP_SIZE", kvm_io(0x04)),
        ("KVM_GET_SUPPORTED_CPUID", kvm_iowr::<kvm_cpuid2>(0x05)),
        // VM
        ("KVM_CREATE_VCPU", kvm_io(0x41)),
        (
            "KVM_SET_USER_MEMORY_REGION",
            kvm_iow::<kvm_userspace_memory_region>(0x46),
        ),
        ("KVM_SET_TSS_ADDR", kvm_io(0x47)),
        ("KVM_SET_IDENTITY_MAP_ADDR", kvm_iow::<u64>(0x48)),
        ("KVM_CREATE_IRQCHIP", kvm_io(0x60)),
        ("KVM_SET_GSI_ROUTING", kvm_iow::<kvm_irq_routing>(0x6a)),
        ("KVM_IRQFD", kvm_iow::<kvm_irqfd>(0x76)),
        ("KVM_CREATE_PIT2", kvm_iow::<kvm_pit_config>(0x77)),
        ("KVM_IOEVENTFD", kvm_iow::<kvm_ioeventfd>(0x79)),
        // vCPU
        ("KVM_RUN", kvm_io(0x80)),
        ("KVM_SET_REGS", kvm_iow::<kvm_regs>(0x82)),
        ("KVM_GET_SREGS", kvm_ior::<kvm_sregs>(0x83)),
        ("KVM_SET_SREGS", kvm_iow::<kvm_sregs>(0x84)),
        ("KVM_SET_FPU", kvm_iow::<kvm_fpu>(0x8d)),
        ("KVM_GET_LAPIC", kvm_ior::<kvm_lapic_state>(0x8e)),
        ("KVM_SET_LAPIC", kvm_iow::<kvm_lapic_state>(0x8f)),
        ("KVM_SET_CPUID2", kvm_iow::<kvm_cpuid2>(0x90)),
        ("KVM_SET_MP_STATE", kvm_iow::<kvm_mp_state>(0x99)),
        // /dev/ikernel
        (
            "IKERNEL_IOC_BIND_DOORBELLS",
            u64::from(uapi::IOC_BIND_DOORBELLS),
        ),
        ("IKERNEL_IOC_SET_STATE", u64::from(uapi::IOC_SET_STATE)),
        ("IKERNEL_IOC_GET_STATE", u64::from(uapi::IOC_GET_STATE)),
        ("IKERNEL_IOC_GUEST_RAM", u64::from(uapi::IOC_GUEST_RAM)),
        ("IKERNEL_IOC_EXPORT", u64::from(uapi::IOC_EXPORT)),
        ("IKERNEL_IOC_EXPORT_NET", u64::from(uapi::IOC_EXPORT_NET)),
        // VFIO (`[[pci]]`, vfio.rs): per generation, on the container and
        // device descriptors opened at set-up.  Without them the numbers
        // mean nothing to the shim's other descriptors.
        ("VFIO_DEVICE_SET_IRQS", vfio_io(10)),
        ("VFIO_DEVICE_RESET", vfio_io(11)),
        ("VFIO_IOMMU_MAP_DMA", vfio_io(13)),
        ("VFIO_IOMMU_UNMAP_DMA", vfio_io(14)),
    ]
}

/// VFIO's requests are `_IO(';', 100 + n)` whatever their argument.
fn vfio_io(n: u32) -> u64 {
    ioctl_expr(_IOC_NONE, u32::from(b';'), 100 + n, 0)
}

/// The syscalls that fail with `EPERM`: path lookups.  After set-up the
/// shim opens and inspects no file; library code that tries (glibc's
/// malloc reads `/proc/sys/vm/overcommit_memory` once) gets an error it
/// handles.  The one exception, `unlinkat` of the lock files, is
/// [`LockExit::unlink_in`].
const PATH_LOOKUPS: &[i64] = &[
    libc::SYS_open,
    libc::SYS_openat,
    libc::SYS_openat2,
    libc::SYS_creat,
    libc::SYS_stat,
    libc::SYS_lstat,
    libc::SYS_newfstatat,
    libc::SYS_statx,
    libc::SYS_access,
    libc::SYS_faccessat,
    libc::SYS_faccessat2,
    libc::SYS_readlink,
    libc::SYS_readlinkat,
    libc::SYS_unlink,
    libc::SYS_unlinkat,
];

fn cond(arg: u8, op: SeccompCmpOp, value: u64) -> Result<SeccompCondition, seccompiler::Error> {
    Ok(SeccompCondition::new(
        arg,
        SeccompCmpArgLen::Dword,
        op,
        value,
    )?)
}

fn rule(c: Vec<SeccompCondition>) -> Result<SeccompRule, seccompiler::Error> {
    Ok(SeccompRule::new(c)?)
}

/// One rule per value: argument `arg` equals one of `values`.
fn one_of(arg: u8, values: &[u64]) -> Result<Vec<SeccompRule>, seccompiler::Error> {
    values
        .iter()
        .map(|&v| rule(vec![cond(arg, SeccompCmpOp::Eq, v)?]))
        .collect()
}

/// What the filters let the lock files' removal at exit (locks.rs) do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockExit {
    /// `flock` on this descriptor (`registry.lock`) alone.
    pub registry: RawFd,
    /// `unlinkat(fd, NAME, 0)` on this descriptor alone, which must be the
    /// process's root ([`root_at`]); `None`: `unlinkat` is `EPERM`.
    pub unlink_in: Option<RawFd>,
}

/// The allow-list: syscall number -> rules (empty: any arguments).  `pid`
/// is the shim's: `tgkill` may signal only its threads.
fn allow_list(
    pid: u32,
    locks: Option<LockExit>,
) -> Result<BTreeMap<i64, Vec<SeccompRule>>, seccompiler::Error> {
    let any = Vec::new;
    // PROT_EXEC: nothing the shim maps after set-up is code.
    let no_exec = || -> Result<Vec<SeccompRule>, seccompiler::Error> {
        Ok(vec![rule(vec![cond(
            2,
            SeccompCmpOp::MaskedEq(libc::PROT_EXEC as u64),
            0,
        )?])?])
    };
    // CAST: flag and command constants are small and non-negative.
    let thread = libc::CLONE_THREAD as u64;
    let mut m: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    // Memory.
    m.insert(libc::SYS_brk, any());
    m.insert(libc::SYS_mmap, no_exec()?);
    m.insert(libc::SYS_mprotect, no_exec()?);
    m.insert(libc::SYS_munmap, any());
    m.insert(libc::SYS_mremap, any());
    m.insert(libc::SYS_madvise, any());
    // Threads (vCPUs, one set per generation).
    m.insert(
        libc::SYS_clone,
        vec![rule(vec![cond(
            0,
            SeccompCmpOp::MaskedEq(thread),
            thread,
        )?])?],
    );
    m.insert(libc::SYS_clone3, any()); // answered ENOSYS, see `build`
    m.insert(libc::SYS_set_robust_list, any());
    m.insert(libc::SYS_rseq, any());
    m.insert(libc::SYS_futex, any());
    m.insert(libc::SYS_sched_yield, any());
    m.insert(libc::SYS_sched_getaffinity, any());
    m.insert(libc::SYS_gettid, any());
    m.insert(libc::SYS_getpid, any());
    m.insert(libc::SYS_prctl, one_of(0, &[libc::PR_SET_NAME as u64])?);
    m.insert(libc::SYS_exit, any());
    m.insert(libc::SYS_exit_group, any());
    // Signals: SIGRTMIN interrupts KVM_RUN; abort() raises SIGABRT.
    m.insert(libc::SYS_rt_sigaction, any());
    m.insert(libc::SYS_rt_sigprocmask, any());
    m.insert(libc::SYS_rt_sigreturn, any());
    m.insert(libc::SYS_sigaltstack, any());
    m.insert(libc::SYS_restart_syscall, any());
    m.insert(libc::SYS_tgkill, one_of(0, &[u64::from(pid)])?);
    // Time.
    m.insert(libc::SYS_clock_gettime, any());
    m.insert(libc::SYS_clock_getres, any());
    m.insert(libc::SYS_gettimeofday, any());
    m.insert(libc::SYS_clock_nanosleep, any());
    m.insert(libc::SYS_nanosleep, any());
    // Descriptors opened during set-up, eventfds made per generation.
    m.insert(libc::SYS_read, any());
    m.insert(libc::SYS_write, any());
    m.insert(libc::SYS_writev, any());
    m.insert(libc::SYS_pread64, any()); // /dev/port
    m.insert(libc::SYS_pwrite64, any());
    m.insert(libc::SYS_fstat, any());
    m.insert(libc::SYS_close, any());
    m.insert(
        libc::SYS_fcntl,
        one_of(
            1,
            &[
                libc::F_DUPFD_CLOEXEC as u64,
                libc::F_GETFD as u64,
                libc::F_SETFD as u64,
                libc::F_GETFL as u64,
            ],
        )?,
    );
    // The service manager's notifications (notify.rs): only on the socket
    // made before the filter (no other can be made: `socket` is not
    // allowed).
    if let Some(fd) = crate::notify::raw_fd() {
        // CAST: a descriptor is non-negative.
        m.insert(libc::SYS_sendto, one_of(0, &[fd as u64])?);
    }
    // The lock files' removal at exit (locks.rs): the registry lock, taken
    // on the descriptor open since set-up.
    if let Some(l) = locks {
        // CAST: a descriptor is non-negative.
        m.insert(libc::SYS_flock, one_of(0, &[l.registry as u64])?);
    }
    m.insert(libc::SYS_eventfd2, any());
    m.insert(libc::SYS_getrandom, any());
    let ioctls: Vec<u64> = allowed_ioctls().into_iter().map(|(_, n)| n).collect();
    m.insert(libc::SYS_ioctl, one_of(1, &ioctls)?);
    // Answered EPERM by the second filter (but the lock files' unlinkat,
    // see `path_lookups`); listed so that this one lets them through to it.
    for &s in PATH_LOOKUPS {
        m.insert(s, any());
    }
    Ok(m)
}

/// The path lookups that fail with `EPERM`: all of [`PATH_LOOKUPS`] but
/// `unlinkat(dir, NAME, 0)` on `unlink_in` (rules match what is refused).
fn path_lookups(
    unlink_in: Option<RawFd>,
) -> Result<BTreeMap<i64, Vec<SeccompRule>>, seccompiler::Error> {
    let mut m: BTreeMap<i64, Vec<SeccompRule>> =
        PATH_LOOKUPS.iter().map(|&s| (s, Vec::new())).collect();
    if let Some(dir) = unlink_in {
        // Another descriptor, or any flag (AT_REMOVEDIR).
        // CAST: a descriptor is non-negative.
        m.insert(
            libc::SYS_unlinkat,
            vec![
                rule(vec![cond(0, SeccompCmpOp::Ne, dir as u64)?])?,
                rule(vec![cond(2, SeccompCmpOp::Ne, 0)?])?,
            ],
        );
    }
    Ok(m)
}

/// The filters to install, in order, for `mode` (none for `Off`), and the
/// number of syscalls the shim may make.  `pid` is the shim's; `locks`,
/// what removing its lock files at exit needs.
///
/// Three filters, because a filter has one action for a match: the
/// kernel runs them all and takes the strictest answer (kill, then errno,
/// then log, then allow), so `clone3` ends as `ENOSYS` and path lookups
/// as `EPERM` although the allow-list lets them through.  The allow-list
/// is installed last: the first two leave `seccomp` and `prctl` alone.
pub fn build(
    mode: Mode,
    pid: u32,
    locks: Option<LockExit>,
) -> Result<(Vec<BpfProgram>, usize), seccompiler::Error> {
    let mismatch = match mode {
        Mode::Off => return Ok((Vec::new(), 0)),
        Mode::Enforce => SeccompAction::KillProcess,
        Mode::Log => SeccompAction::Log,
    };
    let arch = TargetArch::x86_64;
    let clone3: BTreeMap<i64, Vec<SeccompRule>> = [(libc::SYS_clone3, Vec::new())].into();
    let paths = path_lookups(locks.and_then(|l| l.unlink_in))?;
    let allow = allow_list(pid, locks)?;
    let allowed = allow.len() - PATH_LOOKUPS.len();
    let progs: Vec<BpfProgram> = vec![
        SeccompFilter::new(
            clone3,
            SeccompAction::Allow,
            SeccompAction::Errno(libc::ENOSYS as u32),
            arch,
        )?
        .try_into()?,
        SeccompFilter::new(
            paths,
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EPERM as u32),
            arch,
        )?
        .try_into()?,
        SeccompFilter::new(allow, mismatch, SeccompAction::Allow, arch)?.try_into()?,
    ];
    Ok((progs, allowed))
}

/// Installs the filters of `mode` on every thread of the process, with
/// `no_new_privs`; returns the number of syscalls allowed.
pub fn apply_filters(mode: Mode, locks: Option<LockExit>) -> io::Result<usize> {
    let (progs, allowed) = build(mode, std::process::id(), locks)
        .map_err(|e| io::Error::other(format!("seccomp: {e}")))?;
    for p in &progs {
        seccompiler::apply_filter_all_threads(p)
            .map_err(|e| io::Error::other(format!("seccomp: {e}")))?;
    }
    Ok(allowed)
}

/// `CAP_SYS_RAWIO`, `CAP_SETPCAP`: the numbers of capabilities(7).
pub const CAP_SETPCAP: u32 = 8;

/// Names of capabilities(7) by number, for the log.
const CAP_NAMES: &[&str] = &[
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

/// The capability set `set` in words: `none`, or `cap_sys_rawio,...`.
pub fn cap_names(set: u64) -> String {
    let names: Vec<String> = (0..64)
        .filter(|i| set & (1u64 << i) != 0)
        .map(|i| match CAP_NAMES.get(i) {
            Some(n) => format!("cap_{n}"),
            None => format!("cap_{i}"),
        })
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(",")
    }
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// This thread's (effective, permitted, inheritable) capabilities.
fn capget() -> io::Result<(u64, u64, u64)> {
    let mut h = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut d = [CapData::default(); 2];
    // SAFETY: Version 3 takes a header and two data structs, which `h` and
    // `d` are (repr(C), the kernel's layout); the kernel writes only `d`.
    let r = unsafe { libc::syscall(libc::SYS_capget, &mut h, d.as_mut_ptr()) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    let join = |f: fn(&CapData) -> u32| u64::from(f(&d[0])) | (u64::from(f(&d[1])) << 32);
    Ok((
        join(|c| c.effective),
        join(|c| c.permitted),
        join(|c| c.inheritable),
    ))
}

fn capset(effective: u64, permitted: u64, inheritable: u64) -> io::Result<()> {
    let mut h = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    // CAST: the low and high halves of each set.
    let half = |s: u64, hi: bool| (if hi { s >> 32 } else { s }) as u32;
    let d = [false, true].map(|hi| CapData {
        effective: half(effective, hi),
        permitted: half(permitted, hi),
        inheritable: half(inheritable, hi),
    });
    // SAFETY: As in `capget`; the kernel only reads `d`.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut h, d.as_ptr()) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// What [`drop_capabilities`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapsDropped {
    /// The capabilities the shim had (permitted set).
    pub had: u64,
    /// The capabilities it kept (effective = permitted).
    pub kept: u64,
    /// Whether the bounding set was reduced to `kept` too (it needs
    /// CAP_SETPCAP; without any capability there is nothing to bound).
    pub bounding: bool,
}

/// Drops every capability but those in `keep` (a bit per capability)
/// from the effective, permitted and inheritable sets, the ambient set and,
/// with CAP_SETPCAP, the bounding set, so that not even an `execve` of a
/// root or file-capability program could give them back.  A process
/// without capabilities has nothing to drop: not an error.  Applies to
/// the calling thread; call it before any other thread exists (threads
/// created later inherit it).
pub fn drop_capabilities(keep: u64) -> io::Result<CapsDropped> {
    let (eff, prm, _) = capget()?;
    let mut bounding = false;
    if eff & (1 << CAP_SETPCAP) != 0 {
        for cap in 0..64u32 {
            // SAFETY: prctl with integer arguments only.
            let r =
                unsafe { libc::prctl(libc::PR_CAPBSET_READ, libc::c_ulong::from(cap), 0, 0, 0) };
            if r < 0 {
                break; // EINVAL: past the kernel's last capability
            }
            if r == 1 && keep & (1u64 << cap) == 0 {
                // SAFETY: As above.
                let r = unsafe {
                    libc::prctl(libc::PR_CAPBSET_DROP, libc::c_ulong::from(cap), 0, 0, 0)
                };
                if r != 0 {
                    let e = io::Error::last_os_error();
                    return Err(io::Error::new(
                        e.kind(),
                        format!(
                            "dropping {} from the bounding set: {e}",
                            cap_names(1 << cap)
                        ),
                    ));
                }
            }
        }
        bounding = true;
    }
    // SAFETY: As above.  EINVAL (a kernel without ambient capabilities)
    // leaves nothing to clear.
    unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    let kept = keep & prm;
    capset(kept, kept, 0).map_err(|e| io::Error::new(e.kind(), format!("capset: {e}")))?;
    Ok(CapsDropped {
        had: prm,
        kept,
        bounding,
    })
}

/// Makes the directory `dir` the process's root and working directory, so
/// that no name given to `unlinkat(dir, ...)`, absolute or with `..`,
/// resolves outside it.  Needs `CAP_SYS_CHROOT`.  On failure the working
/// directory may be `dir` already: harmless, as only the filters, which
/// refuse path lookups, come next.
fn root_at(dir: RawFd) -> io::Result<()> {
    // SAFETY: fchdir to a descriptor the caller keeps open.
    if unsafe { libc::fchdir(dir) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: chroot of a NUL-terminated path, ".": the directory just
    // entered.
    if unsafe { libc::chroot(c".".as_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// What becomes of the lock files at an orderly exit under the filters.
#[derive(Debug)]
pub enum LockFiles {
    /// The shim holds none (or there are no filters).
    None,
    /// Removed: `unlinkat` is allowed in the runtime directory, the root.
    Removed,
    /// Left behind (the next shim replaces them): the runtime directory
    /// could not become the root, why.
    Left(io::Error),
}

/// What [`confine`] applied, for the log.
#[derive(Debug)]
pub struct Confined {
    pub mode: Mode,
    /// Syscalls allowed (0 with `Off`).
    pub allowed: usize,
    /// `None` with `Off`.
    pub caps: Option<CapsDropped>,
    pub lock_files: LockFiles,
}

impl fmt::Display for Confined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.mode, self.caps) {
            (Mode::Off, _) | (_, None) => {
                write!(f, "sandbox off: no seccomp filter, capabilities kept")
            }
            (m, Some(c)) => {
                write!(
                    f,
                    "sandbox: seccomp {m} ({} syscalls allowed, path lookups EPERM{}), \
                     capabilities kept: {}{}",
                    self.allowed,
                    if matches!(self.lock_files, LockFiles::Removed) {
                        " but unlinkat in the runtime directory, now the root"
                    } else {
                        ""
                    },
                    cap_names(c.kept),
                    if c.bounding || c.had == 0 {
                        ""
                    } else {
                        " (bounding set unchanged: no CAP_SETPCAP)"
                    }
                )?;
                match &self.lock_files {
                    LockFiles::Left(e) => write!(
                        f,
                        "; lock files stay after exit (chroot into the runtime directory: {e})"
                    ),
                    _ => Ok(()),
                }
            }
        }
    }
}

/// Drops capabilities (all but `keep`) and installs the filters of
/// `mode`; `Off` does neither.  With `locks` (the shim holds lock files,
/// [`Locks::exit_fds`](crate::locks::Locks::exit_fds)) the runtime
/// directory becomes the root first, so that the filters can let their
/// removal at exit through.  Call once set-up is complete: afterwards the
/// process can open no file and regain no privilege.
pub fn confine(mode: Mode, keep: u64, locks: Option<ExitFds>) -> io::Result<Confined> {
    if mode == Mode::Off {
        return Ok(Confined {
            mode,
            allowed: 0,
            caps: None,
            lock_files: LockFiles::None,
        });
    }
    // While CAP_SYS_CHROOT is still there.
    let (lock_exit, lock_files) = match locks {
        None => (None, LockFiles::None),
        Some(l) => {
            let (unlink_in, files) = match root_at(l.dir) {
                Ok(()) => (Some(l.dir), LockFiles::Removed),
                Err(e) => (None, LockFiles::Left(e)),
            };
            let exit = LockExit {
                registry: l.registry,
                unlink_in,
            };
            (Some(exit), files)
        }
    };
    let caps = drop_capabilities(keep)?;
    let allowed = apply_filters(mode, lock_exit)?;
    Ok(Confined {
        mode,
        allowed,
        caps: Some(caps),
        lock_files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn filters_build_for_x86_64() {
        for mode in [Mode::Enforce, Mode::Log] {
            let (progs, allowed) = build(mode, 1, None).expect("filters");
            assert_eq!(progs.len(), 3);
            assert!(progs.iter().all(|p| !p.is_empty() && p.len() < 4096));
            assert!((30..60).contains(&allowed), "{allowed}");
        }
        assert!(build(Mode::Off, 1, None).expect("off").0.is_empty());
        // The lock files' exit: flock on the registry's descriptor, one
        // syscall more; unlinkat's exception in the EPERM filter.
        let locks = LockExit {
            registry: 7,
            unlink_in: Some(6),
        };
        let (_, without) = build(Mode::Enforce, 1, None).expect("filters");
        let (_, with) = build(Mode::Enforce, 1, Some(locks)).expect("filters");
        assert_eq!(with, without + 1);
        assert_eq!(
            allow_list(1, Some(locks)).expect("list")[&libc::SYS_flock].len(),
            1
        );
        assert!(path_lookups(None).expect("paths")[&libc::SYS_unlinkat].is_empty());
        assert_eq!(
            path_lookups(Some(6)).expect("paths")[&libc::SYS_unlinkat].len(),
            2
        );
        let allow = allow_list(1, None).expect("list");
        assert!(!allow.contains_key(&libc::SYS_flock));
        for denied in [
            libc::SYS_execve,
            libc::SYS_execveat,
            libc::SYS_ptrace,
            libc::SYS_mount,
            libc::SYS_bpf,
            libc::SYS_init_module,
            libc::SYS_finit_module,
            libc::SYS_kexec_load,
            libc::SYS_keyctl,
            libc::SYS_process_vm_writev,
            libc::SYS_userfaultfd,
            libc::SYS_io_uring_setup,
            libc::SYS_chroot,
            libc::SYS_setns,
            libc::SYS_unshare,
            libc::SYS_socket,
            libc::SYS_kill,
            libc::SYS_fork,
            libc::SYS_memfd_create,
        ] {
            assert!(!allow.contains_key(&denied), "{denied} allowed");
        }
    }

    #[test]
    fn ioctl_numbers() {
        let n: BTreeMap<_, _> = allowed_ioctls().into_iter().collect();
        assert_eq!(n["KVM_CREATE_VM"], 0xae01);
        assert_eq!(n["KVM_RUN"], 0xae80);
        assert_eq!(n["KVM_SET_USER_MEMORY_REGION"], 0x4020_ae46);
        assert_eq!(n["KVM_GET_SUPPORTED_CPUID"], 0xc008_ae05);
        assert_eq!(n["KVM_SET_CPUID2"], 0x4008_ae90);
        assert_eq!(n["KVM_GET_SREGS"], 0x8138_ae83);
        assert_eq!(n["KVM_IRQFD"], 0x4020_ae76);
        assert_eq!(n["KVM_SET_GSI_ROUTING"], 0x4008_ae6a);
        assert_eq!(n["KVM_IOEVENTFD"], 0x4040_ae79);
        assert_eq!(n["KVM_SET_IDENTITY_MAP_ADDR"], 0x4008_ae48);
        assert_eq!(n["KVM_GET_LAPIC"], 0x8400_ae8e);
        assert_eq!(n["VFIO_DEVICE_SET_IRQS"], 0x3b6e);
        assert_eq!(n["VFIO_IOMMU_MAP_DMA"], 0x3b71);
        assert_eq!(n["VFIO_IOMMU_UNMAP_DMA"], 0x3b72);
    }

    #[test]
    fn capability_names() {
        assert_eq!(cap_names(0), "none");
        assert_eq!(cap_names(1 << 17), "cap_sys_rawio");
        assert_eq!(cap_names((1 << 8) | (1 << 21)), "cap_setpcap,cap_sys_admin");
    }

    /// How a forked child ended.
    #[derive(Debug, PartialEq, Eq)]
    enum End {
        Exited(i32),
        Signalled(i32),
    }

    /// Runs `child` in a forked child (its return value is the exit status;
    /// a panic is 101) and returns how it ended and what it wrote to the
    /// pipe it was given.  Neither side can hang: the child has an alarm,
    /// and the parent kills it after 30 s.
    fn in_child(child: impl FnOnce(libc::c_int) -> i32) -> (End, String) {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: The child only runs `child` and leaves with _exit; glibc
        // makes malloc usable after fork.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork: {}", io::Error::last_os_error());
        if pid == 0 {
            // SAFETY: Plain syscalls; _exit never returns, so no test
            // harness code runs in the child.
            unsafe {
                libc::close(fds[0]);
                libc::alarm(20);
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| child(fds[1])))
                    .unwrap_or(101);
                libc::_exit(r);
            }
        }
        // SAFETY: Our copy of the write end.
        unsafe { libc::close(fds[1]) };
        let mut status = 0;
        let t0 = Instant::now();
        loop {
            // SAFETY: Waiting for our own child.
            let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            if r == pid {
                break;
            }
            if t0.elapsed() > Duration::from_secs(30) {
                // SAFETY: Our own child.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, &mut status, 0);
                }
                panic!("child hung");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            // SAFETY: Reading into our buffer; the child is gone, so the
            // pipe ends.
            let n = unsafe { libc::read(fds[0], buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                break;
            }
            out.extend_from_slice(&buf[..n as usize]);
        }
        // SAFETY: Our read end.
        unsafe { libc::close(fds[0]) };
        let end = if libc::WIFSIGNALED(status) {
            End::Signalled(libc::WTERMSIG(status))
        } else {
            End::Exited(libc::WEXITSTATUS(status))
        };
        (end, String::from_utf8_lossy(&out).into_owned())
    }

    fn say(fd: libc::c_int, what: &str) {
        // SAFETY: Writing our bytes to the pipe.
        unsafe { libc::write(fd, what.as_ptr().cast(), what.len()) };
    }

    #[test]
    fn enforce_kills_on_a_denied_syscall() {
        let denied: [(&str, fn()); 6] = [
            ("execve", || {
                // SAFETY: Null arguments: EFAULT if it were allowed.
                unsafe { libc::syscall(libc::SYS_execve, 0, 0, 0) };
            }),
            ("ptrace", || {
                // SAFETY: PTRACE_PEEKDATA of pid 1: fails if allowed.
                unsafe { libc::syscall(libc::SYS_ptrace, libc::PTRACE_PEEKDATA, 1, 0, 0) };
            }),
            ("mount", || {
                // SAFETY: Null arguments: EFAULT if it were allowed.
                unsafe { libc::syscall(libc::SYS_mount, 0, 0, 0, 0, 0) };
            }),
            ("socket", || {
                // SAFETY: Creates at most a descriptor.
                unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0) };
            }),
            ("mmap PROT_EXEC", || {
                // SAFETY: A fresh anonymous mapping, if it were allowed.
                unsafe {
                    libc::mmap(
                        std::ptr::null_mut(),
                        4096,
                        libc::PROT_READ | libc::PROT_EXEC,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                        -1,
                        0,
                    )
                };
            }),
            ("kill", || {
                // SAFETY: Signal 0 to init only checks permission.
                unsafe { libc::kill(1, 0) };
            }),
        ];
        for (name, call) in denied {
            let (end, out) = in_child(|fd| {
                if apply_filters(Mode::Enforce, None).is_err() {
                    return 2;
                }
                say(fd, "filtered;");
                call();
                say(fd, "survived");
                0
            });
            assert_eq!(end, End::Signalled(libc::SIGSYS), "{name}: {out}");
            assert_eq!(out, "filtered;", "{name}");
        }
    }

    extern "C" fn on_rt(_: libc::c_int) {}

    /// What a generation does after set-up, under the enforcing filter:
    /// threads, signals, sleeps, eventfds, memory, writes to an open file,
    /// and the calls that fail gently.
    #[test]
    fn enforce_allows_a_restart() {
        let (end, out) = in_child(|fd| {
            // SAFETY: A no-op handler, as the shim's for SIGRTMIN.
            unsafe { libc::signal(libc::SIGRTMIN(), on_rt as *const () as libc::sighandler_t) };
            // SAFETY: dup of our pipe, a file opened before the filter.
            let log = unsafe { libc::dup(fd) };
            if apply_filters(Mode::Enforce, None).is_err() {
                return 2;
            }
            // Path lookups fail with EPERM, clone3 with ENOSYS.
            if std::fs::File::open("/proc/self/status")
                .err()
                .and_then(|e| e.raw_os_error())
                != Some(libc::EPERM)
            {
                return 3;
            }
            // SAFETY: A null clone_args with size 0: EINVAL if it got
            // through.
            let r = unsafe { libc::syscall(libc::SYS_clone3, 0, 0) };
            if r != -1 || io::Error::last_os_error().raw_os_error() != Some(libc::ENOSYS) {
                return 4;
            }
            for gen in 0..3 {
                let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                let s2 = stop.clone();
                let h = std::thread::Builder::new()
                    .name(format!("vcpu0-gen{gen}"))
                    .spawn(move || {
                        let m: std::collections::HashMap<u32, Vec<u8>> =
                            (0..100).map(|i| (i, vec![0u8; 4096])).collect();
                        while !s2.load(std::sync::atomic::Ordering::Acquire) {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                        m.len()
                    });
                let Ok(h) = h else { return 5 };
                std::thread::sleep(Duration::from_millis(5));
                stop.store(true, std::sync::atomic::Ordering::Release);
                use std::os::unix::thread::JoinHandleExt;
                // SAFETY: `h` is not joined yet; SIGRTMIN has a no-op handler.
                unsafe { libc::pthread_kill(h.as_pthread_t(), libc::SIGRTMIN()) };
                if h.join().ok() != Some(100) {
                    return 6;
                }
                let Ok(e) =
                    vmm_sys_util::eventfd::EventFd::new(vmm_sys_util::eventfd::EFD_NONBLOCK)
                else {
                    return 7;
                };
                if e.write(1).is_err() {
                    return 8;
                }
                let big = vec![1u8; 64 << 20];
                drop(big);
                // SAFETY: Our duplicate of the pipe.
                let dup = unsafe { libc::fcntl(log, libc::F_DUPFD_CLOEXEC, 0) };
                let _ = std::time::SystemTime::now();
                say(dup, &format!("gen{gen};"));
                // SAFETY: Ours.
                unsafe { libc::close(dup) };
            }
            0
        });
        assert_eq!(end, End::Exited(0), "{out}");
        assert_eq!(out, "gen0;gen1;gen2;");
    }

    /// The errno of a call that returned `r`, `None` if it succeeded.
    fn errno(r: libc::c_int) -> Option<i32> {
        (r == -1).then(|| io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }

    fn unlink(name: &std::ffi::CStr) -> Option<i32> {
        // SAFETY: unlink of a NUL-terminated name, which it only reads.
        errno(unsafe { libc::unlink(name.as_ptr()) })
    }

    fn unlinkat(dir: libc::c_int, name: &std::ffi::CStr, flags: libc::c_int) -> Option<i32> {
        // SAFETY: unlinkat of a NUL-terminated name, which it only reads.
        errno(unsafe { libc::unlinkat(dir, name.as_ptr(), flags) })
    }

    /// The shim's exit under the enforcing filter, as `run` confines it:
    /// its lock files go, through the runtime directory's descriptor, and
    /// no other unlink gets through: not by path, not with another
    /// descriptor or a flag, not to a file outside the directory.
    #[test]
    fn enforce_lets_the_lock_files_go_and_nothing_else() {
        use crate::locks::{Locks, Resource};
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;

        let base = std::env::temp_dir().join(format!("ivt-sandbox-locks-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let run = base.join("run");
        std::fs::create_dir_all(&run).expect("run dir");
        std::fs::create_dir_all(base.join("outside")).expect("outside");
        let other = run.join("other");
        let outside = base.join("outside").join("file");
        std::fs::write(&other, "x").expect("other");
        std::fs::write(&outside, "x").expect("outside file");
        let wanted = [
            Resource::Node("ik_t".into()),
            Resource::Ports {
                base: 0x378,
                count: 3,
            },
        ];
        let c = |p: &std::path::Path| CString::new(p.as_os_str().as_bytes()).expect("path");
        let (other_abs, outside_abs) = (c(&other), c(&outside));

        let (end, out) = in_child(|fd| {
            let Ok(locks) = Locks::take(&run, "vm-t", &wanted) else {
                return 2;
            };
            let Some(fds) = locks.exit_fds() else {
                return 3;
            };
            let Ok(confined) = confine(Mode::Enforce, 0, Some(fds)) else {
                return 4;
            };
            say(
                fd,
                match confined.lock_files {
                    LockFiles::Removed => "removed;",
                    LockFiles::Left(_) => "left;",
                    LockFiles::None => "none;",
                },
            );
            let checks = [
                // By path, absolute or relative to the working directory.
                ("unlink", unlink(&other_abs)),
                ("unlink rel", unlink(c"other")),
                ("cwd", unlinkat(libc::AT_FDCWD, c"other", 0)),
                // Another descriptor, a flag.
                ("fd", unlinkat(fd, c"other", 0)),
                ("rmdir", unlinkat(fds.dir, c"other", libc::AT_REMOVEDIR)),
            ];
            for (what, e) in checks {
                if e != Some(libc::EPERM) {
                    say(fd, &format!("{what} got through;"));
                    return 5;
                }
            }
            // The directory's descriptor, but out of it: not found in the
            // new root (or EPERM, without one).
            for name in [outside_abs.as_c_str(), c"../outside/file"] {
                let e = unlinkat(fds.dir, name, 0);
                if e != Some(libc::ENOENT) && e != Some(libc::EPERM) {
                    say(fd, &format!("{name:?} got through;"));
                    return 6;
                }
            }
            drop(locks);
            say(fd, "dropped");
            0
        });
        assert_eq!(end, End::Exited(0), "{out}");
        let removed = match out.as_str() {
            "removed;dropped" => true,
            // Not root: no chroot, so no unlinkat either.
            "left;dropped" => false,
            _ => panic!("{out}"),
        };
        for r in &wanted {
            assert_eq!(run.join(r.file_name()).exists(), !removed, "{r}");
        }
        assert!(other.exists());
        assert!(outside.exists());
        assert!(run.join("registry.lock").exists());
        std::fs::remove_dir_all(&base).expect("cleanup");
    }

    #[test]
    fn log_mode_lets_a_missing_syscall_through() {
        let (end, out) = in_child(|fd| {
            if apply_filters(Mode::Log, None).is_err() {
                return 2;
            }
            // SAFETY: uname into our buffer; not on the list.
            let mut u: libc::utsname = unsafe { std::mem::zeroed() };
            // SAFETY: As above.
            if unsafe { libc::uname(&mut u) } != 0 {
                return 3;
            }
            say(fd, "ok");
            0
        });
        assert_eq!((end, out.as_str()), (End::Exited(0), "ok"));
    }

    /// CapEff, CapPrm, CapInh, CapBnd and CapAmb from /proc/self/status.
    fn status_caps(text: &str) -> Vec<u64> {
        ["CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb"]
            .iter()
            .map(|k| {
                text.lines()
                    .find_map(|l| l.strip_prefix(&format!("{k}:")))
                    .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
                    .unwrap_or(u64::MAX)
            })
            .collect()
    }

    #[test]
    fn capabilities_dropped() {
        let me = std::fs::read_to_string("/proc/self/status").expect("status");
        // SAFETY: No arguments.
        let root = unsafe { libc::geteuid() } == 0;
        if !root || status_caps(&me)[0] & (1 << CAP_SETPCAP) == 0 {
            eprintln!("skipped: not root with CAP_SETPCAP");
            return;
        }
        let rawio = 1u64 << 17;
        for keep in [0, rawio] {
            let (end, out) = in_child(|fd| {
                let Ok(d) = drop_capabilities(keep) else {
                    return 2;
                };
                if d.kept != keep || !d.bounding {
                    return 3;
                }
                let Ok(s) = std::fs::read_to_string("/proc/self/status") else {
                    return 4;
                };
                say(fd, &s);
                0
            });
            assert_eq!(end, End::Exited(0), "{out}");
            assert_eq!(status_caps(&out), vec![keep, keep, 0, keep, 0], "{out}");
        }
    }

    #[test]
    fn without_capabilities_dropping_is_a_no_op() {
        let (end, out) = in_child(|fd| {
            if capset(0, 0, 0).is_err() {
                return 2;
            }
            match drop_capabilities(1 << 17) {
                Ok(d) if d.kept == 0 && d.had == 0 => {
                    say(fd, "ok");
                    0
                }
                _ => 3,
            }
        });
        assert_eq!((end, out.as_str()), (End::Exited(0), "ok"));
    }
}
