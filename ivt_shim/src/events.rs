// SPDX-License-Identifier: GPL-2.0

//! Machine-readable state events of `ivt-shim run --events FILE`.
//!
//! One JSON object per line, appended and flushed as each event happens, so
//! a supervisor or a test can follow the driver VM's life without parsing
//! the human log.  Every object has `event` (its kind), `t` (seconds since
//! the shim started) and `unix` (seconds since the epoch); the other fields
//! depend on the kind and are listed in `Documentation/ivt-shim.rst`.
//! Fields are only ever added, never renamed.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use log::warn;
use serde::Serialize;

use ikernel_ring::uapi::StateArg as IkState;

/// host_stub's view of the channel (`IKERNEL_IOC_GET_STATE`), as read by the
/// shim when the event happened.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostView {
    /// `IKERNEL_VM_*` as host_stub holds it.
    pub state: u32,
    /// The generation host_stub holds.
    pub generation: u32,
    /// The guest's state word in the window.
    pub guest_state: u32,
    /// The guest's heartbeat counter.
    pub heartbeat: u32,
    /// Doorbells the guest rang since they were bound.
    pub kicks: u64,
    /// 0, or 1 + the ring violation with which the guest broke the window.
    pub broken: u32,
}

impl From<IkState> for HostView {
    fn from(s: IkState) -> Self {
        HostView {
            state: s.state,
            generation: s.generation,
            guest_state: s.guest_state,
            heartbeat: s.heartbeat,
            kicks: s.kicks,
            broken: s.broken,
        }
    }
}

/// Why a generation ended, as a stable word (the log line has the details).
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// A triple fault or a reboot (`KVM_EXIT_SHUTDOWN`).
    TripleFault,
    /// Any other exit of a vCPU (an error, an unexpected exit reason).
    VcpuExit,
    /// The guest's heartbeat stopped.
    Hang,
    /// The guest was not ready within `ready_timeout_s`.
    ReadyTimeout,
    /// The guest's init reported a failure on the console.
    InitError,
    /// The guest broke a rule of the ring (host_stub's `broken`).
    Broken,
    /// The guest kernel oopsed or panicked.
    Panic,
}

/// One event.
#[derive(Serialize, Debug)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event<'a> {
    /// The shim started supervising.
    Start {
        /// The shim's process id.
        pid: u32,
        /// The driver VM's name (`[vm] name`, default the config's stem).
        name: &'a str,
        /// The config file.
        config: &'a str,
        /// Host node names of the configured exports, in config order.
        exports: Vec<&'a str>,
        /// Guest-physical address of the shared window.
        window_gpa: u64,
        /// Size of the shared window in bytes.
        window_size: u64,
    },
    /// A generation is booting.
    Booting {
        /// The new generation.
        generation: u32,
    },
    /// A generation is ready and serving.
    Ready {
        /// The ready generation.
        generation: u32,
        /// Seconds from boot to ready.
        boot_to_ready_s: f64,
        /// Seconds from the previous generation's death to ready, on a
        /// restart.
        down_to_ready_s: Option<f64>,
        /// Host names of the exports the guest reported it serves (`None`
        /// when readiness came from the console, without a report).
        served: Option<Vec<&'a str>>,
        /// Host names of the exports whose guest node is missing.
        missing: Option<Vec<&'a str>>,
        /// host_stub's view, when host_stub is in use.
        host: Option<HostView>,
    },
    /// The guest's exports report changed while ready.
    Exports {
        /// The generation.
        generation: u32,
        /// Host names of the exports served now.
        served: Vec<&'a str>,
        /// Host names of the exports missing now.
        missing: Vec<&'a str>,
    },
    /// A generation died.
    Down {
        /// The generation that died.
        generation: u32,
        /// Seconds it lived.
        after_s: f64,
        /// Why, as a word.
        cause: Cause,
        /// Why, as the log line says it.
        detail: String,
        /// host_stub's view just before the shim tore the VM down.
        host: Option<HostView>,
    },
    /// The shim restarts the driver VM after a backoff.
    Restart {
        /// This restart's number over the shim's life, from 1.
        restart: u32,
        /// The configured `max_restarts`.
        max_restarts: u32,
        /// Milliseconds the shim waits first.
        delay_ms: u64,
        /// Restarts within the last `restart_window_s`, this one included:
        /// the count compared with `max_restarts`.
        in_window: u32,
        /// The configured `restart_window_s` (0: the whole life).
        restart_window_s: u64,
    },
    /// The shim gives up: `max_restarts` restarts within the window were
    /// used.
    GivingUp {
        /// Restarts done over the shim's life.
        restarts: u32,
        /// The configured `max_restarts`.
        max_restarts: u32,
        /// Restarts within the last `restart_window_s`.
        in_window: u32,
        /// The configured `restart_window_s` (0: the whole life).
        restart_window_s: u64,
    },
    /// The shim stops supervising.
    Exit {
        /// The last generation.
        generation: u32,
        /// `signal`, `exit_after_ready`, `export_failed`, `gave_up`,
        /// `no_host_stub`.
        reason: &'static str,
        /// The shim's exit status.
        status: i32,
    },
}

