// SPDX-License-Identifier: GPL-2.0

//! `ivt-shim list`: the exported nodes on this host and the driver VMs
//! behind them, read from host_stub's sysfs attributes
//! (`/sys/class/ikernel/<node>/`), so that it shows every shim's nodes,
//! whoever started them.

use std::fs;
use std::io;
use std::path::Path;

use serde::Serialize;

/// Where host_stub's node class lives.
pub const CLASS_DIR: &str = "/sys/class/ikernel";

/// One exported node, as host_stub shows it.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct NodeState {
    /// Host node name (`/dev/<name>`).
    pub name: String,
    /// `MAJOR:MINOR`.
    pub dev: String,
    /// The driver VM's state: new, booting, running, broken, down, closed.
    pub state: String,
    pub generation: u64,
    /// The node in the driver VM.
    pub guest_path: String,
    /// The driver VM's `[vm] name` (empty if its shim gave none).
    pub vm_name: String,
    /// The shim that exported the node.
    pub owner_pid: u64,
    /// Position in the driver VM's export list.
    pub index: u64,
    /// The guest's report of its node: present, missing, unknown or busy.
    pub guest_node: String,
    pub timeout_ms: u64,
    pub reopen: bool,
    /// Counters of `stats/`, by name, in a fixed order.
    pub stats: Vec<(String, u64)>,
}

/// The counters of a node's `stats/` directory, in the order shown.
pub const STATS: [&str; 15] = [
    "opens",
    "calls",
    "errors",
    "timeouts",
    "interrupted",
    "eio",
    "reopens",
    "enodev",
    "new_files",
    "bad_new_files",
    "mmaps",
    "bad_mmaps",
    "bad_node_info",
    "remote_pages",
    "bad_remote",
];

/// One attribute, without its newline; a missing or unreadable one (a
/// node removed while it is read) is an error.
fn attr(dir: &Path, name: &str) -> io::Result<String> {
    let p = dir.join(name);
    let s = fs::read_to_string(&p)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))?;
    Ok(s.trim_end_matches('\n').to_string())
}

fn num(dir: &Path, name: &str) -> io::Result<u64> {
    let s = attr(dir, name)?;
    s.parse().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: not a number: {s:?}", dir.join(name).display()),
        )
    })
}

/// The node whose sysfs directory is `dir`.
pub fn read_node(dir: &Path) -> io::Result<NodeState> {
    let stats = dir.join("stats");
    Ok(NodeState {
        name: dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        dev: attr(dir, "dev")?,
        state: attr(dir, "state")?,
        generation: num(dir, "generation")?,
        guest_path: attr(dir, "guest_path")?,
        vm_name: attr(dir, "vm_name")?,
        owner_pid: num(dir, "owner_pid")?,
        index: num(dir, "index")?,
        guest_node: attr(dir, "guest_node")?,
        timeout_ms: num(dir, "timeout_ms")?,
        reopen: num(dir, "reopen")? != 0,
        stats: STATS
            .iter()
            .map(|s| Ok(((*s).to_string(), num(&stats, s)?)))
            .collect::<io::Result<_>>()?,
    })
}

/// Every node under `class_dir`, by name.  No directory means host_stub is
/// not loaded: no nodes.  A node that goes away while it is read is left
/// out.
pub fn read_all(class_dir: &Path) -> io::Result<Vec<NodeState>> {
    let entries = match fs::read_dir(class_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for e in entries {
        let dir = e?.path();
        match read_node(&dir) {
            Ok(n) => out.push(n),
            Err(_) if !dir.exists() => {}
            Err(e) => return Err(e),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The table `ivt-shim list` prints.
pub fn table(nodes: &[NodeState]) -> String {
    let mut rows = vec![[
        "NODE".to_string(),
        "DEV".into(),
        "VM".into(),
        "PID".into(),
        "STATE".into(),
        "GEN".into(),
        "GUEST PATH".into(),
        "GUEST NODE".into(),
        "CALLS".into(),
        "ERRORS".into(),
    ]];
    for n in nodes {
        let stat = |k: &str| {
            n.stats
                .iter()
                .find(|(s, _)| s == k)
                .map_or(0, |&(_, v)| v)
                .to_string()
        };
        rows.push([
            n.name.clone(),
            n.dev.clone(),
            if n.vm_name.is_empty() {
                "-".into()
            } else {
                n.vm_name.clone()
            },
            n.owner_pid.to_string(),
            n.state.clone(),
            n.generation.to_string(),
            n.guest_path.clone(),
            n.guest_node.clone(),
            stat("calls"),
            stat("errors"),
        ]);
    }
    let mut width = [0usize; 10];
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let mut out = String::new();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(width)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// JSON for `ivt-shim list --json`: an array of nodes, the counters as an
/// object.
pub fn json(nodes: &[NodeState]) -> String {
    let v: Vec<serde_json::Value> = nodes
        .iter()
        .map(|n| {
            let mut o = serde_json::to_value(n).unwrap_or_default();
            let stats: serde_json::Map<String, serde_json::Value> = n
                .stats
                .iter()
                .map(|(k, v)| (k.clone(), (*v).into()))
                .collect();
            o["stats"] = stats.into();
            o
        })
        .collect();
    serde_json::Value::Array(v).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_node(class: &Path, name: &str, calls: u64) {
        let d = class.join(name);
        fs::create_dir_all(d.join("stats")).expect("dir");
        for (k, v) in [
            ("dev", "250:0"),
            ("state", "running"),
            ("generation", "3"),
            ("guest_path", "/dev/ikfifo"),
            ("vm_name", "fifo"),
            ("owner_pid", "1234"),
            ("index", "0"),
            ("guest_node", "present"),
            ("timeout_ms", "0"),
            ("reopen", "1"),
        ] {
            fs::write(d.join(k), format!("{v}\n")).expect("attr");
        }
        for s in STATS {
            let v = if s == "calls" { calls } else { 0 };
            fs::write(d.join("stats").join(s), format!("{v}\n")).expect("stat");
        }
    }

    fn tmp(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("ivt-list-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn reads_nodes_in_name_order() {
        let class = tmp("order");
        fake_node(&class, "ik_b", 7);
        fake_node(&class, "ik_a", 5);
        let n = read_all(&class).expect("read");
        assert_eq!(
            n.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(),
            ["ik_a", "ik_b"]
        );
        assert_eq!(n[0].state, "running");
        assert_eq!(n[0].generation, 3);
        assert!(n[0].reopen);
        assert_eq!(n[1].stats[1], ("calls".to_string(), 7));
        let t = table(&n);
        assert!(t.starts_with("NODE"), "{t}");
        assert!(t.contains("ik_a"), "{t}");
        assert!(
            t.lines().nth(1).expect("row").contains("/dev/ikfifo"),
            "{t}"
        );
        let j: serde_json::Value = serde_json::from_str(&json(&n)).expect("json");
        assert_eq!(j[1]["stats"]["calls"], 7);
        assert_eq!(j[0]["vm_name"], "fifo");
        fs::remove_dir_all(&class).expect("cleanup");
    }

    #[test]
    fn no_class_directory_is_no_nodes() {
        let class = tmp("none");
        assert!(read_all(&class).expect("read").is_empty());
    }

    #[test]
    fn a_bad_value_is_an_error() {
        let class = tmp("bad");
        fake_node(&class, "ik_a", 1);
        fs::write(class.join("ik_a/generation"), "x\n").expect("write");
        let e = read_all(&class).expect_err("bad generation");
        assert!(e.to_string().contains("generation"), "{e}");
        fs::remove_dir_all(&class).expect("cleanup");
    }
}
