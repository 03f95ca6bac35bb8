// SPDX-License-Identifier: GPL-2.0

//! Driver-VM configuration file (TOML).
//!
//! Parsing rejects unknown keys and wrong types (serde, with toml's spans);
//! [`Config::validate`] then checks values and reports every problem as
//! `file:line: reason`.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use ikernel_ring::uapi;
use serde::Deserialize;
use toml::Spanned;

/// Largest guest RAM: everything must fit below the default window GPA.
pub const MAX_MEMORY_MIB: u64 = 3072;
/// Smallest guest RAM that boots the driver-VM kernel with an initramfs.
pub const MIN_MEMORY_MIB: u64 = 32;
/// Most vCPUs of a driver VM (also bounded by KVM_CAP_MAX_VCPUS at run
/// time, and by the guest kernel's NR_CPUS).
pub const MAX_VCPUS: u64 = 8;

/// A configuration error with its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The configuration file.
    pub file: PathBuf,
    /// 1-based line, 0 if unknown.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.reason)
    }
}

impl std::error::Error for ConfigError {}

/// Errors of one file, in file order.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

fn default_cmdline() -> Spanned<String> {
    Spanned::new(0..0, String::new())
}
fn default_memory() -> Spanned<u64> {
    Spanned::new(0..0, 64)
}
fn default_vcpus() -> Spanned<u64> {
    Spanned::new(0..0, 1)
}
fn default_gpa() -> Spanned<u64> {
    Spanned::new(0..0, 0xd000_0000)
}
fn default_wsize() -> Spanned<u64> {
    Spanned::new(0..0, 256 * 1024)
}
fn default_entries() -> Spanned<u32> {
    Spanned::new(0..0, 16)
}
fn default_doorbell() -> Spanned<u64> {
    Spanned::new(0..0, 0x600)
}
fn default_irq() -> Spanned<u32> {
    Spanned::new(0..0, 5)
}
fn default_max_restarts() -> u32 {
    5
}
/// Restarts count against `max_restarts` for this long (one hour): a crash
/// loop gives up, a crash now and then does not.
fn default_restart_window() -> Spanned<u64> {
    Spanned::new(0..0, 3600)
}
fn default_backoff_initial() -> Spanned<u64> {
    Spanned::new(0..0, 500)
}
fn default_backoff_max() -> Spanned<u64> {
    Spanned::new(0..0, 30_000)
}
fn default_ready_timeout() -> Spanned<u64> {
    Spanned::new(0..0, 600)
}
/// A driver VM whose kernel has not beaten its heartbeat (every 100 ms)
/// for this long is hung: with a margin for a loaded host, where a VM's
/// vCPU may not run for seconds.
fn default_heartbeat_timeout() -> u64 {
    30
}
fn default_dying_grace() -> Spanned<u64> {
    Spanned::new(0..0, 30)
}
fn default_mtu() -> Spanned<u32> {
    Spanned::new(0..0, 1500)
}
fn default_mode() -> Spanned<u32> {
    Spanned::new(0..0, 0o600)
}
fn default_owner() -> Spanned<String> {
    Spanned::new(0..0, "root:root".into())
}
fn default_timeout() -> Spanned<u64> {
    Spanned::new(0..0, 0)
}

/// Longest `restart_window_s` (30 days).
pub const MAX_RESTART_WINDOW_S: u64 = 30 * 86_400;

/// Longest per-call deadline of an export (one hour).
pub const MAX_TIMEOUT_MS: u64 = 3_600_000;
/// Most `[[export.ioctl]]` entries of one export (`IKERNEL_EXPORT_MAX_IOCTLS`).
// CAST: 64 fits any usize.
pub const MAX_IOCTLS: usize = uapi::EXPORT_MAX_IOCTLS as usize;
/// Most `[[export]]` entries of one driver VM: the bits of the guest's
/// exports report in the window header.
// CAST: 256 fits any usize.
pub const MAX_EXPORTS: usize = ikernel_ring::MAX_EXPORTS as usize;

/// How the shim decides that the guest is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ReadyMode {
    /// guest_stub set the guest state word in the window header to READY.
    #[default]
    Window,
    /// The guest's init printed [`crate::image::READY_MARKER`] on the console
    /// (bring-up only, before guest_stub attaches to the window).
    Console,
}

/// The `[vm]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VmSection {
    /// Guest kernel bzImage.
    pub kernel: Spanned<PathBuf>,
    /// Guest RAM in MiB.
    #[serde(default = "default_memory")]
    pub memory_mib: Spanned<u64>,
    /// Number of vCPUs.
    #[serde(default = "default_vcpus")]
    pub vcpus: Spanned<u64>,
    /// Serial console log (appended).
    pub console_log: Spanned<PathBuf>,
    /// Extra guest kernel command-line arguments.
    #[serde(default = "default_cmdline")]
    pub cmdline: Spanned<String>,
    /// The driver VM's name in the log and the events; default: the
    /// config file's stem ([`Config::vm_name`]).
    pub name: Option<Spanned<String>>,
}

/// The `[image]` table.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ImageSection {
    /// guest_stub module; default `<repo>/guest_stub/ikernel_guest.ko`.
    pub guest_stub: Option<Spanned<PathBuf>>,
    /// Parameters for guest_stub beyond those the shim sets.
    #[serde(default)]
    pub guest_stub_params: String,
    /// Module tree `lib/modules/<version>`; default from the kernel's tree.
    pub modules_dir: Option<Spanned<PathBuf>>,
    /// busybox binary (static).
    pub busybox: Option<Spanned<PathBuf>>,
    /// Extra files: `[[image.file]] src = "...", dst = "/bin/x"`.
    #[serde(default)]
    pub file: Vec<ExtraFile>,
    /// Shell lines run by /init after the modules are loaded.
    #[serde(default)]
    pub run: Vec<String>,
    /// The serving process (static); default
    /// `<repo>/build/served/ikernel-served`.  In the image only if there
    /// are exports.
    pub served: Option<Spanned<PathBuf>>,
    /// The serving process maps the window and serves every request in
    /// place (`ikernel-served -z`): the guest copies no payload.  Off by
    /// default: a driver that pins its callers' pages (DMA from user
    /// memory) cannot pin the window's, which has no `struct page`.
    #[serde(default)]
    pub zero_copy: bool,
}

/// An extra file copied into the image.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraFile {
    /// Host path.
    pub src: Spanned<PathBuf>,
    /// Absolute path in the guest.
    pub dst: Spanned<String>,
    /// Mode, default 0o755.
    pub mode: Option<u32>,
}

/// A module to load in the guest: by `name` from the module tree, or `path`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Module {
    /// In-tree module name (as in modules.dep, `-` and `_` equivalent).
    pub name: Option<Spanned<String>>,
    /// Out-of-tree module file.
    pub path: Option<Spanned<PathBuf>>,
    /// Parameters, `key=value ...`.
    #[serde(default)]
    pub params: String,
    #[serde(skip)]
    /// Span of the whole table (set by validation for messages).
    pub span: Range<usize>,
}

