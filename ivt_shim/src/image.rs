// SPDX-License-Identifier: GPL-2.0

//! The driver-VM image: a gzip'd newc initramfs with busybox, guest_stub,
//! the configured modules (with their dependencies) and an /init script.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use log::info;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::cpio::CpioWriter;

/// Printed on the console by /init once the guest serves.
pub const READY_MARKER: &str = "IKERNEL-READY";
/// Printed on the console by /init when a step fails.
pub const ERROR_MARKER: &str = "IKERNEL-ERROR";

/// A module file to put in the image, in load order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModFile {
    /// Host file.
    pub src: PathBuf,
    /// Module name (normalised, `_`).
    pub name: String,
    /// Parameters (empty for dependencies).
    pub params: String,
}

fn norm(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    let base = base
        .strip_suffix(".ko")
        .or_else(|| base.strip_suffix(".ko.xz"))
        .or_else(|| base.strip_suffix(".ko.gz"))
        .or_else(|| base.strip_suffix(".ko.zst"))
        .unwrap_or(base);
    base.replace('-', "_")
}

/// Parsed modules.dep: name -> (relative path, dependencies as paths).
pub struct ModulesDep {
    dir: PathBuf,
    map: HashMap<String, (String, Vec<String>)>,
}

impl ModulesDep {
    /// Parses `text` of `dir/modules.dep`.
    pub fn parse(dir: &Path, text: &str) -> ModulesDep {
        let mut map = HashMap::new();
        for line in text.lines() {
            let Some((m, deps)) = line.split_once(':') else {
                continue;
            };
            let deps = deps.split_whitespace().map(str::to_string).collect();
            map.insert(norm(m), (m.trim().to_string(), deps));
        }
        ModulesDep {
            dir: dir.to_path_buf(),
            map,
        }
    }

    /// Loads `dir/modules.dep`.
    pub fn load(dir: &Path) -> io::Result<ModulesDep> {
        let t = fs::read_to_string(dir.join("modules.dep"))
            .map_err(|e| io::Error::new(e.kind(), format!("{}/modules.dep: {e}", dir.display())))?;
        Ok(ModulesDep::parse(dir, &t))
    }

    /// Returns `name` and its dependencies in load order (dependencies first).
    pub fn resolve(&self, name: &str) -> Option<Vec<(String, PathBuf)>> {
        let (path, deps) = self.map.get(&norm(name))?;
        let mut out = Vec::new();
        // modules.dep lists dependencies so that the last must load first.
        for d in deps.iter().rev() {
            out.push((norm(d), self.dir.join(d)));
        }
        out.push((norm(path), self.dir.join(path)));
        Some(out)
    }
}

/// Reads the version string of a bzImage (`setup_header.kernel_version`).
pub fn bzimage_version(path: &Path) -> io::Result<String> {
    let mut f = fs::File::open(path)?;
    let mut b = [0u8; 2];
    f.seek(SeekFrom::Start(0x20e))?;
    f.read_exact(&mut b)?;
    let off = u64::from(u16::from_le_bytes(b)) + 0x200;
    f.seek(SeekFrom::Start(off))?;
    let mut s = [0u8; 128];
    let n = f.read(&mut s)?;
    let s = s.get(..n).unwrap_or(&[]);
    let s = s.split(|&c| c == 0 || c == b' ').next().unwrap_or(&[]);
    let v = String::from_utf8_lossy(s).to_string();
    if v.is_empty() {
        return Err(io::Error::other(format!(
            "{}: no kernel version",
            path.display()
        )));
    }
    Ok(v)
}

/// The repository root, found from the running binary or the working directory.
pub fn repo_root() -> Option<PathBuf> {
    let mut cands = Vec::new();
    if let Ok(p) = std::env::current_exe() {
        cands.push(p);
    }
    if let Ok(p) = std::env::current_dir() {
        cands.push(p);
    }
    for c in cands {
        for a in c.ancestors() {
            if a.join("ivt_shim/Cargo.toml").is_file() && a.join("ring").is_dir() {
                return Some(a.to_path_buf());
            }
        }
    }
    None
}

/// The installation prefix of the running binary: `PREFIX` for
/// `PREFIX/bin/ivt-shim` (`make install`), if `PREFIX/share/ikernel/manifest`
/// says this is an installed tree.
pub fn install_prefix() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?;
    if bin.file_name()? != "bin" {
        return None;
    }
    let prefix = bin.parent()?;
    prefix
        .join("share/ikernel/manifest")
        .is_file()
        .then(|| prefix.to_path_buf())
}

/// Where a default part of the image comes from: `installed` under an
/// installed shim's prefix, else `in_repo` under the repository the shim
/// runs from; `what` and `key` name it in the error when neither exists.
fn default_part(installed: &Path, in_repo: &str, what: &str, key: &str) -> io::Result<PathBuf> {
    if let Some(prefix) = install_prefix() {
        let p = prefix.join(installed);
        if p.is_file() {
            return Ok(p);
        }
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "the installed {what} {} does not exist (reinstall, or set [image] {key})",
                p.display()
            ),
        ));
    }
    repo_root().map(|r| r.join(in_repo)).ok_or_else(|| {
        io::Error::other(format!(
            "ivt-shim is neither installed (make install) nor run from the repository: \
             cannot find the default {what}; set [image] {key}"
        ))
    })
}