/// The event stream: a file, or nothing.
pub struct Events {
    out: Option<File>,
    t0: Instant,
}

impl Events {
    /// Appends to `path` (created if needed), or writes nothing for `None`.
    pub fn open(path: Option<&Path>) -> io::Result<Self> {
        let out = match path {
            Some(p) => Some(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))?,
            ),
            None => None,
        };
        Ok(Events {
            out,
            t0: Instant::now(),
        })
    }

    /// Writes one event as one line.  A failed write is logged, not fatal:
    /// the driver VM matters more than its observer.
    pub fn emit(&mut self, ev: Event<'_>) {
        let Some(f) = self.out.as_mut() else {
            return;
        };
        let line = event_line(&ev, self.t0.elapsed().as_secs_f64(), unix_now());
        if let Err(e) = f.write_all(line.as_bytes()) {
            warn!("events: {e}");
        }
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// `ev` as one JSON line with `t` and `unix` added, rounded to milliseconds.
fn event_line(ev: &Event<'_>, t: f64, unix: f64) -> String {
    let mut v = serde_json::to_value(ev).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.insert("t".into(), ms(t).into());
        m.insert("unix".into(), ms(unix).into());
    }
    let mut s = v.to_string();
    s.push('\n');
    s
}

fn ms(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(l: &str) -> serde_json::Value {
        assert!(l.ends_with('\n') && !l[..l.len() - 1].contains('\n'));
        serde_json::from_str(l).unwrap()
    }

    #[test]
    fn down_event_is_one_line_with_kind_cause_and_time() {
        let v = parse(&event_line(
            &Event::Down {
                generation: 3,
                after_s: 1.5,
                cause: Cause::TripleFault,
                detail: "triple fault / reboot\n(KVM_EXIT_SHUTDOWN)".into(),
                host: Some(HostView {
                    state: 3,
                    generation: 3,
                    guest_state: 2,
                    heartbeat: 9,
                    kicks: 10,
                    broken: 0,
                }),
            },
            2.0004,
            1_700_000_000.25,
        ));
        assert_eq!(v["event"], "down");
        assert_eq!(v["cause"], "triple_fault");
        assert_eq!(v["generation"], 3);
        assert_eq!(v["host"]["kicks"], 10);
        assert_eq!(v["t"], 2.0);
        assert_eq!(v["unix"], 1_700_000_000.25);
    }

    #[test]
    fn ready_event_lists_missing_exports_and_null_when_unknown() {
        let v = parse(&event_line(
            &Event::Ready {
                generation: 1,
                boot_to_ready_s: 3.25,
                down_to_ready_s: None,
                served: Some(vec!["ik_fifo"]),
                missing: Some(vec!["ik_late"]),
                host: None,
            },
            0.0,
            0.0,
        ));
        assert_eq!(v["event"], "ready");
        assert_eq!(v["missing"][0], "ik_late");
        assert!(v["down_to_ready_s"].is_null());
        let v = parse(&event_line(
            &Event::GivingUp {
                restarts: 7,
                max_restarts: 2,
                in_window: 2,
                restart_window_s: 3600,
            },
            0.0,
            0.0,
        ));
        assert_eq!(v["event"], "giving_up");
        assert_eq!(v["restarts"], 7);
        assert_eq!(v["in_window"], 2);
        assert_eq!(v["restart_window_s"], 3600);
    }

    #[test]
    fn start_event_names_the_vm() {
        let v = parse(&event_line(
            &Event::Start {
                pid: 42,
                name: "fifo",
                config: "/etc/ikernel/fifo.toml",
                exports: vec!["ik_fifo"],
                window_gpa: 0xd000_0000,
                window_size: 262_144,
            },
            0.0,
            0.0,
        ));
        assert_eq!(v["event"], "start");
        assert_eq!(v["name"], "fifo");
        assert_eq!(v["pid"], 42);
        assert_eq!(v["exports"][0], "ik_fifo");
    }

    #[test]
    fn events_are_appended_to_the_file() {
        let p = std::env::temp_dir().join(format!("ivt-events-{}", std::process::id()));
        let _ = std::fs::remove_file(&p);
        let mut e = Events::open(Some(&p)).unwrap();
        e.emit(Event::Booting { generation: 1 });
        e.emit(Event::Booting { generation: 2 });
        let text = std::fs::read_to_string(&p).unwrap();
        let _ = std::fs::remove_file(&p);
        let gens: Vec<_> = text
            .lines()
            .map(|l| parse(&format!("{l}\n"))["generation"].clone())
            .collect();
        assert_eq!(gens, [1, 2]);
    }
}
