// SPDX-License-Identifier: GPL-2.0

//! Port I/O hand-through: the only module with inline assembly.
//!
//! Guest accesses to configured port ranges are performed on the same ports
//! of the machine the shim runs on. The shim asks for the ports with
//! ioperm(2) (needs CAP_SYS_RAWIO and a kernel with
//! CONFIG_X86_IOPL_IOPERM) and then uses `in`/`out`; if ioperm is not
//! available it falls back to pread/pwrite on /dev/port (CONFIG_DEVPORT).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;

/// How ports are reached.
pub enum PortIo {
    /// ioperm granted: direct `in`/`out`.
    Direct,
    /// /dev/port.
    DevPort(File),
}

/// A set of granted port ranges.
pub struct Ports {
    ranges: Vec<(u16, u16)>,
    io: PortIo,
}

impl Ports {
    /// Requests access to `ranges` (base, count).
    pub fn open(ranges: &[(u16, u16)]) -> io::Result<Ports> {
        let mut direct = true;
        let mut why = String::new();
        for &(base, n) in ranges {
            // SAFETY: ioperm only changes this process's I/O
            // permission bitmap; it touches no memory of ours.
            let r = unsafe { libc::ioperm(libc::c_ulong::from(base), libc::c_ulong::from(n), 1) };
            if r != 0 {
                direct = false;
                why = io::Error::last_os_error().to_string();
                break;
            }
        }
        let io = if direct {
            PortIo::Direct
        } else {
            match OpenOptions::new().read(true).write(true).open("/dev/port") {
                Ok(f) => PortIo::DevPort(f),
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!(
                            "port hand-through needs ioperm (CONFIG_X86_IOPL_IOPERM: {why}) or /dev/port (CONFIG_DEVPORT: {e})"
                        ),
                    ))
                }
            }
        };
        Ok(Ports {
            ranges: ranges.to_vec(),
            io,
        })
    }

    /// True if `port` is handed through.
    pub fn contains(&self, port: u16) -> bool {
        self.ranges
            .iter()
            .any(|&(b, n)| port >= b && u32::from(port) < u32::from(b) + u32::from(n))
    }

    /// Which mechanism is in use.
    pub fn mechanism(&self) -> &'static str {
        match self.io {
            PortIo::Direct => "ioperm",
            PortIo::DevPort(_) => "/dev/port",
        }
    }

    /// Performs an `out` of `data` (1, 2 or 4 bytes) to `port`.
    pub fn write(&self, port: u16, data: &[u8]) {
        if !self.contains(port) {
            return;
        }
        match &self.io {
            PortIo::Direct => match *data {
                // SAFETY: ioperm granted `port`; `out` affects only the device.
                [b] => unsafe {
                    core::arch::asm!("out dx, al", in("dx") port, in("al") b, options(nomem, nostack, preserves_flags))
                },
                [a, b] => {
                    let v = u16::from_le_bytes([a, b]);
                    // SAFETY: As above.
                    unsafe {
                        core::arch::asm!("out dx, ax", in("dx") port, in("ax") v, options(nomem, nostack, preserves_flags))
                    }
                }
                [a, b, c, d] => {
                    let v = u32::from_le_bytes([a, b, c, d]);
                    // SAFETY: As above.
                    unsafe {
                        core::arch::asm!("out dx, eax", in("dx") port, in("eax") v, options(nomem, nostack, preserves_flags))
                    }
                }
                _ => {}
            },
            PortIo::DevPort(f) => {
                let _ = f.write_at(data, u64::from(port));
            }
        }
    }

    /// Performs an `in` of `data.len()` (1, 2 or 4) bytes from `port`.
    pub fn read(&self, port: u16, data: &mut [u8]) {
        if !self.contains(port) {
            data.fill(0xff);
            return;
        }
        match &self.io {
            PortIo::Direct => match data.len() {
                1 => {
                    let v: u8;
                    // SAFETY: ioperm granted `port`; `in` affects only the device.
                    unsafe {
                        core::arch::asm!("in al, dx", in("dx") port, out("al") v, options(nomem, nostack, preserves_flags))
                    };
                    data[0] = v;
                }
                2 => {
                    let v: u16;
                    // SAFETY: As above.
                    unsafe {
                        core::arch::asm!("in ax, dx", in("dx") port, out("ax") v, options(nomem, nostack, preserves_flags))
                    };
                    data.copy_from_slice(&v.to_le_bytes());
                }
                4 => {
                    let v: u32;
                    // SAFETY: As above.
                    unsafe {
                        core::arch::asm!("in eax, dx", in("dx") port, out("eax") v, options(nomem, nostack, preserves_flags))
                    };
                    data.copy_from_slice(&v.to_le_bytes());
                }
                _ => data.fill(0xff),
            },
            PortIo::DevPort(f) => {
                if f.read_at(data, u64::from(port)).is_err() {
                    data.fill(0xff);
                }
            }
        }
    }
}