/// Everything that goes into one image.
pub struct ImagePlan {
    pub busybox: PathBuf,
    pub guest_stub: PathBuf,
    pub modules: Vec<ModFile>,
    pub files: Vec<(PathBuf, String, u32)>,
    /// The serving process, if there are exports.
    pub served: Option<PathBuf>,
    pub init: String,
}

/// Where the serving process goes in the image.
pub const SERVED_PATH: &str = "/bin/ikernel-served";

/// The serving process for `cfg`: `[image] served`, else
/// `PREFIX/libexec/ikernel/ikernel-served` for an installed shim, else
/// `<repo>/build/served/ikernel-served` (what `make served` builds); `None`
/// without exports.  It must exist.
pub fn served(cfg: &Config) -> io::Result<Option<PathBuf>> {
    if !cfg.has_exports() {
        return Ok(None);
    }
    let p = match &cfg.image.served {
        Some(p) => cfg.resolve(p.get_ref()),
        None => default_part(
            Path::new("libexec/ikernel/ikernel-served"),
            "build/served/ikernel-served",
            "serving process",
            "served",
        )?,
    };
    if !p.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "the serving process {} does not exist: the [[export]] list needs it \
                 (build it with `make served`, or set [image] served)",
                p.display()
            ),
        ));
    }
    Ok(Some(p))
}

/// The module tree for `cfg`: `[image] modules_dir`, or the kernel build
/// tree's `.virtme_mods/lib/modules/<version>`.
pub fn modules_dir(cfg: &Config) -> io::Result<PathBuf> {
    if let Some(d) = &cfg.image.modules_dir {
        return Ok(cfg.resolve(d.get_ref()));
    }
    let k = cfg.kernel();
    let ver = bzimage_version(&k)?;
    // <KDIR>/arch/x86/boot/bzImage -> <KDIR>
    let kdir = k
        .ancestors()
        .nth(4)
        .ok_or_else(|| io::Error::other("cannot derive KDIR from the kernel path"))?;
    for d in [
        kdir.join(".virtme_mods/lib/modules").join(&ver),
        PathBuf::from("/lib/modules").join(&ver),
    ] {
        if d.join("modules.dep").is_file() {
            return Ok(d);
        }
    }
    Err(io::Error::other(format!(
        "no module tree for {ver} (looked in {}/.virtme_mods/lib/modules and /lib/modules); set [image] modules_dir",
        kdir.display()
    )))
}

/// Builds the plan (resolves every input) for `cfg`.
pub fn plan(cfg: &Config) -> io::Result<ImagePlan> {
    let busybox = cfg.image.busybox.as_ref().map_or_else(
        || PathBuf::from("/bin/busybox"),
        |p| cfg.resolve(p.get_ref()),
    );
    let guest_stub = match &cfg.image.guest_stub {
        Some(p) => cfg.resolve(p.get_ref()),
        // An installed guest_stub is per guest kernel release.
        None => default_part(
            &Path::new("lib/ikernel")
                .join(bzimage_version(&cfg.kernel())?)
                .join("ikernel_guest.ko"),
            "guest_stub/ikernel_guest.ko",
            "guest_stub",
            "guest_stub",
        )?,
    };
    let mut modules: Vec<ModFile> = Vec::new();
    let mut dep: Option<ModulesDep> = None;
    for m in &cfg.module {
        let m = m.get_ref();
        if let Some(p) = &m.path {
            let src = cfg.resolve(p.get_ref());
            let name = norm(&src.to_string_lossy());
            modules.push(ModFile {
                src,
                name,
                params: m.params.clone(),
            });
            continue;
        }
        let Some(n) = &m.name else { continue };
        if dep.is_none() {
            dep = Some(ModulesDep::load(&modules_dir(cfg)?)?);
        }
        let Some(d) = dep.as_ref() else { continue };
        let chain = d.resolve(n.get_ref()).ok_or_else(|| {
            io::Error::other(format!(
                "{}:{}: module {:?} is not in {}/modules.dep",
                cfg.file.display(),
                crate::config::line_of(&cfg.text, n.span().start),
                n.get_ref(),
                d.dir.display()
            ))
        })?;
        let last = chain.len().saturating_sub(1);
        for (i, (name, src)) in chain.into_iter().enumerate() {
            if i < last && modules.iter().any(|x| x.name == name) {
                continue;
            }
            modules.push(ModFile {
                src,
                name,
                params: if i == last {
                    m.params.clone()
                } else {
                    String::new()
                },
            });
        }
    }
    let files = cfg
        .image
        .file
        .iter()
        .map(|f| {
            (
                cfg.resolve(f.src.get_ref()),
                f.dst.get_ref().clone(),
                f.mode.unwrap_or(0o755),
            )
        })
        .collect();
    let served = served(cfg)?;
    let init = init_script(cfg, &modules);
    Ok(ImagePlan {
        busybox,
        guest_stub,
        modules,
        files,
        served,
        init,
    })
}

