// SPDX-License-Identifier: GPL-2.0

//! Host resources one shim holds against the others on the same host.
//!
//! Two shims must not export the same host node name (the second export
//! would fail only once its driver VM is ready, after a whole boot) nor
//! hand the same host I/O ports through to two driver VMs (both drivers
//! would program one device).  Each shim therefore takes, before it
//! builds its image, one lock file per resource in the runtime directory
//! (`$IKERNEL_RUN_DIR`, default `/run/ikernel`):
//!
//! - `node-NAME.lock` for each host node name it will export;
//! - `ports-0xBASE+COUNT.lock` for each `[[ports]]` range.
//!
//! A lock file is held with flock(2) for the shim's life (the kernel drops
//! it when the process ends, however it ends) and names its holder: `pid`,
//! `name` (the driver VM's) and `resource`.  Port ranges may conflict
//! without being equal, so taking locks is done under `registry.lock`
//! (held exclusively for a moment): the shim looks at every lock file,
//! fails if a live one conflicts with what it wants, removes the files of
//! dead holders, and only then creates its own.  An orderly exit removes
//! its files, under the same lock.
//!
//! That removal comes after the sandbox (`sandbox.rs`), in which no path
//! can be looked up.  So `take` keeps what it needs open: a descriptor of
//! the runtime directory and `registry.lock`'s.  At exit the shim locks
//! the registry by its descriptor and removes its files with
//! `unlinkat(dir, NAME, 0)`, names without a `/`: the two calls the filter
//! allows on exactly these descriptors ([`Locks::exit_fds`]), once the
//! sandbox has made the runtime directory the shim's root.  Without the
//! sandbox the same calls do the same.

use std::ffi::{CString, OsString};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The variable naming the runtime directory.
pub const RUN_DIR_ENV: &str = "IKERNEL_RUN_DIR";
/// The runtime directory without it.
pub const DEFAULT_RUN_DIR: &str = "/run/ikernel";
const REGISTRY: &str = "registry.lock";

/// The runtime directory for a value of `$IKERNEL_RUN_DIR`.
pub fn run_dir_from(var: Option<OsString>) -> PathBuf {
    match var {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => PathBuf::from(DEFAULT_RUN_DIR),
    }
}

/// The runtime directory: `$IKERNEL_RUN_DIR`, else `/run/ikernel`.
pub fn run_dir() -> PathBuf {
    run_dir_from(std::env::var_os(RUN_DIR_ENV))
}

/// One host resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// A host node name (`/dev/NAME`), as `[[export]] host_name`
    /// validates it (no `/`, not starting with `.`).
    Node(String),
    /// Host I/O ports `base..base + count`, `count` > 0.
    Ports { base: u32, count: u32 },
    /// A host PCI function handed through (`[[pci]]`), by its address
    /// `DDDD:BB:DD.F` in lower case.
    Pci(String),
    /// A host network interface name, as `[[netdev]] host_name` validates
    /// it.
    Netdev(String),
}

impl Resource {
    /// The lock file's name.
    pub fn file_name(&self) -> String {
        match self {
            Resource::Node(n) => format!("node-{n}.lock"),
            Resource::Ports { base, count } => format!("ports-{base:#06x}+{count}.lock"),
            Resource::Pci(a) => format!("pci-{a}.lock"),
            Resource::Netdev(n) => format!("netdev-{n}.lock"),
        }
    }

    /// The resource of a lock file's name, if it is one.
    pub fn from_file_name(f: &str) -> Option<Resource> {
        let stem = f.strip_suffix(".lock")?;
        if let Some(n) = stem.strip_prefix("node-") {
            return (!n.is_empty()).then(|| Resource::Node(n.to_string()));
        }
        if let Some(n) = stem.strip_prefix("netdev-") {
            return crate::config::is_ifname(n).then(|| Resource::Netdev(n.to_string()));
        }
        if let Some(a) = stem.strip_prefix("pci-") {
            return crate::config::is_pci_address(a).then(|| Resource::Pci(a.to_string()));
        }
        let (b, c) = stem.strip_prefix("ports-0x")?.split_once('+')?;
        let base = u32::from_str_radix(b, 16).ok()?;
        let count = c.parse().ok()?;
        (count > 0).then_some(Resource::Ports { base, count })
    }