/// `cmd -> {dir, size}` for an ioctl without `_IOC` size encoding.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IoctlEntry {
    /// The ioctl command number.
    pub cmd: Spanned<u64>,
    /// `none`, `read`, `write` or `rw` (as `_IOC_DIR`, from user space).
    pub dir: Spanned<String>,
    /// Argument size in bytes.
    pub size: Spanned<u64>,
}

impl IoctlEntry {
    /// `dir` as `IKERNEL_IOCTL_*`: `none` 0, `write` 1 (user -> driver,
    /// `_IOW`), `read` 2 (driver -> user, `_IOR`), `rw` 3 (`_IOWR`); the
    /// same bits as `_IOC_DIR`.  Validation admits only these four.
    pub fn dir_code(&self) -> u16 {
        match self.dir.get_ref().as_str() {
            "write" => uapi::IOCTL_WRITE,
            "read" => uapi::IOCTL_READ,
            "rw" => uapi::IOCTL_RW,
            _ => uapi::IOCTL_NONE,
        }
    }
}

/// A device node of the driver VM exported to the host.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Export {
    /// Node in the guest, e.g. `/dev/rtc0`.
    pub guest_path: Spanned<String>,
    /// Name of the misc device on the host (`/dev/<host_name>`).
    pub host_name: Spanned<String>,
    /// Mode of the host node.
    #[serde(default = "default_mode")]
    pub mode: Spanned<u32>,
    /// Owner `user:group` of the host node: names from /etc/passwd and
    /// /etc/group, or numeric ids.
    #[serde(default = "default_owner")]
    pub owner: Spanned<String>,
    /// Deadline of every forwarded call in milliseconds; 0 = none.
    #[serde(default = "default_timeout")]
    pub timeout_ms: Spanned<u64>,
    /// Files opened before a driver-VM restart reopen transparently in the
    /// new VM (for stateless devices); otherwise they fail with EIO.
    #[serde(default)]
    pub reopen: bool,
    /// Ioctls without size encoding.
    #[serde(default)]
    pub ioctl: Vec<IoctlEntry>,
    /// `owner` as (uid, gid), set by [`Config::resolve_owners`].
    #[serde(skip)]
    pub ids: Option<(u32, u32)>,
}

/// A network interface of the driver VM exported as a host network
/// interface (`[[netdev]]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetDevice {
    /// The interface in the guest, e.g. `eth0`.
    pub guest_if: Spanned<String>,
    /// Name of the host interface.
    pub host_name: Spanned<String>,
    /// MTU of the host interface.
    #[serde(default = "default_mtu")]
    pub mtu: Spanned<u32>,
}

/// What the serving process's name of a net export starts with
/// (`net:IF`; `NET_NODE_PREFIX` in served/net.h).
pub const NET_NODE_PREFIX: &str = "net:";

impl NetDevice {
    /// The serving process's name for it (`net:IF`).
    pub fn served_node(&self) -> String {
        format!("{NET_NODE_PREFIX}{}", self.guest_if.get_ref())
    }
}

/// Whether `n` is a network interface name a net export may have: 1-15 of
/// `[A-Za-z0-9_.-]`, not starting with `.`.
pub fn is_ifname(n: &str) -> bool {
    is_name(n, uapi::IFNAME_MAX)
}

/// A port I/O range handed through to the machine the shim runs on.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortRange {
    /// First port.
    pub base: Spanned<u64>,
    /// Number of ports.
    pub count: Spanned<u64>,
}

/// A PCI function of the host handed to the driver VM through VFIO
/// (`[[pci]]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PciDevice {
    /// Its address on the host, `DDDD:BB:DD.F` as in
    /// `/sys/bus/pci/devices`; it must be bound to vfio-pci.
    pub host: Spanned<String>,
}

/// Whether `s` is a PCI address `DDDD:BB:DD.F` (hex; device below 0x20,
/// function below 8), as sysfs names them.
pub fn is_pci_address(s: &str) -> bool {
    let b = s.as_bytes();
    let hex = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_hexdigit);
    b.len() == 12
        && hex(0..4)
        && b[4] == b':'
        && hex(5..7)
        && b[7] == b':'
        && hex(8..10)
        && b[10] == b'.'
        && (b'0'..=b'7').contains(&b[11])
        && u8::from_str_radix(&s[8..10], 16).is_ok_and(|d| d < 0x20)
}

/// The `[window]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSection {
    /// Guest-physical address of the window (E820 reserved, below 4 GiB).
    #[serde(default = "default_gpa")]
    pub gpa: Spanned<u64>,
    /// Window size in bytes, a multiple of 4096.
    #[serde(default = "default_wsize")]
    pub size: Spanned<u64>,
    /// Slots per ring, a power of two.
    #[serde(default = "default_entries")]
    pub ring_entries: Spanned<u32>,
    /// Doorbell I/O port (KVM ioeventfd, guest -> host).
    #[serde(default = "default_doorbell")]
    pub doorbell_port: Spanned<u64>,
    /// Interrupt line raised by the host (KVM irqfd, host -> guest).
    #[serde(default = "default_irq")]
    pub irq: Spanned<u32>,
}

impl Default for WindowSection {
    fn default() -> Self {
        WindowSection {
            gpa: default_gpa(),
            size: default_wsize(),
            ring_entries: default_entries(),
            doorbell_port: default_doorbell(),
            irq: default_irq(),
        }
    }
}

/// The `[restart]` table: supervision policy.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestartSection {
    /// Restarts within `restart_window_s` after which the shim gives up.
    #[serde(default = "default_max_restarts")]
    pub max_restarts: u32,
    /// Seconds over which restarts count against `max_restarts`; 0 = the
    /// shim's whole life.
    #[serde(default = "default_restart_window")]
    pub restart_window_s: Spanned<u64>,
    /// First backoff delay, doubled on each consecutive failure.
    #[serde(default = "default_backoff_initial")]
    pub backoff_initial_ms: Spanned<u64>,
    /// Largest backoff delay.
    #[serde(default = "default_backoff_max")]
    pub backoff_max_ms: Spanned<u64>,
    /// Seconds without heartbeat progress after ready that count as a hang; 0 = off.
    #[serde(default = "default_heartbeat_timeout")]
    pub heartbeat_timeout_s: u64,
    /// Seconds from start to ready before the boot counts as failed; 0 = off.
    #[serde(default = "default_ready_timeout")]
    pub ready_timeout_s: Spanned<u64>,
    /// Seconds a guest whose console showed an Oops or a panic may go on
    /// printing its report before the shim ends the generation; 0 = at once.
    #[serde(default = "default_dying_grace")]
    pub dying_grace_s: Spanned<u64>,
    /// How readiness is detected.
    #[serde(default)]
    pub ready: ReadyMode,
}

impl Default for RestartSection {
    fn default() -> Self {
        RestartSection {
            max_restarts: default_max_restarts(),
            restart_window_s: default_restart_window(),
            backoff_initial_ms: default_backoff_initial(),
            backoff_max_ms: default_backoff_max(),
            heartbeat_timeout_s: default_heartbeat_timeout(),
            ready_timeout_s: default_ready_timeout(),
            dying_grace_s: default_dying_grace(),
            ready: ReadyMode::Window,
        }
    }
}