/// How long /init waits for the export nodes, in 0.2 s ticks (10 s in all).
const NODE_WAIT_TICKS: u32 = 50;

/// The /init script: loads the modules and guest_stub, waits a bounded
/// time for the export nodes, starts ikernel-served.
pub fn init_script(cfg: &Config, modules: &[ModFile]) -> String {
    let mut s = String::new();
    s.push_str(
        r#"#!/bin/busybox sh
# Generated by ivt-shim build-image.
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
fail() { echo "IKERNEL-ERROR: $*"; sleep 1; echo o > /proc/sysrq-trigger; poweroff -f; }
echo "ikernel-init: up $(cut -d' ' -f1 /proc/uptime)s, $(grep -c ^processor /proc/cpuinfo) CPUs online"
"#,
    );
    for m in modules {
        s.push_str(&format!(
            "insmod /lib/ikernel/{}.ko {} || fail \"insmod {}\"\necho \"ikernel-init: loaded {}\"\n",
            m.name, m.params, m.name, m.name
        ));
    }
    s.push_str(&format!(
        r#"gparams="{}"
for a in $(cat /proc/cmdline); do
	case "$a" in ikernel_guest.*) gparams="$gparams ${{a#ikernel_guest.}}" ;; esac
done
insmod /lib/ikernel/ikernel_guest.ko $gparams || fail "insmod ikernel_guest"
echo "ikernel-init: loaded ikernel_guest$gparams"
"#,
        cfg.image.guest_stub_params
    ));
    // Wait for the export nodes together, NODE_WAIT_TICKS x 0.2 s at most
    // in all.  A node still missing is a configuration problem or a device
    // that comes later, not a reason to stop serving the others:
    // ikernel-served answers its opens ENODEV, looks for it every second
    // and reports it as missing.
    if cfg.has_exports() {
        let test: Vec<String> = cfg
            .export
            .iter()
            .map(|e| {
                let p = e.guest_path.get_ref();
                format!("{{ [ -c {p} ] || [ -b {p} ]; }}")
            })
            .chain(
                cfg.netdev
                    .iter()
                    .map(|n| format!("[ -e /sys/class/net/{} ]", n.guest_if.get_ref())),
            )
            .collect();
        s.push_str(&format!(
            "i=0; until {}; do [ $i -ge {NODE_WAIT_TICKS} ] && break; sleep 0.2; i=$((i+1)); done\n",
            test.join(" && ")
        ));
        for e in &cfg.export {
            let p = e.guest_path.get_ref();
            s.push_str(&format!(
                "[ -c {p} ] || [ -b {p} ] || echo \"ikernel-init: no device node {p} for export {}; served as missing\"\n",
                e.host_name.get_ref()
            ));
        }
        for n in &cfg.netdev {
            let g = n.guest_if.get_ref();
            s.push_str(&format!(
                "[ -e /sys/class/net/{g} ] || echo \"ikernel-init: no interface {g} for net export {}; served as missing\"\n",
                n.host_name.get_ref()
            ));
        }
    }
    // Export index = position on ikernel-served's command line: the
    // `[[export]]` nodes, then the `[[netdev]]` interfaces as `net:IF`.
    if cfg.has_exports() {
        let nodes: Vec<String> = cfg
            .export
            .iter()
            .map(|e| e.guest_path.get_ref().clone())
            .chain(cfg.netdev.iter().map(|n| n.served_node()))
            .collect();
        s.push_str(&format!(
            "{SERVED_PATH} {}{} >/dev/console 2>&1 &\nserved_pid=$!\necho \"ikernel-init: serving {} exports\"\n",
            if cfg.image.zero_copy { "-z " } else { "" },
            nodes.join(" "),
            nodes.len()
        ));
    }
    for line in &cfg.image.run {
        s.push_str(line);
        s.push('\n');
    }
    s.push_str(&format!(
        "echo \"{READY_MARKER} $(cut -d' ' -f1 /proc/uptime)s\"\n"
    ));
    // The test hook of `run --test-panic-generation` (feature
    // `test-hooks`); a shipped shim's images have none.
    if cfg!(feature = "test-hooks") {
        s.push_str(
            "if grep -qw ikernel_test_panic /proc/cmdline; then\n\
             \tsleep 1\n\
             \techo \"ikernel-init: forced panic\"\n\
             \techo c > /proc/sysrq-trigger\n\
             fi\n",
        );
    }
    if !cfg.has_exports() {
        s.push_str("while true; do sleep 3600; done\n");
    } else {
        // Without its serving process the driver VM serves nothing: that is
        // a death, and the shim restarts it.
        s.push_str("wait $served_pid\nfail \"ikernel-served exited (status $?)\"\n");
    }
    s
}