    /// Whether two shims cannot both hold `self` and `o`: the same node
    /// name or PCI function, or port ranges that share a port.
    pub fn conflicts(&self, o: &Resource) -> bool {
        match (self, o) {
            (Resource::Node(a), Resource::Node(b)) => a == b,
            (Resource::Pci(a), Resource::Pci(b)) => a == b,
            (Resource::Netdev(a), Resource::Netdev(b)) => a == b,
            (Resource::Ports { base: a, count: n }, Resource::Ports { base: b, count: m }) => {
                let (a, n, b, m) = (u64::from(*a), u64::from(*n), u64::from(*b), u64::from(*m));
                a < b + m && b < a + n
            }
            _ => false,
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resource::Node(n) => write!(f, "host node /dev/{n}"),
            Resource::Pci(a) => write!(f, "PCI function {a}"),
            Resource::Netdev(n) => write!(f, "host interface {n}"),
            Resource::Ports { base, count } => write!(
                f,
                "host ports {base:#x}-{:#x}",
                u64::from(*base) + u64::from(*count) - 1
            ),
        }
    }
}

/// Who holds a lock file, from its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: Option<u32>,
    pub name: Option<String>,
}

impl Holder {
    /// Parses `pid=...` and `name=...` lines; other lines are ignored.
    pub fn parse(text: &str) -> Holder {
        let field = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(k)?.strip_prefix('='))
                .map(str::trim)
        };
        Holder {
            pid: field("pid").and_then(|p| p.parse().ok()),
            name: field("name").map(String::from),
        }
    }
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pid {
            Some(p) => write!(f, "the shim of pid {p}")?,
            None => write!(f, "another shim (pid unknown)")?,
        }
        match &self.name {
            Some(n) => write!(f, " (VM {n:?})"),
            None => Ok(()),
        }
    }
}

/// Resources another shim holds: what we wanted, what it holds, who.
#[derive(Debug)]
pub struct Conflict {
    pub dir: PathBuf,
    pub clashes: Vec<(Resource, Resource, Holder)>,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "another shim on this host uses the same resources: ")?;
        for (i, (want, held, who)) in self.clashes.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            if want == held {
                write!(f, "{want} is held by {who}")?;
            } else {
                write!(f, "{want} overlap {held}, held by {who}")?;
            }
        }
        write!(f, " (lock files in {})", self.dir.display())
    }
}

impl std::error::Error for Conflict {}

/// Whether `e` is a [`Conflict`].
pub fn is_conflict(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|i| i.is::<Conflict>())
}

/// flock(2) on `f`; `Ok(false)` if another holds it (non-blocking only).
fn flock(f: &File, op: libc::c_int) -> io::Result<bool> {
    loop {
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(f.as_raw_fd(), op) } == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EWOULDBLOCK) => return Ok(false),
            _ => return Err(e),
        }
    }
}

fn open_rw(p: &Path, create: bool) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .mode(0o644)
        // A lock file is never a symlink: do not follow one planted there.
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(p)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))
}

/// The registry lock, held while it lives.
fn registry(dir: &Path) -> io::Result<File> {
    let f = open_rw(&dir.join(REGISTRY), true)?;
    flock(&f, libc::LOCK_EX)?;
    Ok(f)
}

/// One lock file held: its path (for the log), its name in the runtime
/// directory (for `unlinkat`) and the open, flock'ed file.
#[derive(Debug)]
struct Held {
    path: PathBuf,
    name: CString,
    _file: File,
}

/// What removing the lock files needs once no path can be opened: the
/// runtime directory and `registry.lock`, open since `take`.
#[derive(Debug)]
struct Kept {
    dir: File,
    registry: File,
}

/// The descriptors an orderly exit uses, for the sandbox to allow: `flock`
/// on `registry`, `unlinkat(dir, NAME, 0)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitFds {
    pub dir: RawFd,
    pub registry: RawFd,
}

/// The lock files a shim holds; dropping it removes and releases them.
#[derive(Debug)]
pub struct Locks {
    held: Vec<Held>,
    kept: Option<Kept>,
}