/// A whole driver-VM configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[vm]`.
    pub vm: VmSection,
    /// `[image]`.
    #[serde(default)]
    pub image: ImageSection,
    /// `[[module]]`.
    #[serde(default)]
    pub module: Vec<Spanned<Module>>,
    /// `[[export]]`.
    #[serde(default)]
    pub export: Vec<Export>,
    /// `[[ports]]`.
    #[serde(default)]
    pub ports: Vec<PortRange>,
    /// `[[pci]]`.
    #[serde(default)]
    pub pci: Vec<PciDevice>,
    /// `[[netdev]]`: exports after the `[[export]]` ones (their index is
    /// `export.len()` + position).
    #[serde(default)]
    pub netdev: Vec<NetDevice>,
    /// `[window]`.
    #[serde(default)]
    pub window: WindowSection,
    /// `[restart]`.
    #[serde(default)]
    pub restart: RestartSection,
    /// The configuration file (set by [`Config::load`]).
    #[serde(skip)]
    pub file: PathBuf,
    /// Its text.
    #[serde(skip)]
    pub text: String,
}

/// Returns the 1-based line of byte offset `off` in `text`.
pub fn line_of(text: &str, off: usize) -> usize {
    let end = off.min(text.len());
    text.as_bytes()
        .get(..end)
        .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
        + 1
}

/// The id of `name` in a database in /etc/passwd or /etc/group format
/// (`name:password:id:...`), else `name` itself if it is a number (as
/// chown(1) does).
pub fn lookup_id(db: &str, name: &str) -> Option<u32> {
    db.lines()
        .find_map(|l| {
            let mut f = l.split(':');
            if f.next()? != name {
                return None;
            }
            f.nth(1)?.trim().parse().ok()
        })
        .or_else(|| name.parse().ok())
}

struct Check<'a> {
    file: &'a Path,
    text: &'a str,
    errs: Vec<ConfigError>,
}

impl Check<'_> {
    fn err(&mut self, span: &Range<usize>, reason: impl Into<String>) {
        // Defaults have an empty span at 0: no line to point at.
        let line = if span.is_empty() && span.start == 0 {
            0
        } else {
            line_of(self.text, span.start)
        };
        self.errs.push(ConfigError {
            file: self.file.to_path_buf(),
            line,
            reason: reason.into(),
        });
    }
}

/// Longest `[vm] name`: host_stub's name field with its NUL
/// (`IKERNEL_NAME_MAX`), as it shows in sysfs.
pub const MAX_VM_NAME: usize = uapi::NAME_MAX - 1;

/// Whether `n` is a valid `[vm] name`: 1-31 of `[A-Za-z0-9_.-]`, not
/// starting with `.` (it also names lock files and log lines).
pub fn is_vm_name(n: &str) -> bool {
    is_name(n, MAX_VM_NAME)
}

/// Whether `n` is 1-`max` of `[A-Za-z0-9_.-]`, not starting with `.`: the
/// names host_stub takes (VM, node and interface names).
fn is_name(n: &str, max: usize) -> bool {
    (1..=max).contains(&n.len())
        && !n.starts_with('.')
        && n.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "_.-".contains(ch))
}

/// A valid VM name made from a file stem: other characters become `_`,
/// leading dots go, at most [`MAX_VM_NAME`] characters; `vm` if nothing is
/// left.
pub fn name_from_stem(stem: &str) -> String {
    let n: String = stem
        .trim_start_matches('.')
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || "_.-".contains(ch) {
                ch
            } else {
                '_'
            }
        })
        .take(MAX_VM_NAME)
        .collect();
    if n.is_empty() {
        "vm".into()
    } else {
        n
    }
}

fn ranges_overlap(a: (u64, u64), b: (u64, u64)) -> bool {
    a.0 < b.0 + b.1 && b.0 < a.0 + a.1
}