fn hash_file(h: &mut Sha256, p: &Path) -> io::Result<()> {
    let data =
        fs::read(p).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))?;
    h.update(p.to_string_lossy().as_bytes());
    h.update((data.len() as u64).to_le_bytes());
    h.update(&data);
    Ok(())
}

/// The image cache: `$IKERNEL_IMAGE_CACHE`, else
/// `$XDG_CACHE_HOME/ikernel/images`, else `$HOME/.cache/ikernel/images`,
/// else `/var/cache/ikernel/images` (a system service has no HOME).
pub fn cache_dir() -> PathBuf {
    cache_dir_from(|k| std::env::var_os(k))
}

/// [`cache_dir`] with the environment read by `var`.  Empty variables do
/// not count, nor relative XDG_CACHE_HOME or HOME.
fn cache_dir_from(var: impl Fn(&str) -> Option<OsString>) -> PathBuf {
    let set = |k: &str| var(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(d) = set("IKERNEL_IMAGE_CACHE") {
        return d;
    }
    set("XDG_CACHE_HOME")
        .filter(|d| d.is_absolute())
        .or_else(|| {
            set("HOME")
                .filter(|h| h.is_absolute())
                .map(|h| h.join(".cache"))
        })
        .map_or_else(
            || PathBuf::from("/var/cache/ikernel/images"),
            |d| d.join("ikernel/images"),
        )
}

/// Hash over the plan: the init script, every input's path and contents.
pub fn plan_hash(p: &ImagePlan) -> io::Result<String> {
    let mut h = Sha256::new();
    h.update(b"ivt-shim image v1\0");
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(p.init.as_bytes());
    hash_file(&mut h, &p.busybox)?;
    hash_file(&mut h, &p.guest_stub)?;
    if let Some(s) = &p.served {
        hash_file(&mut h, s)?;
    }
    for m in &p.modules {
        h.update(m.name.as_bytes());
        h.update(m.params.as_bytes());
        hash_file(&mut h, &m.src)?;
    }
    for (src, dst, mode) in &p.files {
        h.update(dst.as_bytes());
        h.update(mode.to_le_bytes());
        hash_file(&mut h, src)?;
    }
    let d = h.finalize();
    Ok(d.iter().take(16).map(|b| format!("{b:02x}")).collect())
}

fn read(p: &Path) -> io::Result<Vec<u8>> {
    fs::read(p).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))
}

/// Writes the gzip'd cpio of `p` to `out`.
pub fn write_image(p: &ImagePlan, out: impl Write) -> io::Result<()> {
    let gz = GzEncoder::new(out, Compression::default());
    let mut w = CpioWriter::new(gz);
    for d in [
        "bin",
        "sbin",
        "dev",
        "proc",
        "sys",
        "tmp",
        "run",
        "lib",
        "lib/ikernel",
        "usr",
        "usr/bin",
        "usr/sbin",
        "etc",
    ] {
        w.dir(d, 0o755)?;
    }
    w.chardev("dev/console", 0o600, 5, 1)?;
    w.chardev("dev/null", 0o666, 1, 3)?;
    w.file("bin/busybox", 0o755, &read(&p.busybox)?)?;
    w.symlink("bin/sh", "busybox")?;
    w.file("init", 0o755, p.init.as_bytes())?;
    w.file("lib/ikernel/ikernel_guest.ko", 0o644, &read(&p.guest_stub)?)?;
    if let Some(s) = &p.served {
        w.file(SERVED_PATH.trim_start_matches('/'), 0o755, &read(s)?)?;
    }
    for m in &p.modules {
        w.file(&format!("lib/ikernel/{}.ko", m.name), 0o644, &read(&m.src)?)?;
    }
    let mut made: Vec<String> = Vec::new();
    for (src, dst, mode) in &p.files {
        let parts: Vec<&str> = dst.trim_start_matches('/').split('/').collect();
        for i in 1..parts.len() {
            let d = parts[..i].join("/");
            if !made.contains(&d) {
                w.dir(&d, 0o755)?;
                made.push(d);
            }
        }
        w.file(dst, *mode, &read(src)?)?;
    }
    w.finish()?.finish()?;
    Ok(())
}

/// The shim's effective uid: the owner a cache entry must have.
fn euid() -> u32 {
    // SAFETY: geteuid has no arguments and cannot fail.
    unsafe { libc::geteuid() }
}

/// Says why `path` is not to be trusted, if it is not: it must be a
/// directory (`dir`) or a regular file, not a symbolic link, owned by
/// `euid`, and writable by neither group nor others.  Anyone else who can
/// write it could put an image there that the shim would boot.
fn distrust(path: &Path, dir: bool, euid: u32) -> Option<String> {
    let m = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => return Some(e.to_string()),
    };
    let t = m.file_type();
    if t.is_symlink() {
        return Some("a symbolic link".into());
    }
    if dir && !t.is_dir() {
        return Some("not a directory".into());
    }
    if !dir && !t.is_file() {
        return Some("not a regular file".into());
    }
    if m.uid() != euid {
        return Some(format!("owned by uid {}, not {euid}", m.uid()));
    }
    if m.mode() & 0o022 != 0 {
        return Some(format!(
            "mode {:04o}, writable by group or others",
            m.mode() & 0o7777
        ));
    }
    None
}