impl Locks {
    /// Takes `wanted` in `dir` (created if needed) for the VM `vm_name`, or
    /// fails with a [`Conflict`] naming every clash and its holder.
    pub fn take(dir: &Path, vm_name: &str, wanted: &[Resource]) -> io::Result<Locks> {
        let mut locks = Locks {
            held: Vec::new(),
            kept: None,
        };
        if wanted.is_empty() {
            return Ok(locks);
        }
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(dir)
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("runtime directory {} ({RUN_DIR_ENV}): {e}", dir.display()),
                )
            })?;
        let dir_fd = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(dir)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
        let reg = registry(dir)?;
        // From here an early return drops `locks`, which removes the files
        // made so far under the registry lock still held.
        let reg = &locks
            .kept
            .insert(Kept {
                dir: dir_fd,
                registry: reg,
            })
            .registry;
        let mut clashes = Vec::new();
        for ent in std::fs::read_dir(dir)? {
            let ent = ent?;
            let Some(held) = ent.file_name().to_str().and_then(Resource::from_file_name) else {
                continue;
            };
            let clash: Vec<&Resource> = wanted.iter().filter(|w| w.conflicts(&held)).collect();
            if clash.is_empty() {
                continue;
            }
            let p = ent.path();
            let mut f = match open_rw(&p, false) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if flock(&f, libc::LOCK_EX | libc::LOCK_NB)? {
                // Its holder is gone (killed, or a crash): stale.
                std::fs::remove_file(&p)?;
                continue;
            }
            let mut text = String::new();
            let _ = f.read_to_string(&mut text);
            let who = Holder::parse(&text);
            for w in clash {
                clashes.push((w.clone(), held.clone(), who.clone()));
            }
        }
        if !clashes.is_empty() {
            return Err(io::Error::other(Conflict {
                dir: dir.to_path_buf(),
                clashes,
            }));
        }
        for w in wanted {
            let name = w.file_name();
            let p = dir.join(&name);
            let mut f = open_rw(&p, true)?;
            if !flock(&f, libc::LOCK_EX | libc::LOCK_NB)? {
                // Only a taker that bypasses the registry gets here.
                return Err(io::Error::other(format!(
                    "{}: locked by a process that does not use {REGISTRY}",
                    p.display()
                )));
            }
            f.set_len(0)?;
            f.rewind()?;
            write!(
                f,
                "pid={}\nname={vm_name}\nresource={w}\n",
                std::process::id()
            )?;
            // A node name has no `/` (config.rs) and no NUL: one entry of
            // the directory.
            let name =
                CString::new(name).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            locks.held.push(Held {
                path: p,
                name,
                _file: f,
            });
        }
        flock(reg, libc::LOCK_UN)?;
        Ok(locks)
    }

    /// The lock files held.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.held.iter().map(|h| h.path.as_path())
    }

    /// The descriptors dropping `self` uses, if it holds any file.
    pub fn exit_fds(&self) -> Option<ExitFds> {
        let k = self.kept.as_ref().filter(|_| !self.held.is_empty())?;
        Some(ExitFds {
            dir: k.dir.as_raw_fd(),
            registry: k.registry.as_raw_fd(),
        })
    }
}

