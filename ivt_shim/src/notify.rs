// SPDX-License-Identifier: GPL-2.0

//! Service manager notifications (systemd's `Type=notify`): `READY=1` once
//! the driver VM serves and every export's host node exists, `STATUS=`
//! lines as generations come and go, `STOPPING=1` on an orderly shutdown.
//!
//! The protocol is one datagram per message on the `AF_UNIX` socket named
//! by `$NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace).
//! The socket is made and connected to the manager's once, at start-up,
//! before the sandbox, which then only has to allow sending on it; being
//! connected, sending names no path, so it works as well after the sandbox
//! has made the runtime directory the shim's root.  Without
//! `$NOTIFY_SOCKET` nothing is sent.

use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::OnceLock;

/// The notification socket, connected to the service manager's, if the
/// shim runs under one.
struct Notifier {
    sock: UnixDatagram,
}

static NOTIFIER: OnceLock<Option<Notifier>> = OnceLock::new();

/// Where `$NOTIFY_SOCKET` points.
fn peer(var: &str) -> io::Result<SocketAddr> {
    match var.strip_prefix('@') {
        Some(name) => SocketAddr::from_abstract_name(name.as_bytes()),
        None if var.starts_with('/') => SocketAddr::from_pathname(var),
        None => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("NOTIFY_SOCKET={var:?} is neither a path nor @name"),
        )),
    }
}

/// Opens the notification socket named by `$NOTIFY_SOCKET`, if set, and
/// connects it; call once, early.  A bad value or a socket that cannot be
/// reached is an error: a service manager that waits for `READY=1` would
/// otherwise wait in vain.
pub fn init() -> io::Result<bool> {
    let n = match std::env::var("NOTIFY_SOCKET") {
        Ok(v) if !v.is_empty() => {
            let sock = UnixDatagram::unbound()?;
            sock.connect_addr(&peer(&v)?)
                .map_err(|e| io::Error::new(e.kind(), format!("NOTIFY_SOCKET={v:?}: {e}")))?;
            Some(Notifier { sock })
        }
        _ => None,
    };
    let on = n.is_some();
    let _ = NOTIFIER.set(n);
    Ok(on)
}

/// The notification socket's descriptor, if there is one (for the
/// sandbox, which allows `sendto` on it alone).
pub fn raw_fd() -> Option<std::os::fd::RawFd> {
    use std::os::fd::AsRawFd;
    NOTIFIER.get()?.as_ref().map(|n| n.sock.as_raw_fd())
}

/// Sends `msg` (`KEY=value` lines) to the service manager, if any.  A
/// failed send is logged, never fatal: the driver VM matters more.
pub fn send(msg: &str) {
    if let Some(Some(n)) = NOTIFIER.get() {
        if let Err(e) = n.sock.send(msg.as_bytes()) {
            log::warn!("service manager notification failed: {e}");
        }
    }
}

/// A `STATUS=` line: one line, whatever `text` holds.
pub fn status(text: &str) {
    send(&format!("STATUS={}", text.replace('\n', " ")));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers() {
        assert!(peer("/run/systemd/notify").is_ok());
        assert!(peer("@abstract").is_ok());
        assert!(peer("relative").is_err());
    }

    #[test]
    fn datagrams_reach_the_socket() {
        let dir = std::env::temp_dir().join(format!("ivt-notify-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("notify");
        let rx = UnixDatagram::bind(&path).expect("bind");
        let sock = UnixDatagram::unbound().expect("socket");
        sock.connect_addr(&peer(path.to_str().expect("utf-8")).expect("peer"))
            .expect("connect");
        let n = Notifier { sock };
        // Connected: sending names no path, so it still reaches the
        // manager once the path is gone from the shim's view (the sandbox
        // changes its root).
        let moved = dir.with_extension("moved");
        let _ = std::fs::remove_dir_all(&moved);
        std::fs::rename(&dir, &moved).expect("rename");
        n.sock.send(b"READY=1\nSTATUS=x").expect("send");
        let mut buf = [0u8; 64];
        let len = rx.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..len], b"READY=1\nSTATUS=x");
        std::fs::remove_dir_all(&moved).expect("cleanup");
    }
}