/// Creates `dir` with mode 0700 unless something is at its path already,
/// then says why it is not to be trusted, if it is not ([`distrust`]).
fn own_dir(dir: &Path, euid: u32) -> Option<String> {
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
            Some(format!("{}: {e}", dir.display()))
        }
        _ => distrust(dir, true, euid).map(|r| format!("{}: {r}", dir.display())),
    }
}

/// A new directory of mode 0700 with an unpredictable name in the
/// temporary directory, for an image that cannot go in the cache.  `mkdir`
/// fails on an existing path (a symbolic link too), so nobody else can have
/// made it or can write it.
fn private_dir() -> io::Result<PathBuf> {
    let tmp = std::env::temp_dir();
    let mut last = None;
    for _ in 0..16 {
        let mut r = [0u8; 8];
        fs::File::open("/dev/urandom")?.read_exact(&mut r)?;
        let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
        let d = tmp.join(format!("ikernel-image.{}.{hex}", std::process::id()));
        match fs::DirBuilder::new().mode(0o700).create(&d) {
            Ok(()) => return Ok(d),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", d.display()))),
        }
    }
    let e = last.unwrap_or_else(|| io::Error::from(io::ErrorKind::AlreadyExists));
    Err(io::Error::new(
        e.kind(),
        format!("no private directory in {}: {e}", tmp.display()),
    ))
}

/// Where the image of hash `hash` is.
#[derive(Debug, PartialEq, Eq)]
enum Slot {
    /// A trusted cached image.
    Cached(PathBuf),
    /// To be built in `dir`: the cache entry, or a new private directory
    /// (`private`) when the cache cannot be trusted.
    Build { dir: PathBuf, private: bool },
}

/// Finds the image of `hash` in the cache `root` (unless `force`), or says
/// where to build it, for a shim of effective uid `euid`.  `root` and
/// `root/hash` are created with mode 0700 if missing.  An entry that fails
/// [`distrust`] is not used, with a warning.
fn locate(root: &Path, hash: &str, euid: u32, force: bool) -> io::Result<Slot> {
    let dir = root.join(hash);
    // The parents are whatever they are; the cache itself and the entry
    // must be the shim's own, the entry checked only in a trusted cache.
    let why = match root.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(p) => fs::create_dir_all(p)
            .err()
            .map(|e| format!("{}: {e}", p.display())),
        None => None,
    }
    .or_else(|| own_dir(root, euid))
    .or_else(|| own_dir(&dir, euid));
    if let Some(why) = why {
        let dir = private_dir()?;
        log::warn!(
            "not using the image cache: {why}; building the image in {}",
            dir.display()
        );
        return Ok(Slot::Build { dir, private: true });
    }
    let img = dir.join(IMAGE_FILE);
    if !force && fs::symlink_metadata(&img).is_ok() {
        match distrust(&img, false, euid) {
            None => return Ok(Slot::Cached(img)),
            // Its directory is ours: a new image replaces it.
            Some(r) => log::warn!("not using the cached image {}: {r}", img.display()),
        }
    }
    Ok(Slot::Build {
        dir,
        private: false,
    })
}

/// The image's name in its directory.
const IMAGE_FILE: &str = "initramfs.cpio.gz";

/// Writes the image of `p` and its /init (for reference) into `dir`, which
/// only this uid can write: a new temporary file, renamed into place.
fn store(p: &ImagePlan, dir: &Path) -> io::Result<PathBuf> {
    let img = dir.join(IMAGE_FILE);
    let tmp = dir.join(format!("initramfs.tmp.{}", std::process::id()));
    // A leftover of a dead shim that had this pid.
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    {
        let f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&tmp)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", tmp.display())))?;
        let mut w = io::BufWriter::new(f);
        write_image(p, &mut w)?;
        w.flush()?;
    }
    fs::write(dir.join("init"), &p.init)?;
    fs::rename(&tmp, &img)?;
    Ok(img)
}

/// A built or cached image.
pub struct Image {
    pub path: PathBuf,
    /// The private directory it was built in, if the cache could not be
    /// trusted.
    pub private: Option<PathBuf>,
}

impl Image {
    /// Removes the private directory, if any, once the image is read.
    pub fn remove_private(&self) {
        if let Some(d) = &self.private {
            if let Err(e) = fs::remove_dir_all(d) {
                log::warn!("{}: {e}", d.display());
            }
        }
    }
}