impl Config {
    /// Parses `text` (the contents of `file`) and validates it.
    pub fn parse(file: &Path, text: &str) -> Result<Config, ConfigErrors> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| line_of(text, s.start));
            ConfigErrors(vec![ConfigError {
                file: file.to_path_buf(),
                line,
                reason: e.message().trim().replace('\n', " "),
            }])
        })?;
        cfg.file = file.to_path_buf();
        cfg.text = text.to_string();
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads and parses a configuration file.
    pub fn load(file: &Path) -> Result<Config, ConfigErrors> {
        let text = std::fs::read_to_string(file).map_err(|e| {
            ConfigErrors(vec![ConfigError {
                file: file.to_path_buf(),
                line: 0,
                reason: format!("cannot read: {e}"),
            }])
        })?;
        let mut cfg = Config::parse(file, &text)?;
        let mut errs = cfg.check_files().err().map_or_else(Vec::new, |e| e.0);
        if !cfg.export.is_empty() {
            let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
            let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
            if let Err(e) = cfg.resolve_owners(&passwd, &group) {
                errs.extend(e.0);
            }
        }
        errs.sort_by_key(|e| e.line);
        if errs.is_empty() {
            Ok(cfg)
        } else {
            Err(ConfigErrors(errs))
        }
    }

    /// Sets every export's [`Export::ids`] from its `owner`, with the user
    /// and group databases `passwd` and `group` (the text of /etc/passwd and
    /// /etc/group).  Numeric ids are taken as they are.
    pub fn resolve_owners(&mut self, passwd: &str, group: &str) -> Result<(), ConfigErrors> {
        let mut c = Check {
            file: &self.file,
            text: &self.text,
            errs: Vec::new(),
        };
        for e in &mut self.export {
            let Some((u, g)) = e.owner.get_ref().split_once(':') else {
                continue; // reported by validate()
            };
            let uid = lookup_id(passwd, u);
            let gid = lookup_id(group, g);
            if uid.is_none() {
                c.err(
                    &e.owner.span(),
                    format!("owner: no user {u:?} in /etc/passwd"),
                );
            }
            if gid.is_none() {
                c.err(
                    &e.owner.span(),
                    format!("owner: no group {g:?} in /etc/group"),
                );
            }
            e.ids = uid.zip(gid);
        }
        if c.errs.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors(c.errs))
        }
    }

    /// Checks that the input files named in the config exist.
    pub fn check_files(&self) -> Result<(), ConfigErrors> {
        let mut c = Check {
            file: &self.file,
            text: &self.text,
            errs: Vec::new(),
        };
        let mut need = |p: &Spanned<PathBuf>, what: &str| {
            let f = self.resolve(p.get_ref());
            if let Err(e) = std::fs::metadata(&f) {
                c.err(&p.span(), format!("{what} {}: {e}", f.display()));
            }
        };
        need(&self.vm.kernel, "kernel");
        if let Some(p) = &self.image.guest_stub {
            need(p, "guest_stub");
        }
        if let Some(p) = &self.image.busybox {
            need(p, "busybox");
        }
        for m in &self.module {
            if let Some(p) = &m.get_ref().path {
                need(p, "module");
            }
        }
        for f in &self.image.file {
            need(&f.src, "file");
        }
        if let Some(p) = self.image.served.as_ref().filter(|_| self.has_exports()) {
            need(p, "served");
        }
        if c.errs.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors(c.errs))
        }
    }

    /// Checks the `[[netdev]]` entries: names, MTU against a slot's
    /// buffer (a frame and its record header must fit one), clashes.
    fn check_netdevs(&self, c: &mut Check<'_>) {
        let slot = ikernel_ring::Layout::for_window(
            *self.window.size.get_ref(),
            *self.window.ring_entries.get_ref(),
        )
        .ok()
        .map(|l| l.slot_data_size);
        let mut hosts: Vec<&str> = Vec::new();
        let mut guests: Vec<&str> = Vec::new();
        for n in &self.netdev {
            let h = n.host_name.get_ref();
            if !is_ifname(h) {
                c.err(
                    &n.host_name.span(),
                    format!(
                        "host_name must be 1-{} of [A-Za-z0-9_.-], not starting with `.`, got {h:?}",
                        uapi::IFNAME_MAX
                    ),
                );
            } else if hosts.contains(&h.as_str()) {
                c.err(
                    &n.host_name.span(),
                    format!("netdev host_name {h:?} listed twice"),
                );
            }
            hosts.push(h);
            let g = n.guest_if.get_ref();
            if !is_ifname(g) {
                c.err(
                    &n.guest_if.span(),
                    format!(
                        "guest_if must be 1-{} of [A-Za-z0-9_.-], not starting with `.`, got {g:?}",
                        uapi::IFNAME_MAX
                    ),
                );
            } else if guests.contains(&g.as_str()) {
                c.err(&n.guest_if.span(), format!("guest_if {g:?} exported twice"));
            }
            guests.push(g);
            let mtu = *n.mtu.get_ref();
            // A frame: the MTU, the Ethernet header and a VLAN tag; its
            // batch record adds 2 bytes.
            let need = u64::from(mtu) + 14 + 4 + 2;
            if !(68..=65_000).contains(&mtu) {
                c.err(
                    &n.mtu.span(),
                    format!("mtu must be in 68..=65000, got {mtu}"),
                );
            } else if let Some(slot) = slot.filter(|&s| u64::from(s) < need) {
                c.err(
                    &n.mtu.span(),
                    format!(
                        "mtu {mtu} needs slots of {need} bytes, the window's have {slot}: \
                         grow [window] size or lower ring_entries"
                    ),
                );
            }
        }
    }

    /// Checks values; every error names its line.
    pub fn validate(&mut self) -> Result<(), ConfigErrors> {
        let file = self.file.clone();
        let text = self.text.clone();
        let mut c = Check {
            file: &file,
            text: &text,
            errs: Vec::new(),
        };
        let vm = &self.vm;
        let mem = *vm.memory_mib.get_ref();
        if !(MIN_MEMORY_MIB..=MAX_MEMORY_MIB).contains(&mem) {
            c.err(
                &vm.memory_mib.span(),
                format!("memory_mib must be in {MIN_MEMORY_MIB}..={MAX_MEMORY_MIB}, got {mem}"),
            );
        }
        let v = *vm.vcpus.get_ref();
        if !(1..=MAX_VCPUS).contains(&v) {
            c.err(
                &vm.vcpus.span(),
                format!("vcpus must be in 1..={MAX_VCPUS}, got {v}"),
            );
        }
        if vm.kernel.get_ref().as_os_str().is_empty() {
            c.err(&vm.kernel.span(), "kernel must not be empty");
        }
        if vm.console_log.get_ref().as_os_str().is_empty() {
            c.err(&vm.console_log.span(), "console_log must not be empty");
        }
        if vm.cmdline.get_ref().contains('\n') {
            c.err(&vm.cmdline.span(), "cmdline must be one line");
        }
        if let Some(n) = &vm.name {
            if !is_vm_name(n.get_ref()) {
                c.err(
                    &n.span(),
                    format!(
                        "name must be 1-{MAX_VM_NAME} of [A-Za-z0-9_.-], not starting with `.`, \
                         got {:?}",
                        n.get_ref()
                    ),
                );
            }
        }

        for m in &mut self.module {
            let span = m.span();
            let mm = m.get_mut();
            mm.span = span.clone();
            match (&mm.name, &mm.path) {
                (Some(_), Some(_)) | (None, None) => {
                    c.err(&span, "a module needs exactly one of `name` or `path`")
                }
                (Some(n), None) => {
                    let s = n.get_ref();
                    if s.is_empty()
                        || !s
                            .chars()
                            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
                    {
                        c.err(&n.span(), format!("bad module name {s:?}"));
                    }
                }
                (None, Some(p)) => {
                    if p.get_ref().extension().is_none_or(|e| e != "ko") {
                        c.err(&p.span(), "module path must name a .ko file");
                    }
                }
            }
            if mm.params.contains(['\n', '\'', '"', '`', '$', ';', '\\']) {
                c.err(
                    &span,
                    "module params may not contain quotes, newlines, `$`, `;` or `\\`",
                );
            }
        }
        if self
            .image
            .guest_stub_params
            .contains(['\n', '\'', '"', '`', '$', ';', '\\'])
        {
            c.err(
                &(0..0),
                "image.guest_stub_params may not contain quotes, newlines, `$`, `;` or `\\`",
            );
        }
        for f in &self.image.file {
            if !f.dst.get_ref().starts_with('/') || f.dst.get_ref().contains("..") {
                c.err(&f.dst.span(), "dst must be an absolute path without `..`");
            }
        }

        // The guest reports which exports it serves in a fixed-size map.
        if let Some(n) = self
            .netdev
            .get(MAX_EXPORTS.saturating_sub(self.export.len()))
        {
            c.err(
                &n.host_name.span(),
                format!(
                    "at most {MAX_EXPORTS} [[export]] and [[netdev]] entries per driver VM, got {}",
                    self.export.len() + self.netdev.len()
                ),
            );
        }
        self.check_netdevs(&mut c);
        if let Some(e) = self.export.get(MAX_EXPORTS) {
            c.err(
                &e.host_name.span(),
                format!(
                    "at most {MAX_EXPORTS} [[export]] entries per driver VM (the guest's \
                     report of served exports has {MAX_EXPORTS} bits), got {}",
                    self.export.len()
                ),
            );
        }
        let mut host_names: Vec<&str> = Vec::new();
        for e in &self.export {
            let gp = e.guest_path.get_ref();
            // /init and ikernel-served's command line use it unquoted;
            // host_stub shows it in sysfs (IKERNEL_PATH_MAX with the NUL).
            if !gp.starts_with("/dev/")
                || gp.len() == 5
                || gp.len() >= uapi::PATH_MAX
                || gp.contains("..")
                || !gp
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "/_.+,:@-".contains(ch))
            {
                c.err(
                    &e.guest_path.span(),
                    format!(
                        "guest_path must be a node under /dev/ of [A-Za-z0-9/_.+,:@-], at most {} bytes, got {gp:?}",
                        uapi::PATH_MAX - 1
                    ),
                );
            }
            let hn = e.host_name.get_ref();
            if !is_name(hn, uapi::NAME_MAX - 1) {
                c.err(
                    &e.host_name.span(),
                    format!(
                        "host_name must be 1-{} of [A-Za-z0-9_.-], not starting with `.`, got {hn:?}",
                        uapi::NAME_MAX - 1
                    ),
                );
            } else if host_names.contains(&hn.as_str()) {
                c.err(
                    &e.host_name.span(),
                    format!("host_name {hn:?} exported twice"),
                );
            }
            host_names.push(hn);
            let owner_ok = e.owner.get_ref().split_once(':').is_some_and(|(u, g)| {
                let ok = |x: &str| {
                    !x.is_empty()
                        && x.chars()
                            .all(|ch| ch.is_ascii_alphanumeric() || "_-.".contains(ch))
                };
                ok(u) && ok(g)
            });
            if !owner_ok {
                c.err(
                    &e.owner.span(),
                    format!("owner must be user:group, got {:?}", e.owner.get_ref()),
                );
            }
            let t = *e.timeout_ms.get_ref();
            if t > MAX_TIMEOUT_MS {
                c.err(
                    &e.timeout_ms.span(),
                    format!("timeout_ms must be at most {MAX_TIMEOUT_MS} (one hour), got {t}"),
                );
            }
            if e.ioctl.len() > MAX_IOCTLS {
                c.err(
                    &e.host_name.span(),
                    format!(
                        "at most {MAX_IOCTLS} [[export.ioctl]] entries per export, got {}",
                        e.ioctl.len()
                    ),
                );
            }
            if *e.mode.get_ref() > 0o777 {
                c.err(
                    &e.mode.span(),
                    format!("mode must be at most 0o777, got {:#o}", e.mode.get_ref()),
                );
            }
            let mut cmds = Vec::new();
            for io in &e.ioctl {
                let cmd = *io.cmd.get_ref();
                if cmd > u64::from(u32::MAX) {
                    c.err(
                        &io.cmd.span(),
                        format!("ioctl cmd {cmd:#x} does not fit 32 bits"),
                    );
                }
                if cmds.contains(&cmd) {
                    c.err(&io.cmd.span(), format!("ioctl cmd {cmd:#x} listed twice"));
                }
                cmds.push(cmd);
                let d = io.dir.get_ref().as_str();
                if !matches!(d, "none" | "read" | "write" | "rw") {
                    c.err(
                        &io.dir.span(),
                        format!("dir must be none, read, write or rw, got {d:?}"),
                    );
                }
                let sz = *io.size.get_ref();
                if d == "none" && sz != 0 {
                    c.err(&io.size.span(), "size must be 0 when dir is none");
                }
                if matches!(d, "read" | "write" | "rw") && sz == 0 {
                    c.err(
                        &io.size.span(),
                        format!("size must not be 0 when dir is {d} (use dir = \"none\")"),
                    );
                }
                if sz > u64::from(uapi::IOCTL_SIZE_MAX) {
                    c.err(
                        &io.size.span(),
                        format!(
                            "size must be at most {} (_IOC_SIZE), got {sz}",
                            uapi::IOCTL_SIZE_MAX
                        ),
                    );
                }
            }
        }

        let w = &self.window;
        let db = *w.doorbell_port.get_ref();
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        for p in &self.ports {
            let (b, n) = (*p.base.get_ref(), *p.count.get_ref());
            if n == 0 || b + n > 0x1_0000 {
                c.err(
                    &p.base.span(),
                    format!("port range {b:#x}+{n} must be non-empty and below 0x10000"),
                );
                continue;
            }
            for (what, r) in [
                ("the serial console 0x3f8-0x3ff", (0x3f8, 8)),
                ("the PIC/PIT/PCI ports the VMM emulates", (0x20, 2)),
                ("the PIC/PIT/PCI ports the VMM emulates", (0x40, 4)),
                ("the PIC/PIT/PCI ports the VMM emulates", (0xa0, 2)),
                ("the PIC/PIT/PCI ports the VMM emulates", (0xcf8, 8)),
                ("the doorbell port", (db, 4)),
            ] {
                if ranges_overlap((b, n), r) {
                    c.err(
                        &p.base.span(),
                        format!("port range {b:#x}+{n} overlaps {what}"),
                    );
                }
            }
            for &r in &ranges {
                if ranges_overlap((b, n), r) {
                    c.err(
                        &p.base.span(),
                        format!("port range {b:#x}+{n} overlaps another range"),
                    );
                }
            }
            ranges.push((b, n));
        }

        let gpa = *w.gpa.get_ref();
        let size = *w.size.get_ref();
        let ram_end = mem << 20;
        if !gpa.is_multiple_of(4096) || gpa < 0x0010_0000 || gpa.saturating_add(size) > 0xfec0_0000
        {
            c.err(&w.gpa.span(), format!("window gpa {gpa:#x} must be page aligned and the window must lie in 1 MiB..0xfec00000 (below the IOAPIC)"));
        } else if gpa < ram_end && (MIN_MEMORY_MIB..=MAX_MEMORY_MIB).contains(&mem) {
            let span = if w.gpa.span().is_empty() {
                vm.memory_mib.span()
            } else {
                w.gpa.span()
            };
            c.err(
                &span,
                format!("window gpa {gpa:#x} overlaps guest RAM (ends at {ram_end:#x})"),
            );
        }
        let size_ok =
            size.is_multiple_of(4096) && (uapi::WINDOW_MIN..=uapi::WINDOW_MAX).contains(&size);
        if !size_ok {
            c.err(
                &w.size.span(),
                format!(
                    "window size must be a multiple of 4096 in {} KiB..={} MiB (host_stub's \
                     limits), got {size}",
                    uapi::WINDOW_MIN >> 10,
                    uapi::WINDOW_MAX >> 20
                ),
            );
        }
        let re = *w.ring_entries.get_ref();
        if !re.is_power_of_two()
            || !(ikernel_ring::MIN_SLOTS..=ikernel_ring::MAX_SLOTS).contains(&re)
        {
            c.err(
                &w.ring_entries.span(),
                format!(
                    "ring_entries must be a power of two in {}..={}, got {re}",
                    ikernel_ring::MIN_SLOTS,
                    ikernel_ring::MAX_SLOTS
                ),
            );
        } else if size_ok && crate::window::layout_for(size, re).is_none() {
            c.err(
                &w.size.span(),
                format!("window size {size} too small for {re} ring entries"),
            );
        }
        if db == 0
            || db > 0xfffc
            || ranges_overlap((db, 4), (0x3f8, 8))
            || ranges_overlap((db, 4), (0x20, 0x80))
        {
            c.err(
                &w.doorbell_port.span(),
                format!("doorbell_port {db:#x} must be a free port below 0xfffc"),
            );
        }
        let irq = *w.irq.get_ref();
        if !(1..=15).contains(&irq) || [2, 4, 8].contains(&irq) {
            c.err(
                &w.irq.span(),
                format!("irq must be a free ISA line in 1..=15 (not 2, 4 or 8), got {irq}"),
            );
        }

        let mut hosts: Vec<String> = Vec::new();
        for d in &self.pci {
            let h = d.host.get_ref().to_ascii_lowercase();
            if !is_pci_address(&h) {
                c.err(
                    &d.host.span(),
                    format!("pci host must be a PCI address DDDD:BB:DD.F, got {h:?}"),
                );
            } else if hosts.contains(&h) {
                c.err(&d.host.span(), format!("pci host {h} listed twice"));
            }
            hosts.push(h);
        }
        if let Some(d) = self.pci.get(crate::pci::MAX_DEVICES) {
            c.err(
                &d.host.span(),
                format!(
                    "at most {} [[pci]] devices (their INTx lines are GSIs {}..={})",
                    crate::pci::MAX_DEVICES,
                    crate::pci::FIRST_GSI,
                    crate::pci::FIRST_GSI + crate::pci::MAX_DEVICES as u32 - 1
                ),
            );
        }
        if !self.pci.is_empty() {
            let (ms, me) = (crate::pci::MMIO_START, crate::pci::MMIO_END);
            if ranges_overlap((gpa, size), (ms, me - ms)) {
                c.err(
                    &w.gpa.span(),
                    format!(
                        "window {gpa:#x}+{size:#x} overlaps the PCI memory space \
                         {ms:#x}..{me:#x} that [[pci]] devices use"
                    ),
                );
            }
            let (is, ie) = (
                u64::from(crate::pci::IO_START),
                u64::from(crate::pci::IO_END),
            );
            if ranges_overlap((db, 4), (is, ie - is)) {
                c.err(
                    &w.doorbell_port.span(),
                    format!("doorbell_port {db:#x} is in the PCI I/O space {is:#x}..{ie:#x}"),
                );
            }
            for p in &self.ports {
                let (b, n) = (*p.base.get_ref(), *p.count.get_ref());
                if ranges_overlap((b, n), (is, ie - is)) {
                    c.err(
                        &p.base.span(),
                        format!("port range {b:#x}+{n} is in the PCI I/O space {is:#x}..{ie:#x}"),
                    );
                }
            }
        }

        let r = &self.restart;
        let (bi, bm) = (*r.backoff_initial_ms.get_ref(), *r.backoff_max_ms.get_ref());
        if bi == 0 || bi > bm {
            c.err(
                &r.backoff_initial_ms.span(),
                format!("backoff_initial_ms must be in 1..=backoff_max_ms ({bm}), got {bi}"),
            );
        }
        if bm > 3_600_000 {
            c.err(
                &r.backoff_max_ms.span(),
                "backoff_max_ms must be at most one hour",
            );
        }
        let rw = *r.restart_window_s.get_ref();
        if rw > MAX_RESTART_WINDOW_S {
            c.err(
                &r.restart_window_s.span(),
                format!(
                    "restart_window_s must be at most {MAX_RESTART_WINDOW_S} (30 days; 0 = the \
                     whole life), got {rw}"
                ),
            );
        } else if rw != 0 && rw.saturating_mul(1000) < bm {
            // Once the backoff has grown to its largest, restarts come
            // further apart than the window: never two in one window, so a
            // crash loop would go on for ever.
            c.err(
                &r.restart_window_s.span(),
                format!(
                    "restart_window_s ({rw} s) must be 0 or at least backoff_max_ms ({bm} ms), \
                     or a crash loop never gives up"
                ),
            );
        }
        if *r.ready_timeout_s.get_ref() > 86_400 {
            c.err(
                &r.ready_timeout_s.span(),
                "ready_timeout_s must be at most one day",
            );
        }
        if *r.dying_grace_s.get_ref() > 600 {
            c.err(&r.dying_grace_s.span(), "dying_grace_s must be at most 600");
        }

        c.errs.sort_by_key(|e| e.line);
        if c.errs.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors(c.errs))
        }
    }

    /// Resolves a path from the file relative to the file's directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.file.parent().unwrap_or(Path::new(".")).join(p)
        }
    }

    /// The guest kernel.
    pub fn kernel(&self) -> PathBuf {
        self.resolve(self.vm.kernel.get_ref())
    }

    /// Whether the driver VM serves anything: `[[export]]` nodes or
    /// `[[netdev]]` interfaces.
    pub fn has_exports(&self) -> bool {
        !self.export.is_empty() || !self.netdev.is_empty()
    }

    /// The driver VM's name: `[vm] name`, else the config file's stem
    /// made valid ([`name_from_stem`]).
    pub fn vm_name(&self) -> String {
        match &self.vm.name {
            Some(n) => n.get_ref().clone(),
            None => name_from_stem(
                &self
                    .file
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
        }
    }

    /// The console log.
    pub fn console_log(&self) -> PathBuf {
        self.resolve(self.vm.console_log.get_ref())
    }

    /// Guest RAM in bytes.
    pub fn memory_bytes(&self) -> u64 {
        *self.vm.memory_mib.get_ref() << 20
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[vm]
kernel = "bzImage"
memory_mib = 64
console_log = "console.log"

[[module]]
name = "parport_pc"
params = "io=0x378 irq=none"

[[module]]
path = "samples/x.ko"

[[export]]
guest_path = "/dev/rtc0"
host_name = "ik_rtc0"
mode = 0o660
  [[export.ioctl]]
  cmd = 0x7001
  dir = "read"
  size = 4

[[ports]]
base = 0x378
count = 3
"#;

    fn parse(s: &str) -> Result<Config, ConfigErrors> {
        Config::parse(Path::new("t.toml"), s)
    }

    fn one_err(s: &str) -> ConfigError {
        let e = parse(s).expect_err("must fail");
        assert_eq!(e.0.len(), 1, "{e}");
        e.0.into_iter().next().unwrap_or_else(|| unreachable!())
    }

    #[test]
    fn good_config() {
        let c = parse(GOOD).expect("parses");
        assert_eq!(*c.vm.memory_mib.get_ref(), 64);
        assert_eq!(c.module.len(), 2);
        assert_eq!(*c.export[0].mode.get_ref(), 0o660);
        assert_eq!(*c.window.gpa.get_ref(), 0xd000_0000);
        assert_eq!(c.kernel(), PathBuf::from("bzImage"));
    }

    #[test]
    fn unknown_key_has_line() {
        let e = one_err(&GOOD.replace("memory_mib = 64", "memory_mib = 64\nmemroy = 3"));
        assert_eq!(e.line, 5);
        assert!(e.reason.contains("unknown field `memroy`"), "{}", e.reason);
        assert!(e.to_string().starts_with("t.toml:5: "), "{e}");
    }

    #[test]
    fn wrong_type_has_line() {
        let e = one_err(&GOOD.replace("memory_mib = 64", "memory_mib = \"lots\""));
        assert_eq!(e.line, 4);
    }

    #[test]
    fn vcpu_bounds() {
        let c = parse(&GOOD.replace("memory_mib = 64", "memory_mib = 64\nvcpus = 8")).expect("8");
        assert_eq!(*c.vm.vcpus.get_ref(), 8);
        for bad in ["0", "9"] {
            let e = one_err(&GOOD.replace(
                "memory_mib = 64",
                &format!("memory_mib = 64\nvcpus = {bad}"),
            ));
            assert_eq!(e.line, 5);
            assert!(e.reason.contains("vcpus must be in 1..=8"), "{}", e.reason);
        }
    }

    #[test]
    fn export_count_limit() {
        let one =
            |i: usize| format!("[[export]]\nguest_path = \"/dev/n{i}\"\nhost_name = \"h{i}\"\n");
        let head = "[vm]\nkernel = \"k\"\nconsole_log = \"c\"\n";
        let ok: String = (0..MAX_EXPORTS).map(one).collect();
        assert_eq!(
            parse(&format!("{head}{ok}")).expect("256").export.len(),
            256
        );
        let e = one_err(&format!("{head}{ok}{}", one(MAX_EXPORTS)));
        assert!(e.reason.contains("at most 256 [[export]]"), "{}", e.reason);
        assert!(e.reason.contains("got 257"), "{}", e.reason);
        assert_eq!(e.line, 3 + 3 * 256 + 3, "points at the first one too many");
    }

    #[test]
    fn missing_kernel() {
        let e = one_err("[vm]\nconsole_log = \"x\"\n");
        assert!(e.reason.contains("missing field `kernel`"), "{}", e.reason);
    }

    #[test]
    fn semantic_errors_have_lines() {
        let e = one_err(&GOOD.replace("memory_mib = 64", "memory_mib = 8"));
        assert_eq!(e.line, 4);
        assert!(e.reason.contains("memory_mib"));
        let e = one_err(&GOOD.replace("dir = \"read\"", "dir = \"sideways\""));
        assert_eq!(e.line, 20);
        let e = one_err(&GOOD.replace("base = 0x378", "base = 0x3f8"));
        assert_eq!(e.line, 24);
        assert!(e.reason.contains("serial"));
        let e = one_err(&GOOD.replace("mode = 0o660", "mode = 0o4755"));
        assert_eq!(e.line, 17);
    }

    #[test]
    fn module_needs_name_or_path() {
        let e = one_err(&GOOD.replace("path = \"samples/x.ko\"", "params = \"a=1\""));
        assert_eq!(e.line, 11);
        assert!(e.reason.contains("exactly one"));
    }

    #[test]
    fn window_checks() {
        let s = format!("{GOOD}\n[window]\ngpa = 0x1000000\n");
        let e = one_err(&s);
        assert!(e.reason.contains("overlaps guest RAM"), "{}", e.reason);
        let s = format!("{GOOD}\n[window]\nring_entries = 12\n");
        let e = one_err(&s);
        assert!(e.reason.contains("power of two"));
        let s = format!("{GOOD}\n[window]\nsize = 4096\n");
        let e = one_err(&s);
        assert!(e.reason.contains("16 KiB..=64 MiB"), "{}", e.reason);
        let s = format!("{GOOD}\n[window]\nsize = 0x4001000\n");
        let e = one_err(&s);
        assert!(e.reason.contains("16 KiB..=64 MiB"), "{}", e.reason);
        let s = format!("{GOOD}\n[window]\nsize = 0x4000000\n");
        assert!(parse(&s).is_ok(), "host_stub's largest window");
        let s = format!("{GOOD}\n[window]\nsize = 16384\nring_entries = 256\n");
        let e = one_err(&s);
        assert!(e.reason.contains("too small"), "{}", e.reason);
        let s = format!("{GOOD}\n[window]\nirq = 4\n");
        assert!(one_err(&s).reason.contains("irq"));
    }

    #[test]
    fn several_errors_sorted() {
        let s = GOOD
            .replace("memory_mib = 64", "memory_mib = 99999")
            .replace("count = 3", "count = 0");
        let e = parse(&s).expect_err("fails");
        assert_eq!(e.0.len(), 2, "{e}");
        assert!(e.0[0].line < e.0[1].line);
    }

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
        alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n\
        broken:x:notanumber:0::/:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nlp:x:7:\nalice:x:1000:\n1234:x:55:\n";

    #[test]
    fn owner_resolution() {
        assert_eq!(lookup_id(PASSWD, "root"), Some(0));
        assert_eq!(lookup_id(PASSWD, "alice"), Some(1000));
        assert_eq!(lookup_id(PASSWD, "ali"), None);
        assert_eq!(lookup_id(PASSWD, "broken"), None);
        assert_eq!(lookup_id(PASSWD, "4242"), Some(4242));
        assert_eq!(lookup_id("", "0"), Some(0));
        assert_eq!(lookup_id(GROUP, "lp"), Some(7));
        // A name wins over a number, as with chown(1).
        assert_eq!(lookup_id(GROUP, "1234"), Some(55));

        let mut c =
            parse(&GOOD.replace("mode = 0o660", "mode = 0o660\nowner = \"alice:lp\"")).expect("ok");
        assert_eq!(c.export[0].ids, None);
        c.resolve_owners(PASSWD, GROUP).expect("resolves");
        assert_eq!(c.export[0].ids, Some((1000, 7)));

        let mut c =
            parse(&GOOD.replace("mode = 0o660", "mode = 0o660\nowner = \"0:7\"")).expect("ok");
        c.resolve_owners("", "").expect("numeric");
        assert_eq!(c.export[0].ids, Some((0, 7)));

        // Default root:root.
        let mut c = parse(GOOD).expect("ok");
        c.resolve_owners(PASSWD, GROUP).expect("root");
        assert_eq!(c.export[0].ids, Some((0, 0)));

        let mut c = parse(&GOOD.replace("mode = 0o660", "mode = 0o660\nowner = \"nobody_xyz:lp\""))
            .expect("ok");
        let e = c.resolve_owners(PASSWD, GROUP).expect_err("unknown user");
        assert_eq!(e.0.len(), 1, "{e}");
        assert_eq!(e.0[0].line, 18);
        assert!(e.0[0].reason.contains("no user \"nobody_xyz\""), "{e}");
        let mut c =
            parse(&GOOD.replace("mode = 0o660", "mode = 0o660\nowner = \"x:y\"")).expect("ok");
        assert_eq!(
            c.resolve_owners(PASSWD, GROUP).expect_err("both").0.len(),
            2
        );
    }

    #[test]
    fn owner_syntax_has_its_line() {
        let e = one_err(&GOOD.replace("mode = 0o660", "mode = 0o660\nowner = \"alice\""));
        assert_eq!(e.line, 18);
        assert!(e.reason.contains("user:group"), "{}", e.reason);
    }

    #[test]
    fn export_timeout() {
        let c = parse(GOOD).expect("ok");
        assert_eq!(*c.export[0].timeout_ms.get_ref(), 0);
        let c =
            parse(&GOOD.replace("mode = 0o660", "mode = 0o660\ntimeout_ms = 3600000")).expect("ok");
        assert_eq!(*c.export[0].timeout_ms.get_ref(), 3_600_000);
        let e = one_err(&GOOD.replace("mode = 0o660", "mode = 0o660\ntimeout_ms = 3600001"));
        assert_eq!(e.line, 18);
        assert!(e.reason.contains("timeout_ms"), "{}", e.reason);
    }

    #[test]
    fn ioctl_dir_codes_follow_ioc_dir() {
        // IKERNEL_IOCTL_* = _IOC_NONE/_IOC_WRITE/_IOC_READ/both: "read" is
        // _IOR, data copied back to user space.
        for (d, code) in [("none", 0), ("write", 1), ("read", 2), ("rw", 3)] {
            let size = if d == "none" { 0 } else { 4 };
            let c = parse(
                &GOOD
                    .replace("dir = \"read\"", &format!("dir = \"{d}\""))
                    .replace("size = 4", &format!("size = {size}")),
            )
            .expect("ok");
            assert_eq!(c.export[0].ioctl[0].dir_code(), code, "{d}");
        }
    }

    #[test]
    fn too_many_ioctls() {
        let mut s = GOOD.replace("[[ports]]", "");
        s = s.replace("base = 0x378\ncount = 3\n", "");
        for i in 0..MAX_IOCTLS {
            s.push_str(&format!(
                "  [[export.ioctl]]\n  cmd = {}\n  dir = \"none\"\n  size = 0\n",
                0x100 + i
            ));
        }
        let e = one_err(&s);
        assert!(e.reason.contains("at most 64"), "{}", e.reason);
    }

    #[test]
    fn export_names() {
        for bad in ["..", ".hidden", "a/b", ""] {
            let e = one_err(&GOOD.replace("ik_rtc0", bad));
            assert!(e.reason.contains("host_name"), "{}", e.reason);
        }
        let e = one_err(&GOOD.replace("size = 4", "size = 0"));
        assert_eq!(e.line, 21);
        assert!(e.reason.contains("must not be 0"), "{}", e.reason);
        for bad in ["/dev/", "/dev/a;reboot", "/dev/$x", "/dev/a'b", "/dev/../x"] {
            let e = one_err(&GOOD.replace("/dev/rtc0", bad));
            assert_eq!(e.line, 15, "{bad}");
        }
        parse(&GOOD.replace("/dev/rtc0", "/dev/snd/pcmC0D0p")).expect("subdirectory");
    }

    #[test]
    fn netdev_checks() {
        let nd = |body: &str| format!("{GOOD}\n[[netdev]]\n{body}\n");
        let c = parse(&nd("guest_if = \"eth0\"\nhost_name = \"ikn0\"")).expect("valid");
        assert_eq!(*c.netdev[0].mtu.get_ref(), 1500, "the default MTU");
        assert_eq!(c.netdev[0].served_node(), "net:eth0");
        assert!(c.has_exports());
        for bad in ["", ".x", "a/b", "sixteen_chars_xx", "a b"] {
            let e = one_err(&nd(&format!("guest_if = \"eth0\"\nhost_name = {bad:?}")));
            assert!(e.reason.contains("host_name"), "{bad}: {}", e.reason);
            let e = one_err(&nd(&format!("guest_if = {bad:?}\nhost_name = \"ikn0\"")));
            assert!(e.reason.contains("guest_if"), "{bad}: {}", e.reason);
        }
        let e = one_err(&nd("guest_if = \"eth0\"\nhost_name = \"ikn0\"\nmtu = 67"));
        assert!(e.reason.contains("68..=65000"), "{}", e.reason);
        // The default window's slots (256 KiB, 16 entries) hold about 15 KiB.
        let e = one_err(&nd(
            "guest_if = \"eth0\"\nhost_name = \"ikn0\"\nmtu = 60000",
        ));
        assert!(e.reason.contains("grow [window] size"), "{}", e.reason);
        parse(&nd("guest_if = \"eth0\"\nhost_name = \"ikn0\"\nmtu = 9000")).expect("jumbo");
        let twice = format!(
            "{}[[netdev]]\nguest_if = \"eth1\"\nhost_name = \"ikn0\"\n",
            nd("guest_if = \"eth0\"\nhost_name = \"ikn0\"")
        );
        assert!(one_err(&twice).reason.contains("listed twice"));
    }

    #[test]
    fn restart_checks() {
        let s = format!("{GOOD}\n[restart]\nbackoff_initial_ms = 0\n");
        assert!(one_err(&s).reason.contains("backoff_initial_ms"));
        let s = format!("{GOOD}\n[restart]\nready = \"psychic\"\n");
        assert!(one_err(&s).reason.contains("unknown variant"));
        let s = format!("{GOOD}\n[restart]\ndying_grace_s = 601\n");
        assert!(one_err(&s).reason.contains("dying_grace_s"));
        let s = format!("{GOOD}\n[restart]\ndying_grace_s = 0\n");
        let c = parse(&s).expect("config");
        assert_eq!(*c.restart.dying_grace_s.get_ref(), 0);
    }

    #[test]
    fn vm_name() {
        let c = parse(GOOD).expect("config");
        assert_eq!(c.vm_name(), "t", "the file's stem");
        let with =
            |n: &str| GOOD.replace("memory_mib = 64", &format!("memory_mib = 64\nname = {n:?}"));
        let c = parse(&with("fifo-1.test_A")).expect("valid");
        assert_eq!(c.vm_name(), "fifo-1.test_A");
        parse(&with(&"a".repeat(31))).expect("31 characters");
        for bad in ["", ".x", "a b", "a/b", "ä", "a[1]", &"a".repeat(32)] {
            let e = one_err(&with(bad));
            assert_eq!(e.line, 5, "{bad:?}");
            assert!(e.reason.contains("name must be 1-31"), "{}", e.reason);
        }
        assert_eq!(name_from_stem("fifo"), "fifo");
        assert_eq!(name_from_stem("..my vm (2)"), "my_vm__2_");
        assert_eq!(name_from_stem(""), "vm");
        assert_eq!(name_from_stem("..."), "vm");
        assert_eq!(name_from_stem(&"x".repeat(40)).len(), 31);
        for s in ["fifo", "..my vm (2)", "", "ä.b"] {
            assert!(is_vm_name(&name_from_stem(s)), "{s:?}");
        }
    }

    #[test]
    fn restart_window() {
        let c = parse(GOOD).expect("config");
        assert_eq!(*c.restart.restart_window_s.get_ref(), 3600, "default");
        for ok in ["0", "30", "2592000"] {
            let s = format!("{GOOD}\n[restart]\nrestart_window_s = {ok}\n");
            let c = parse(&s).expect(ok);
            assert_eq!(c.restart.restart_window_s.get_ref().to_string(), ok);
        }
        let s = format!("{GOOD}\n[restart]\nrestart_window_s = 2592001\n");
        let e = one_err(&s);
        assert_eq!(e.line, 28);
        assert!(e.reason.contains("at most 2592000"), "{}", e.reason);
        // Shorter than the largest backoff (30 s by default).
        let s = format!("{GOOD}\n[restart]\nrestart_window_s = 29\n");
        assert!(one_err(&s).reason.contains("backoff_max_ms"));
        let s = format!("{GOOD}\n[restart]\nrestart_window_s = 5\nbackoff_max_ms = 5000\n");
        parse(&s).expect("window = largest backoff");
        let s = format!("{GOOD}\n[restart]\nrestart_window_s = -1\n");
        assert!(parse(&s).is_err(), "negative");
    }
}