impl Drop for Locks {
    fn drop(&mut self) {
        let Some(k) = self.kept.take().filter(|_| !self.held.is_empty()) else {
            return;
        };
        // Remove our files while no other shim looks at them; without the
        // registry lock (or where the sandbox forbids `unlinkat`) they are
        // left behind, unlocked, and the next taker removes them as stale.
        if flock(&k.registry, libc::LOCK_EX).is_ok() {
            for h in &self.held {
                debug_assert!(!h.name.as_bytes().contains(&b'/'));
                // SAFETY: unlinkat of a NUL-terminated name relative to a
                // directory descriptor we own; it only reads the name.
                unsafe { libc::unlinkat(k.dir.as_raw_fd(), h.name.as_ptr(), 0) };
            }
            let _ = flock(&k.registry, libc::LOCK_UN);
        }
        self.held.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports(base: u32, count: u32) -> Resource {
        Resource::Ports { base, count }
    }

    fn node(n: &str) -> Resource {
        Resource::Node(n.into())
    }

    #[test]
    fn port_ranges_overlap() {
        let lpt = ports(0x378, 3); // 0x378..=0x37a
        for (r, want) in [
            (ports(0x378, 3), true),  // the same
            (ports(0x379, 1), true),  // inside
            (ports(0x370, 16), true), // around
            (ports(0x37a, 4), true),  // its last port
            (ports(0x370, 9), true),  // its first port
            (ports(0x37b, 1), false), // just after
            (ports(0x370, 8), false), // just before
            (ports(0x3f8, 8), false),
            (ports(0, 0x10000), true), // every port
        ] {
            assert_eq!(lpt.conflicts(&r), want, "{r}");
            assert_eq!(r.conflicts(&lpt), want, "{r} (swapped)");
        }
        assert!(ports(0xffff, 1).conflicts(&ports(0xff00, 0x100)));
        assert!(node("ik_a").conflicts(&node("ik_a")));
        assert!(!node("ik_a").conflicts(&node("ik_b")));
        assert!(!node("ik_a").conflicts(&lpt));
    }

    #[test]
    fn file_names_round_trip() {
        for r in [
            node("ik_fifo"),
            node("a.b-c"),
            ports(0x378, 3),
            ports(0, 65536),
            Resource::Pci("0000:00:0a.0".into()),
        ] {
            assert_eq!(Resource::from_file_name(&r.file_name()), Some(r.clone()));
        }
        let ifc = Resource::Netdev("ikn0".into());
        assert_eq!(
            Resource::from_file_name(&ifc.file_name()),
            Some(ifc.clone())
        );
        assert!(ifc.conflicts(&Resource::Netdev("ikn0".into())));
        assert!(!ifc.conflicts(&Resource::Node("ikn0".into())));
        assert_eq!(Resource::from_file_name("netdev-.x.lock"), None);
        let nic = Resource::Pci("0000:00:0a.0".into());
        assert_eq!(nic.file_name(), "pci-0000:00:0a.0.lock");
        assert_eq!(nic.to_string(), "PCI function 0000:00:0a.0");
        assert!(nic.conflicts(&Resource::Pci("0000:00:0a.0".into())));
        assert!(!nic.conflicts(&Resource::Pci("0000:00:0b.0".into())));
        assert!(!nic.conflicts(&node("0000:00:0a.0")));
        assert_eq!(ports(0x378, 3).file_name(), "ports-0x0378+3.lock");
        assert_eq!(node("ik_fifo").file_name(), "node-ik_fifo.lock");
        for f in [
            REGISTRY,
            "node-.lock",
            "ports-0x378+0.lock",
            "ports-378+3.lock",
            "pci-00:0a.0.lock",
            "pci-0000:00:0a.0/x.lock",
            "x",
        ] {
            assert_eq!(Resource::from_file_name(f), None, "{f}");
        }
        assert_eq!(ports(0x378, 3).to_string(), "host ports 0x378-0x37a");
    }

    #[test]
    fn holder_from_text() {
        let h = Holder::parse("pid=1234\nname=fifo\nresource=host node /dev/ik_fifo\n");
        assert_eq!(h.pid, Some(1234));
        assert_eq!(h.name.as_deref(), Some("fifo"));
        assert_eq!(h.to_string(), "the shim of pid 1234 (VM \"fifo\")");
        let h = Holder::parse("");
        assert_eq!(h.to_string(), "another shim (pid unknown)");
        assert_eq!(run_dir_from(None), PathBuf::from("/run/ikernel"));
        assert_eq!(run_dir_from(Some("".into())), PathBuf::from("/run/ikernel"));
        assert_eq!(run_dir_from(Some("/tmp/x".into())), PathBuf::from("/tmp/x"));
    }

    /// Two shims in one process: flock locks belong to the open file
    /// description, so the second open conflicts with the first.
    #[test]
    fn second_taker_is_refused_with_the_holder_named() {
        let dir = std::env::temp_dir().join(format!("ivt-locks-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // Only this test sets the variable; std serialises it with readers.
        std::env::set_var(RUN_DIR_ENV, &dir);
        let dir = run_dir();
        let pid = std::process::id();

        let a = Locks::take(&dir, "vm-a", &[node("ik_a"), ports(0x378, 3)]).expect("first");
        assert_eq!(a.paths().count(), 2);
        let text = std::fs::read_to_string(dir.join("node-ik_a.lock")).expect("lock file");
        assert_eq!(
            Holder::parse(&text),
            Holder {
                pid: Some(pid),
                name: Some("vm-a".into())
            }
        );

        // Same node, overlapping ports: both named, with a's pid and name.
        let e = Locks::take(&dir, "vm-b", &[node("ik_a"), ports(0x37a, 2)]).expect_err("taken");
        assert!(is_conflict(&e), "{e}");
        let m = e.to_string();
        assert!(m.contains("host node /dev/ik_a is held by"), "{m}");
        assert!(
            m.contains("host ports 0x37a-0x37b overlap host ports 0x378-0x37a"),
            "{m}"
        );
        assert!(m.contains(&format!("pid {pid} (VM \"vm-a\")")), "{m}");
        // Nothing of b's was left behind.
        assert!(!dir.join(ports(0x37a, 2).file_name()).exists());

        // Other names and the ports just after are free.
        let b = Locks::take(&dir, "vm-b", &[node("ik_b"), ports(0x37b, 5)]).expect("disjoint");

        // a exits: its files go, its node is free; b's ports are still not.
        drop(a);
        assert!(!dir.join("node-ik_a.lock").exists());
        let e = Locks::take(&dir, "vm-c", &[node("ik_a"), ports(0x370, 12)]).expect_err("b");
        assert!(e.to_string().contains("(VM \"vm-b\")"), "{e}");
        let c = Locks::take(&dir, "vm-c", &[node("ik_a"), ports(0x378, 3)]).expect("a's");

        // A killed shim leaves its file unlocked: stale, taken over.
        std::fs::write(dir.join("node-ik_d.lock"), "pid=1\nname=dead\n").expect("stale");
        let d = Locks::take(&dir, "vm-d", &[node("ik_d")]).expect("stale lock");
        let text = std::fs::read_to_string(dir.join("node-ik_d.lock")).expect("lock file");
        assert!(text.contains("name=vm-d"), "{text}");

        drop((b, c, d));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn nothing_to_lock_needs_no_directory() {
        let l = Locks::take(Path::new("/nonexistent/ikernel-run"), "x", &[]).expect("empty");
        assert_eq!(l.paths().count(), 0);
        assert_eq!(l.exit_fds(), None);
    }

    /// Whether someone holds the lock of the file at `p`.
    fn locked(p: &Path) -> bool {
        let f = open_rw(p, false).expect("lock file");
        !flock(&f, libc::LOCK_EX | libc::LOCK_NB).expect("flock")
    }

    /// Drop removes its files through the descriptors kept since `take`,
    /// not by path: it finds them in the directory renamed meanwhile, and
    /// leaves another taker's files, locked, where they are.
    #[test]
    fn drop_removes_its_files_by_descriptor_and_no_other() {
        let base = std::env::temp_dir().join(format!("ivt-locks-fd-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let dir = base.join("run");
        let a = Locks::take(&dir, "vm-a", &[node("ik_a"), ports(0x378, 3)]).expect("a");
        let b = Locks::take(&dir, "vm-b", &[node("ik_b")]).expect("b");
        let fds = a.exit_fds().expect("a holds files");
        assert_ne!(fds.dir, fds.registry);
        assert_ne!(Some(fds), b.exit_fds());
        // The registry is not held between takes.
        assert!(!locked(&dir.join(REGISTRY)));

        let moved = base.join("moved");
        std::fs::rename(&dir, &moved).expect("rename");
        drop(a);
        assert!(!moved.join(node("ik_a").file_name()).exists());
        assert!(!moved.join(ports(0x378, 3).file_name()).exists());
        assert!(!dir.exists(), "nothing made at the old path");
        // b's file is there and still b's; so is the registry.
        let b_file = moved.join(node("ik_b").file_name());
        assert!(locked(&b_file));
        assert!(std::fs::read_to_string(&b_file)
            .expect("b's file")
            .contains("name=vm-b"));
        assert!(moved.join(REGISTRY).exists());
        assert!(!locked(&moved.join(REGISTRY)));

        drop(b);
        assert!(!b_file.exists());
        std::fs::remove_dir_all(&base).expect("cleanup");
    }

    /// A take that fails half-way removes what it made, under the registry
    /// lock it holds.
    #[test]
    fn a_failed_take_leaves_nothing() {
        let dir = std::env::temp_dir().join(format!("ivt-locks-half-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // ik_a's file is made, then the second name (no valid path) fails.
        let e = Locks::take(&dir, "vm", &[node("ik_a"), node("bad\0name")]).expect_err("NUL");
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{e}");
        assert!(!dir.join(node("ik_a").file_name()).exists());
        assert!(dir.join(REGISTRY).exists());
        assert!(!locked(&dir.join(REGISTRY)));
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