/// Builds (or finds in the cache) the image for `cfg`.
pub fn build(cfg: &Config, force: bool) -> io::Result<Image> {
    let p = plan(cfg)?;
    let hash = plan_hash(&p)?;
    let (dir, private) = match locate(&cache_dir(), &hash, euid(), force)? {
        Slot::Cached(path) => {
            info!("image {} (cached)", path.display());
            return Ok(Image {
                path,
                private: None,
            });
        }
        Slot::Build { dir, private } => (dir, private),
    };
    let path = match store(&p, &dir) {
        Ok(path) => path,
        Err(e) => {
            if private {
                let _ = fs::remove_dir_all(&dir);
            }
            return Err(e);
        }
    };
    info!(
        "built image {} ({} modules: {})",
        path.display(),
        p.modules.len() + 1,
        p.modules
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(Image {
        path,
        private: private.then_some(dir),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_dep_order() {
        let d = ModulesDep::parse(
            Path::new("/m"),
            "kernel/drivers/parport/parport_pc.ko: kernel/drivers/parport/parport.ko\n\
             kernel/drivers/char/ppdev.ko: kernel/drivers/parport/parport.ko\n\
             kernel/a/x-y.ko: kernel/b.ko kernel/c.ko\n\
             kernel/drivers/parport/parport.ko:\n",
        );
        let r = d.resolve("parport-pc").expect("found");
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].0, "parport");
        assert_eq!(
            r[1].1,
            PathBuf::from("/m/kernel/drivers/parport/parport_pc.ko")
        );
        let r = d.resolve("x_y").expect("found");
        let names: Vec<_> = r.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(names, ["c", "b", "x_y"]);
        assert!(d.resolve("nope").is_none());
    }

    #[test]
    fn init_script_loads_in_order() {
        let cfg = Config::parse(
            Path::new("t.toml"),
            "[vm]\nkernel='k'\nconsole_log='c'\n[[export]]\nguest_path='/dev/rtc0'\nhost_name='r'\n",
        )
        .expect("config");
        let mods = vec![
            ModFile {
                src: "/a.ko".into(),
                name: "parport".into(),
                params: String::new(),
            },
            ModFile {
                src: "/b.ko".into(),
                name: "parport_pc".into(),
                params: "io=0x378".into(),
            },
        ];
        let s = init_script(&cfg, &mods);
        let a = s.find("insmod /lib/ikernel/parport.ko").expect("dep");
        let b = s
            .find("insmod /lib/ikernel/parport_pc.ko io=0x378")
            .expect("mod");
        let g = s
            .find("insmod /lib/ikernel/ikernel_guest.ko")
            .expect("stub");
        let r = s.find(READY_MARKER).expect("marker");
        assert!(a < b && b < g && g < r);
        assert!(s.contains("[ -c /dev/rtc0 ]"));
    }

    fn export_cfg(extra: &str) -> Config {
        Config::parse(
            Path::new("/etc/ik/t.toml"),
            &format!(
                "[vm]\nkernel='k'\nconsole_log='c'\n[image]\nrun=['echo hi']\n{extra}\n\
                 [[export]]\nguest_path='/dev/ikfifo'\nhost_name='ik_fifo'\n\
                 [[export]]\nguest_path='/dev/parport0'\nhost_name='ik_pp0'\n"
            ),
        )
        .expect("config")
    }

    #[test]
    fn init_script_starts_served() {
        let s = init_script(&export_cfg(""), &[]);
        let g = s
            .find("insmod /lib/ikernel/ikernel_guest.ko")
            .expect("stub");
        // One bounded wait for all nodes, then a line for each missing
        // one, and no failure: a missing node is served as missing.
        let w0 = s
            .find("i=0; until { [ -c /dev/ikfifo ] || [ -b /dev/ikfifo ]; } && { [ -c /dev/parport0 ] || [ -b /dev/parport0 ]; }; do [ $i -ge 50 ] && break; sleep 0.2;")
            .expect("one wait for both");
        let w1 = s
            .find("[ -c /dev/parport0 ] || [ -b /dev/parport0 ] || echo \"ikernel-init: no device node /dev/parport0 for export ik_pp0; served as missing\"\n")
            .expect("missing node reported");
        assert_eq!(
            s.matches("i=0; until").count(),
            1,
            "the wait is not per node"
        );
        assert!(
            !s.contains("fail \"no device node"),
            "a missing node is no failure"
        );
        let sv = s
            .find("/bin/ikernel-served /dev/ikfifo /dev/parport0 >/dev/console 2>&1 &\n")
            .expect("served, in export order");
        let n = s
            .find("echo \"ikernel-init: serving 2 exports\"")
            .expect("count");
        let run = s.find("echo hi\n").expect("run line");
        let r = s.find(READY_MARKER).expect("marker");
        assert!(g < w0 && w0 < w1 && w1 < sv && sv < n && n < run && run < r);
        // The serving process is watched: its exit fails the guest.
        let end = s.find("wait $served_pid\nfail ").expect("watched");
        assert!(r < end);
        assert!(!s.contains("sleep 3600"));
    }

    #[test]
    fn init_script_serves_in_place_with_zero_copy() {
        let s = init_script(&export_cfg("zero_copy=true"), &[]);
        assert!(s.contains("/bin/ikernel-served -z /dev/ikfifo /dev/parport0 >/dev/console"));
        let s = init_script(&export_cfg(""), &[]);
        assert!(!s.contains("ikernel-served -z"));
    }

    #[test]
    fn init_script_without_exports_serves_nothing() {
        let cfg = Config::parse(Path::new("t.toml"), "[vm]\nkernel='k'\nconsole_log='c'\n")
            .expect("config");
        let s = init_script(&cfg, &[]);
        assert!(!s.contains("ikernel-served"));
        assert!(!s.contains("serving"));
        assert!(s.ends_with("while true; do sleep 3600; done\n"));
    }

    #[test]
    fn served_binary_is_required_with_exports() {
        let cfg = Config::parse(Path::new("t.toml"), "[vm]\nkernel='k'\nconsole_log='c'\n")
            .expect("config");
        assert_eq!(served(&cfg).expect("not needed"), None);
        let e = served(&export_cfg("served='../nonexistent/ikernel-served'")).expect_err("missing");
        let m = e.to_string();
        assert!(
            m.contains("/etc/ik/../nonexistent/ikernel-served") && m.contains("make served"),
            "{m}"
        );
    }

    #[test]
    fn served_binary_in_image_and_hash() {
        let dir = std::env::temp_dir().join(format!("ivt-shim-image-test-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("tmp");
        for (f, d) in [("busybox", "bb"), ("guest.ko", "gs"), ("served", "sv1")] {
            fs::write(dir.join(f), d).expect("write");
        }
        let mut p = ImagePlan {
            busybox: dir.join("busybox"),
            guest_stub: dir.join("guest.ko"),
            modules: Vec::new(),
            files: Vec::new(),
            served: Some(dir.join("served")),
            init: "#!/bin/sh\n".into(),
        };
        let h1 = plan_hash(&p).expect("hash");
        fs::write(dir.join("served"), "sv2").expect("write");
        let h2 = plan_hash(&p).expect("hash");
        assert_ne!(h1, h2, "a new serving process rebuilds the image");
        let mut gz = Vec::new();
        write_image(&p, &mut gz).expect("image");
        let mut cpio = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut cpio)
            .expect("gunzip");
        let has = |c: &[u8], name: &[u8]| c.windows(name.len()).any(|w| w == name);
        assert!(has(&cpio, b"bin/ikernel-served\0"));
        assert!(has(&cpio, b"sv2"));
        p.served = None;
        assert_ne!(plan_hash(&p).expect("hash"), h2);
        let _ = fs::remove_dir_all(&dir);
    }

    /// A new empty directory of mode 0700 for test `tag`.
    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ivt-image-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).expect("scratch");
        chmod(&d, 0o700);
        d
    }

    fn chmod(p: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(p, fs::Permissions::from_mode(mode)).expect("chmod");
    }

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).expect("stat").mode() & 0o7777
    }

    const HASH: &str = "00112233445566778899aabbccddeeff";

    /// Makes `root/HASH` with an image in it, `root` and the entry with
    /// the given modes; returns the image's path.
    fn plant(root: &Path, root_mode: u32, dir_mode: u32) -> PathBuf {
        let dir = root.join(HASH);
        fs::create_dir_all(&dir).expect("mkdir");
        let img = dir.join(IMAGE_FILE);
        fs::write(&img, "planted").expect("write");
        chmod(&img, 0o644);
        chmod(&dir, dir_mode);
        chmod(root, root_mode);
        img
    }

    /// The slot of an untrusted cache: a new private directory outside
    /// `root`, which the test then removes.
    fn assert_private(slot: Slot, root: &Path) {
        let Slot::Build { dir, private: true } = slot else {
            panic!("untrusted cache used: {slot:?}");
        };
        assert!(!dir.starts_with(root), "{}", dir.display());
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(
            fs::read_dir(&dir).expect("ls").count(),
            0,
            "a new directory"
        );
        let name = dir
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with(&format!("ikernel-image.{}.", std::process::id())),
            "{name}"
        );
        fs::remove_dir(&dir).expect("rmdir");
    }

    #[test]
    fn cache_location() {
        let env = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            cache_dir_from(move |k| {
                vars.iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| OsString::from(v))
            })
        };
        assert_eq!(env(&[]), PathBuf::from("/var/cache/ikernel/images"));
        assert_eq!(
            env(&[("HOME", "/home/u")]),
            PathBuf::from("/home/u/.cache/ikernel/images")
        );
        assert_eq!(
            env(&[("HOME", "/home/u"), ("XDG_CACHE_HOME", "/c")]),
            PathBuf::from("/c/ikernel/images")
        );
        assert_eq!(
            env(&[("HOME", "/home/u"), ("IKERNEL_IMAGE_CACHE", "/x")]),
            PathBuf::from("/x")
        );
        // Empty or relative: unset, never a path relative to the cwd.
        assert_eq!(
            env(&[
                ("HOME", ""),
                ("XDG_CACHE_HOME", "c"),
                ("IKERNEL_IMAGE_CACHE", "")
            ]),
            PathBuf::from("/var/cache/ikernel/images")
        );
    }

    #[test]
    fn cache_entry_of_ours_is_used() {
        let s = scratch("ours");
        let root = s.join("images");
        let img = plant(&root, 0o700, 0o700);
        assert_eq!(
            locate(&root, HASH, euid(), false).expect("locate"),
            Slot::Cached(img)
        );
        // --force: rebuilt in the same entry.
        assert_eq!(
            locate(&root, HASH, euid(), true).expect("locate"),
            Slot::Build {
                dir: root.join(HASH),
                private: false
            }
        );
        fs::remove_dir_all(&s).expect("clean");
    }

    #[test]
    fn new_cache_is_private_and_caches() {
        let s = scratch("new");
        for (f, d) in [("busybox", "bb"), ("guest.ko", "gs")] {
            fs::write(s.join(f), d).expect("write");
        }
        let p = ImagePlan {
            busybox: s.join("busybox"),
            guest_stub: s.join("guest.ko"),
            modules: Vec::new(),
            files: Vec::new(),
            served: None,
            init: "#!/bin/sh\n".into(),
        };
        let root = s.join("a/images");
        let dir = root.join(HASH);
        assert_eq!(
            locate(&root, HASH, euid(), false).expect("locate"),
            Slot::Build {
                dir: dir.clone(),
                private: false
            }
        );
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&dir), 0o700);
        // A leftover temporary file of a dead shim with this pid.
        fs::write(
            dir.join(format!("initramfs.tmp.{}", std::process::id())),
            "x",
        )
        .expect("tmp");
        let img = store(&p, &dir).expect("store");
        assert_eq!(img, dir.join(IMAGE_FILE));
        assert_eq!(mode(&img) & 0o022, 0);
        assert_eq!(
            locate(&root, HASH, euid(), false).expect("locate"),
            Slot::Cached(img)
        );
        fs::remove_dir_all(&s).expect("clean");
    }

    #[test]
    fn writable_cache_is_refused() {
        for (tag, root_mode, dir_mode) in [
            ("root-g", 0o770, 0o700),
            ("root-o", 0o757, 0o700),
            ("dir-g", 0o700, 0o770),
            ("dir-o", 0o700, 0o777),
        ] {
            let s = scratch(tag);
            let root = s.join("images");
            plant(&root, root_mode, dir_mode);
            assert_private(locate(&root, HASH, euid(), false).expect("locate"), &root);
            if root_mode & 0o022 != 0 {
                // Nothing is made in an untrusted cache.
                assert_private(locate(&root, "new", euid(), false).expect("locate"), &root);
                assert!(!root.join("new").exists());
            }
            fs::remove_dir_all(&s).expect("clean");
        }
    }

    #[test]
    fn cache_of_another_uid_is_refused() {
        let s = scratch("uid");
        let root = s.join("images");
        plant(&root, 0o700, 0o700);
        assert_private(
            locate(&root, HASH, euid().wrapping_add(1), false).expect("locate"),
            &root,
        );
        fs::remove_dir_all(&s).expect("clean");
    }

    #[test]
    fn symlinked_cache_is_refused() {
        let s = scratch("link");
        // A trusted-looking entry elsewhere, linked as the entry...
        let other = s.join("other");
        plant(&other, 0o700, 0o700);
        let root = s.join("images");
        make_dir(&root);
        std::os::unix::fs::symlink(other.join(HASH), root.join(HASH)).expect("ln");
        assert_private(locate(&root, HASH, euid(), false).expect("locate"), &root);
        // ...and as the cache.
        let root = s.join("images2");
        std::os::unix::fs::symlink(&other, &root).expect("ln");
        assert_private(locate(&root, HASH, euid(), false).expect("locate"), &root);
        assert_private(locate(&root, HASH, euid(), false).expect("locate"), &other);
        fs::remove_dir_all(&s).expect("clean");
    }

    fn make_dir(d: &Path) {
        fs::create_dir(d).expect("mkdir");
        chmod(d, 0o700);
    }

    #[test]
    fn untrusted_image_is_rebuilt_in_place() {
        let s = scratch("file");
        let root = s.join("images");
        let img = plant(&root, 0o700, 0o700);
        let rebuild = Slot::Build {
            dir: root.join(HASH),
            private: false,
        };
        chmod(&img, 0o646);
        assert_eq!(locate(&root, HASH, euid(), false).expect("locate"), rebuild);
        // A symbolic link to an image of ours is not used either; the new
        // image replaces the link, not its target.
        fs::remove_file(&img).expect("rm");
        let target = s.join("target");
        fs::write(&target, "planted").expect("write");
        std::os::unix::fs::symlink(&target, &img).expect("ln");
        assert_eq!(locate(&root, HASH, euid(), false).expect("locate"), rebuild);
        fs::remove_dir_all(&s).expect("clean");
    }
}
