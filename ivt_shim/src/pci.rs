// SPDX-License-Identifier: GPL-2.0

//! The driver VM's PCI bus: configuration mechanism #1 (ports 0xCF8 and
//! 0xCFC-0xCFF) on bus 0, with a host bridge at 00:00.0 and the functions
//! handed through (`[[pci]]`, vfio.rs) at 00:01.0, 00:02.0, ...
//!
//! Only the type-0 header is offered, virtualised where the guest must not
//! reach the device or would be misled by it:
//!
//! - the BARs are emulated: the guest sizes and moves them here, and a
//!   BAR decodes only while its decode bit in the command register is set
//!   and it lies wholly in this bus's windows ([`MMIO_START`]..[`MMIO_END`]
//!   for memory, [`IO_START`]..[`IO_END`] for ports);
//! - the device's capability list is hidden, and the expansion ROM and
//!   everything from offset 0x40 read as zero and ignore writes: there is
//!   no MSI-X, power management or PCIe capability.  A function that VFIO
//!   can give MSI gets one emulated MSI capability at 0x40 (one vector,
//!   64-bit address, no masking), the only entry of its list; the guest's
//!   enable, address and data go to [`Backend::set_msi`].  Others
//!   interrupt through INTx alone;
//! - the interrupt line register is the guest's to write; the pin is the
//!   device's, routed to I/O APIC pin [`FIRST_GSI`] + n by the MP table;
//! - the header type says single-function.
//!
//! The command register (decode, bus mastering, INTx disable), the status
//! register, the cache line size and the latency timer are written
//! through; vfio-pci filters what reaches the hardware.
//!
//! Every guest access lands in [`PciBus`] with its port or address and
//! width as the vCPU exit gave them; nothing here trusts the guest's
//! values beyond masking them to the registers' widths.

/// The configuration address port.
pub const CONFIG_ADDRESS: u16 = 0xcf8;
/// The first configuration data port (0xCFC-0xCFF).
pub const CONFIG_DATA: u16 = 0xcfc;
/// Guest-physical window of memory BARs (below the I/O APIC).
pub const MMIO_START: u64 = 0xe000_0000;
/// End of the memory BAR window.
pub const MMIO_END: u64 = 0xfec0_0000;
/// First port of the I/O BAR window.
pub const IO_START: u16 = 0xc000;
/// End of the I/O BAR window.
pub const IO_END: u32 = 0x1_0000;
/// GSI (I/O APIC pin) of the first device's INTx.
pub const FIRST_GSI: u32 = 16;
/// GSI of the first device's MSI (after the I/O APIC's 24 pins).
pub const FIRST_MSI_GSI: u32 = 24;
/// Where the emulated MSI capability is.
const MSI_CAP: u64 = 0x40;
/// MSI message control: enable.
const MSI_ENABLE: u16 = 1 << 0;
/// MSI message control: 64-bit address capable.
const MSI_64BIT: u16 = 1 << 7;
/// Most handed-through functions (one per I/O APIC pin 16..23).
pub const MAX_DEVICES: usize = 8;

/// The host bridge's ids: Red Hat's "QEMU PCIe host bridge", which no
/// guest driver has quirks for.
const BRIDGE_VENDOR: u16 = 0x1b36;
const BRIDGE_DEVICE: u16 = 0x0008;

const CMD_IO: u16 = 1 << 0;
const CMD_MEM: u16 = 1 << 1;
/// The command bits a guest may set: I/O, memory, bus master, parity,
/// SERR, INTx disable.
pub const CMD_WRITABLE: u16 = 0x0001 | 0x0002 | 0x0004 | 0x0040 | 0x0100 | 0x0400;
/// Bus mastering in the command register.
pub const CMD_MASTER: u16 = 1 << 2;
const STATUS_CAP_LIST: u32 = 1 << 4;

/// What the bus needs of a handed-through function.
pub trait Backend: Send + Sync {
    /// Reads `buf.len()` bytes of configuration space at `off`.
    fn config_read(&self, off: u64, buf: &mut [u8]);
    /// Writes configuration space at `off`.
    fn config_write(&self, off: u64, buf: &[u8]);
    /// Reads `buf.len()` bytes of BAR `index` at `off` (in range).
    fn bar_read(&self, index: u32, off: u64, buf: &mut [u8]);
    /// Writes BAR `index` at `off` (in range).
    fn bar_write(&self, index: u32, off: u64, buf: &[u8]);
    /// The guest enabled MSI with this (address, data), changed them, or
    /// (None) disabled it.
    fn set_msi(&self, route: Option<(u64, u32)>);
}

/// A function to put on the bus.
pub struct Slot {
    /// Its configuration space and BARs.
    pub backend: std::sync::Arc<dyn Backend>,
    /// Its BARs.
    pub bars: Vec<BarInfo>,
    /// Whether it gets the emulated MSI capability.
    pub msi: bool,
}

/// The guest's view of the MSI capability.
#[derive(Clone, Copy, Default)]
struct Msi {
    ctrl: u16,
    addr: u64,
    data: u16,
    /// What the backend was last told.
    active: Option<(u64, u32)>,
}

/// What a BAR decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarKind {
    /// Port I/O.
    Io,
    /// 32-bit memory.
    Mem32,
    /// 64-bit memory (two BAR registers).
    Mem64,
}

/// The fixed facts of one BAR, from the device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BarInfo {
    /// BAR number (0-5; the low register of a 64-bit BAR).
    pub index: u32,
    /// Its kind.
    pub kind: BarKind,
    /// Prefetchable (memory BARs).
    pub prefetch: bool,
    /// Size in bytes, a power of two.
    pub size: u64,
    /// Host address of a mapping of the whole BAR, if it is mapped into
    /// the guest as a KVM memory slot instead of being trapped.
    pub host_map: Option<u64>,
}

/// The BARs of a function as the device's BAR registers (`raw`) and its
/// regions' sizes (`sizes`, 0 where absent) describe them.
pub fn bars_from(raw: &[u32; 6], sizes: &[u64; 6]) -> Vec<BarInfo> {
    let mut v = Vec::new();
    let mut i = 0usize;
    while i < 6 {
        let r = raw[i];
        let size = sizes[i];
        let kind = if r & 1 == 1 {
            BarKind::Io
        } else if (r >> 1) & 3 == 2 && i < 5 {
            BarKind::Mem64
        } else {
            BarKind::Mem32
        };
        let ok = size.is_power_of_two()
            && match kind {
                BarKind::Io => size <= 0x1000,
                _ => size <= (MMIO_END - MMIO_START) / 2,
            };
        if ok {
            v.push(BarInfo {
                index: i as u32,
                kind,
                prefetch: kind != BarKind::Io && r & 8 != 0,
                size,
                host_map: None,
            });
        }
        i += if kind == BarKind::Mem64 { 2 } else { 1 };
    }
    v
}

/// Where the bus puts BARs at reset: memory BARs from [`MMIO_START`] and
/// I/O BARs from [`IO_START`], each naturally aligned (memory BARs to at
/// least a page), functions in order.  None if they do not fit.
pub fn layout(devs: &[Vec<BarInfo>]) -> Option<Vec<Vec<u64>>> {
    let mut mem = MMIO_START;
    let mut io = u64::from(IO_START);
    let mut out = Vec::new();
    for bars in devs {
        let mut a = Vec::new();
        for b in bars {
            let (next, end) = match b.kind {
                BarKind::Io => (&mut io, u64::from(IO_END)),
                _ => (&mut mem, MMIO_END),
            };
            let align = if b.kind == BarKind::Io {
                b.size
            } else {
                b.size.max(4096)
            };
            let at = next.checked_next_multiple_of(align)?;
            if at.checked_add(b.size)? > end {
                return None;
            }
            *next = at + b.size;
            a.push(at);
        }
        out.push(a);
    }
    Some(out)
}

struct Bar {
    info: BarInfo,
    addr: u64,
}

impl Bar {
    fn flags(&self) -> u32 {
        match self.info.kind {
            BarKind::Io => 1,
            BarKind::Mem32 => u32::from(self.info.prefetch) << 3,
            BarKind::Mem64 => 4 | u32::from(self.info.prefetch) << 3,
        }
    }

    /// The address the BAR decodes at, if it lies wholly in its window.
    fn decodes_at(&self, cmd: u16) -> Option<u64> {
        let (on, lo, hi) = match self.info.kind {
            BarKind::Io => (cmd & CMD_IO != 0, u64::from(IO_START), u64::from(IO_END)),
            _ => (cmd & CMD_MEM != 0, MMIO_START, MMIO_END),
        };
        let end = self.addr.checked_add(self.info.size)?;
        (on && self.addr >= lo && end <= hi).then_some(self.addr)
    }
}

/// One function on the bus.
pub struct Function {
    backend: std::sync::Arc<dyn Backend>,
    bars: Vec<Bar>,
    cmd: u16,
    line: u8,
    gsi: u32,
    msi: Option<Msi>,
}

/// A change to make to the guest's memory map: the mapped BAR `slot` (0
/// for the first mapped BAR of the bus) now decodes at `gpa`, or nowhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotChange {
    /// Which mapped BAR.
    pub slot: u32,
    /// Its host mapping and size.
    pub host: u64,
    /// Size in bytes.
    pub size: u64,
    /// Where the guest saw it before (None: not at all).
    pub was: Option<u64>,
    /// Where the guest sees it now (None: not at all).
    pub gpa: Option<u64>,
}

/// Counters of what the guest did wrong or oddly on the bus.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Accesses to configuration space of absent functions or registers
    /// the bus ignores writes to.
    pub ignored_writes: u64,
    /// Memory or port accesses that no BAR decodes.
    pub unclaimed: u64,
}

/// The emulated bus of one generation (its BARs start at the reset
/// layout, so a new guest finds them where its predecessor's firmware
/// would have put them).
pub struct PciBus {
    address: u32,
    funcs: Vec<Function>,
    /// The mapped BARs' current guest addresses, in slot order.
    mapped: Vec<Option<u64>>,
    /// Counters.
    pub stats: Stats,
}

impl PciBus {
    /// A bus with `devs` at devices 1, 2, ...
    pub fn new(devs: Vec<Slot>) -> Option<PciBus> {
        let infos: Vec<Vec<BarInfo>> = devs.iter().map(|d| d.bars.clone()).collect();
        let at = layout(&infos)?;
        let mut funcs = Vec::new();
        let mut mapped = Vec::new();
        for (n, (slot, addrs)) in devs.into_iter().zip(at).enumerate() {
            let Slot { backend, bars, msi } = slot;
            let bars: Vec<Bar> = bars
                .into_iter()
                .zip(addrs)
                .map(|(info, addr)| Bar { info, addr })
                .collect();
            mapped.extend(
                bars.iter()
                    .filter(|b| b.info.host_map.is_some())
                    .map(|_| None),
            );
            funcs.push(Function {
                backend,
                bars,
                cmd: 0,
                line: (FIRST_GSI + n as u32) as u8,
                gsi: FIRST_GSI + n as u32,
                msi: msi.then(Msi::default),
            });
        }
        if funcs.len() > MAX_DEVICES {
            return None;
        }
        Some(PciBus {
            address: 0,
            funcs,
            mapped,
            stats: Stats::default(),
        })
    }

    /// (device number, interrupt pin 1-4, GSI) of each function with an
    /// interrupt pin, for the MP table.
    pub fn intx_routes(&self) -> Vec<(u8, u8, u32)> {
        self.funcs
            .iter()
            .enumerate()
            .filter_map(|(n, f)| {
                let mut pin = [0u8];
                f.backend.config_read(0x3d, &mut pin);
                (1..=4)
                    .contains(&pin[0])
                    .then_some(((n + 1) as u8, pin[0], f.gsi))
            })
            .collect()
    }

    /// True for the configuration ports.
    pub fn is_config_port(port: u16) -> bool {
        (CONFIG_ADDRESS..CONFIG_ADDRESS + 8).contains(&port)
    }

    /// The function addressed by the latched configuration address, and
    /// the register offset of `port`'s byte.
    fn target(&self, port: u16) -> Option<(Option<usize>, u64)> {
        let a = self.address;
        if a & 0x8000_0000 == 0 || (a >> 16) & 0xff != 0 || (a >> 8) & 7 != 0 {
            return None;
        }
        let dev = ((a >> 11) & 0x1f) as usize;
        let reg = u64::from(a & 0xfc) + u64::from(port - CONFIG_DATA);
        match dev {
            0 => Some((None, reg)),
            d if d <= self.funcs.len() => Some((Some(d - 1), reg)),
            _ => None,
        }
    }

    /// A guest `in` from a configuration port.
    pub fn config_in(&mut self, port: u16, data: &mut [u8]) {
        data.fill(0xff);
        if port == CONFIG_ADDRESS && data.len() == 4 {
            data.copy_from_slice(&self.address.to_le_bytes());
            return;
        }
        if port < CONFIG_DATA || usize::from(port - CONFIG_DATA) + data.len() > 4 {
            return;
        }
        let Some((f, reg)) = self.target(port) else {
            return;
        };
        let dword = match f {
            None => bridge_dword(reg & !3),
            Some(i) => self.funcs[i].read_dword(reg & !3),
        };
        let b = dword.to_le_bytes();
        let o = (reg & 3) as usize;
        data.copy_from_slice(&b[o..o + data.len()]);
    }

    /// A guest `out` to a configuration port; returns the changes to the
    /// mapped BARs it caused.
    pub fn config_out(&mut self, port: u16, data: &[u8]) -> Vec<SlotChange> {
        if port == CONFIG_ADDRESS && data.len() == 4 {
            self.address = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
            return Vec::new();
        }
        if port < CONFIG_DATA || usize::from(port - CONFIG_DATA) + data.len() > 4 {
            self.stats.ignored_writes += 1;
            return Vec::new();
        }
        match self.target(port) {
            Some((Some(i), reg)) => {
                if !self.funcs[i].write(reg, data) {
                    self.stats.ignored_writes += 1;
                }
                self.sync()
            }
            _ => {
                self.stats.ignored_writes += 1;
                Vec::new()
            }
        }
    }

    /// The mapped BARs whose guest address changed since the last call.
    fn sync(&mut self) -> Vec<SlotChange> {
        let mut out = Vec::new();
        let mut slot = 0usize;
        for f in &self.funcs {
            for b in &f.bars {
                let Some(host) = b.info.host_map else {
                    continue;
                };
                let now = b.decodes_at(f.cmd);
                if self.mapped[slot] != now {
                    out.push(SlotChange {
                        slot: slot as u32,
                        host,
                        size: b.info.size,
                        was: self.mapped[slot],
                        gpa: now,
                    });
                    self.mapped[slot] = now;
                }
                slot += 1;
            }
        }
        out
    }

    /// The trapped BAR that decodes `addr..addr+len` (ports or memory).
    fn claim(&self, io: bool, addr: u64, len: usize) -> Option<(&Function, u32, u64)> {
        self.funcs.iter().find_map(|f| {
            f.bars.iter().find_map(|b| {
                if (b.info.kind == BarKind::Io) != io || b.info.host_map.is_some() {
                    return None;
                }
                let base = b.decodes_at(f.cmd)?;
                let off = addr.checked_sub(base)?;
                (off + len as u64 <= b.info.size).then_some((f, b.info.index, off))
            })
        })
    }

    /// A guest access to a port or a physical address outside RAM: true
    /// if a BAR claimed it.  Reads of unclaimed addresses return all ones.
    pub fn bar_access(&mut self, io: bool, addr: u64, data: &mut [u8], write: bool) -> bool {
        match self.claim(io, addr, data.len()) {
            Some((f, index, off)) => {
                if write {
                    f.backend.bar_write(index, off, data);
                } else {
                    data.fill(0xff);
                    f.backend.bar_read(index, off, data);
                }
                true
            }
            None => {
                if !write {
                    data.fill(0xff);
                }
                self.stats.unclaimed += 1;
                false
            }
        }
    }

    /// True if `port` may belong to a BAR (the I/O window).
    pub fn is_io_window(port: u16) -> bool {
        port >= IO_START
    }
}

/// The host bridge's configuration space.
fn bridge_dword(reg: u64) -> u32 {
    match reg {
        0x00 => u32::from(BRIDGE_DEVICE) << 16 | u32::from(BRIDGE_VENDOR),
        0x08 => 0x0600_0000, // class: host bridge, revision 0
        _ => 0,
    }
}

impl Function {
    fn raw(&self, reg: u64) -> u32 {
        let mut b = [0u8; 4];
        self.backend.config_read(reg, &mut b);
        u32::from_le_bytes(b)
    }

    /// The BAR register `n` (0-5) as the guest sees it.
    fn bar_reg(&self, n: u32) -> u32 {
        for b in &self.bars {
            let mask = !(b.info.size - 1);
            if b.info.index == n {
                let m = if b.info.kind == BarKind::Io {
                    0xffff_fffc
                } else {
                    0xffff_fff0
                };
                return (b.addr & mask) as u32 & m | b.flags();
            }
            if b.info.kind == BarKind::Mem64 && b.info.index + 1 == n {
                return ((b.addr & mask) >> 32) as u32;
            }
        }
        0
    }

    fn set_bar_reg(&mut self, n: u32, v: u32) -> bool {
        for b in &mut self.bars {
            let mask = !(b.info.size - 1);
            if b.info.index == n {
                let low = u64::from(v) & mask & 0xffff_ffff;
                b.addr = (b.addr & !0xffff_ffff) | low;
                if b.info.kind == BarKind::Io {
                    b.addr &= 0xffff_fffc;
                }
                return true;
            }
            if b.info.kind == BarKind::Mem64 && b.info.index + 1 == n {
                b.addr = (b.addr & 0xffff_ffff) | ((u64::from(v) << 32) & mask);
                return true;
            }
        }
        false
    }

    fn read_dword(&self, reg: u64) -> u32 {
        match reg {
            0x00 | 0x08 | 0x2c => self.raw(reg),
            // The device's capability list is hidden; ours has MSI alone.
            0x04 => {
                let cap = if self.msi.is_some() {
                    STATUS_CAP_LIST << 16
                } else {
                    0
                };
                (self.raw(reg) & !(STATUS_CAP_LIST << 16) & 0xffff_0000) | cap | u32::from(self.cmd)
            }
            0x34 if self.msi.is_some() => MSI_CAP as u32,
            0x40..=0x4c => match &self.msi {
                Some(m) => match reg {
                    0x40 => 0x05 | u32::from(m.ctrl | MSI_64BIT) << 16,
                    0x44 => m.addr as u32,
                    0x48 => (m.addr >> 32) as u32,
                    _ => u32::from(m.data),
                },
                None => 0,
            },
            // Header type 0, single function; BIST as the device says.
            0x0c => self.raw(reg) & 0xff00_ffff,
            0x10..=0x24 => self.bar_reg(((reg - 0x10) / 4) as u32),
            0x3c => (self.raw(reg) & 0xffff_ff00) | u32::from(self.line),
            _ => 0,
        }
    }

    /// Applies a guest write of `data` at `reg`; false if it was ignored.
    fn write(&mut self, reg: u64, data: &[u8]) -> bool {
        let base = reg & !3;
        let o = (reg & 3) as usize;
        match base {
            0x04 => {
                let mut cur = (u32::from(self.cmd)).to_le_bytes();
                let mut st = [0u8; 4];
                for (i, &d) in data.iter().enumerate() {
                    if o + i < 2 {
                        cur[o + i] = d;
                    } else {
                        st[o + i] = d;
                    }
                }
                if o < 2 {
                    let cmd = u16::from_le_bytes([cur[0], cur[1]]) & CMD_WRITABLE;
                    self.cmd = cmd;
                    self.backend.config_write(0x04, &cmd.to_le_bytes());
                }
                let from = o.max(2);
                let to = o + data.len();
                // Status bits are write-one-to-clear: only the bytes
                // written go through, and only if they clear something.
                if to > from && st[from..to].iter().any(|&b| b != 0) {
                    self.backend.config_write(0x04 + from as u64, &st[from..to]);
                }
                true
            }
            0x0c if o < 2 => {
                let n = data.len().min(2 - o);
                self.backend.config_write(reg, &data[..n]);
                true
            }
            0x10..=0x24 => {
                let n = ((base - 0x10) / 4) as u32;
                let mut cur = self.bar_reg(n).to_le_bytes();
                cur[o..o + data.len()].copy_from_slice(data);
                self.set_bar_reg(n, u32::from_le_bytes(cur))
            }
            0x3c if o == 0 => {
                self.line = data[0];
                true
            }
            0x40..=0x4c if self.msi.is_some() => {
                self.write_msi(base, o, data);
                true
            }
            _ => false,
        }
    }

    /// A write into the MSI capability; tells the backend when the
    /// enabled route changes.
    fn write_msi(&mut self, base: u64, o: usize, data: &[u8]) {
        let Some(m) = self.msi.as_mut() else {
            return;
        };
        let cur = match base {
            0x40 => u32::from(m.ctrl) << 16,
            0x44 => m.addr as u32,
            0x48 => (m.addr >> 32) as u32,
            _ => u32::from(m.data),
        };
        let mut b = cur.to_le_bytes();
        b[o..o + data.len()].copy_from_slice(data);
        let v = u32::from_le_bytes(b);
        match base {
            // Only the enable bit: one vector (multiple message enable 0).
            0x40 => m.ctrl = (v >> 16) as u16 & MSI_ENABLE,
            0x44 => m.addr = (m.addr & !0xffff_ffff) | u64::from(v & !3),
            0x48 => m.addr = (m.addr & 0xffff_ffff) | u64::from(v) << 32,
            _ => m.data = v as u16,
        }
        let route = (m.ctrl & MSI_ENABLE != 0).then_some((m.addr, u32::from(m.data)));
        if route != m.active {
            m.active = route;
            self.backend.set_msi(route);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// An 82540EM as QEMU presents it: BAR0 128 KiB memory, BAR1 64 ports,
    /// INTA, a capability list.
    struct Fake {
        cfg: Mutex<[u8; 256]>,
        log: Mutex<Vec<String>>,
    }

    impl Fake {
        fn e1000() -> Arc<Fake> {
            let mut c = [0u8; 256];
            c[0..4].copy_from_slice(&0x100e_8086u32.to_le_bytes());
            c[6] = 0x10; // status: capability list
            c[8..12].copy_from_slice(&0x0200_0003u32.to_le_bytes());
            c[0x0e] = 0x80; // multi-function bit, to be hidden
            c[0x10..0x14].copy_from_slice(&0xfeb8_0000u32.to_le_bytes());
            c[0x14..0x18].copy_from_slice(&0x0000_c001u32.to_le_bytes());
            c[0x34] = 0xdc;
            c[0x3d] = 1;
            c[0xdc] = 1;
            Arc::new(Fake {
                cfg: Mutex::new(c),
                log: Mutex::new(Vec::new()),
            })
        }
    }

    impl Backend for Fake {
        fn config_read(&self, off: u64, buf: &mut [u8]) {
            let c = self.cfg.lock().unwrap();
            buf.copy_from_slice(&c[off as usize..off as usize + buf.len()]);
        }
        fn config_write(&self, off: u64, buf: &[u8]) {
            self.log
                .lock()
                .unwrap()
                .push(format!("cfg {off:#x} {buf:x?}"));
        }
        fn bar_read(&self, index: u32, off: u64, buf: &mut [u8]) {
            self.log
                .lock()
                .unwrap()
                .push(format!("read bar{index} {off:#x} {}", buf.len()));
            buf.fill(0x5a);
        }
        fn bar_write(&self, index: u32, off: u64, buf: &[u8]) {
            self.log
                .lock()
                .unwrap()
                .push(format!("write bar{index} {off:#x} {buf:x?}"));
        }
        fn set_msi(&self, route: Option<(u64, u32)>) {
            self.log.lock().unwrap().push(format!("msi {route:x?}"));
        }
    }

    fn bus(mapped: bool) -> (PciBus, Arc<Fake>) {
        bus_msi(mapped, false)
    }

    fn bus_msi(mapped: bool, msi: bool) -> (PciBus, Arc<Fake>) {
        let f = Fake::e1000();
        let mut raw = [0u32; 6];
        raw[0] = 0xfeb8_0000;
        raw[1] = 0xc001;
        let mut bars = bars_from(&raw, &[0x20000, 0x40, 0, 0, 0, 0]);
        if mapped {
            bars[0].host_map = Some(0x7f00_0000_0000);
        }
        let b = PciBus::new(vec![Slot {
            backend: f.clone() as Arc<dyn Backend>,
            bars,
            msi,
        }])
        .unwrap();
        (b, f)
    }

    fn rd(b: &mut PciBus, dev: u32, reg: u32) -> u32 {
        b.config_out(
            CONFIG_ADDRESS,
            &(0x8000_0000 | dev << 11 | reg).to_le_bytes(),
        );
        let mut d = [0u8; 4];
        b.config_in(CONFIG_DATA, &mut d);
        u32::from_le_bytes(d)
    }

    fn wr(b: &mut PciBus, dev: u32, reg: u32, v: u32) -> Vec<SlotChange> {
        b.config_out(
            CONFIG_ADDRESS,
            &(0x8000_0000 | dev << 11 | reg).to_le_bytes(),
        );
        b.config_out(CONFIG_DATA, &v.to_le_bytes())
    }

    #[test]
    fn bars_of_the_device() {
        let mut raw = [0u32; 6];
        raw[0] = 0xfeb8_0004 | 8; // 64-bit prefetchable
        raw[2] = 0xc001;
        raw[3] = 0xfebf_0000;
        let b = bars_from(&raw, &[0x4000, 0, 0x20, 0x1000, 0, 0x800]);
        assert_eq!(b.len(), 4);
        assert_eq!(
            (b[0].index, b[0].kind, b[0].prefetch),
            (0, BarKind::Mem64, true)
        );
        assert_eq!((b[1].index, b[1].kind), (2, BarKind::Io));
        assert_eq!(
            (b[2].index, b[2].kind, b[2].size),
            (3, BarKind::Mem32, 0x1000)
        );
        assert_eq!(b[3].index, 5);
        // Sizes that are not powers of two, or I/O BARs beyond 4 KiB, are
        // not offered.
        let b = bars_from(&[1, 0, 0, 0, 0, 0], &[0x3000, 0, 0, 0, 0, 0]);
        assert!(b.is_empty());
    }

    #[test]
    fn reset_layout_is_aligned_and_bounded() {
        let (mut b, _) = bus(false);
        assert_eq!(rd(&mut b, 1, 0x10), 0xe000_0000);
        assert_eq!(rd(&mut b, 1, 0x14), 0xc001);
        let big = BarInfo {
            index: 0,
            kind: BarKind::Mem32,
            prefetch: false,
            size: 0x1000_0000,
            host_map: None,
        };
        let small = BarInfo {
            size: 0x100,
            index: 1,
            ..big.clone()
        };
        let half = BarInfo {
            size: 0x0800_0000,
            ..big.clone()
        };
        let l = layout(&[vec![small.clone()], vec![half.clone(), small]]).unwrap();
        assert_eq!(l, vec![vec![0xe000_0000], vec![0xe800_0000, 0xf000_0000]]);
        assert!(layout(&[vec![big.clone(), big]]).is_none());
    }

    #[test]
    fn host_bridge_and_absent_functions() {
        let (mut b, _) = bus(false);
        assert_eq!(rd(&mut b, 0, 0), 0x0008_1b36);
        assert_eq!(rd(&mut b, 0, 8) >> 8, 0x06_0000);
        assert_eq!(rd(&mut b, 2, 0), 0xffff_ffff);
        // Other buses and functions are absent.
        b.config_out(CONFIG_ADDRESS, &0x8001_0800u32.to_le_bytes());
        let mut d = [0u8; 4];
        b.config_in(CONFIG_DATA, &mut d);
        assert_eq!(d, [0xff; 4]);
        b.config_out(CONFIG_ADDRESS, &0x8000_0900u32.to_le_bytes());
        b.config_in(CONFIG_DATA, &mut d);
        assert_eq!(d, [0xff; 4]);
        // The address latch reads back (the kernel's conf1 probe).
        b.config_out(CONFIG_ADDRESS, &0x8000_0000u32.to_le_bytes());
        b.config_in(CONFIG_ADDRESS, &mut d);
        assert_eq!(u32::from_le_bytes(d), 0x8000_0000);
    }

    #[test]
    fn header_is_virtualised() {
        let (mut b, _) = bus(false);
        assert_eq!(rd(&mut b, 1, 0), 0x100e_8086);
        assert_eq!(rd(&mut b, 1, 4) & (1 << 20), 0, "capability list hidden");
        assert_eq!(rd(&mut b, 1, 0x0c) & 0x00ff_0000, 0, "single function");
        assert_eq!(rd(&mut b, 1, 0x34), 0);
        assert_eq!(rd(&mut b, 1, 0x30), 0, "no ROM");
        assert_eq!(rd(&mut b, 1, 0xdc), 0, "nothing above the header");
        assert_eq!(rd(&mut b, 1, 0x3c) & 0xffff, 0x0110, "pin A, line 16");
        assert_eq!(b.intx_routes(), vec![(1, 1, 16)]);
        // Byte and word reads at every offset agree with the dword.
        let d = rd(&mut b, 1, 0).to_le_bytes();
        let mut one = [0u8; 1];
        b.config_in(CONFIG_DATA + 3, &mut one);
        assert_eq!(one[0], d[3]);
        let mut two = [0u8; 2];
        b.config_in(CONFIG_DATA + 2, &mut two);
        assert_eq!(two, [d[2], d[3]]);
        // A width that runs past 0xCFF reads as nothing.
        let mut four = [0u8; 4];
        b.config_in(CONFIG_DATA + 2, &mut four);
        assert_eq!(four, [0xff; 4]);
    }

    #[test]
    fn bar_sizing_and_moving() {
        let (mut b, _) = bus(false);
        wr(&mut b, 1, 0x10, 0xffff_ffff);
        assert_eq!(rd(&mut b, 1, 0x10), 0xfffe_0000);
        wr(&mut b, 1, 0x14, 0xffff_ffff);
        assert_eq!(rd(&mut b, 1, 0x14), 0xffff_ffc1);
        wr(&mut b, 1, 0x10, 0xe010_0000);
        assert_eq!(rd(&mut b, 1, 0x10), 0xe010_0000);
        // BARs 2-5 are unimplemented.
        wr(&mut b, 1, 0x18, 0xffff_ffff);
        assert_eq!(rd(&mut b, 1, 0x18), 0);
    }

    #[test]
    fn trapped_bars_decode_only_when_enabled() {
        let (mut b, f) = bus(false);
        let mut d = [0u8; 4];
        assert!(!b.bar_access(false, 0xe000_0008, &mut d, false));
        assert_eq!(d, [0xff; 4]);
        wr(&mut b, 1, 0x04, 0x3);
        assert!(b.bar_access(false, 0xe000_0008, &mut d, false));
        assert_eq!(d, [0x5a; 4]);
        assert!(b.bar_access(true, 0xc004, &mut d, true));
        // Past the end of the BAR.
        assert!(!b.bar_access(false, 0xe001_fffe, &mut d, false));
        // Outside the window: not decoded.
        wr(&mut b, 1, 0x10, 0x1000_0000);
        assert!(!b.bar_access(false, 0x1000_0000, &mut d, false));
        let log = f.log.lock().unwrap().clone();
        assert_eq!(
            log,
            vec![
                "cfg 0x4 [3, 0]".to_string(),
                "read bar0 0x8 4".into(),
                "write bar1 0x4 [5a, 5a, 5a, 5a]".into()
            ]
        );
        assert_eq!(b.stats.unclaimed, 3);
    }

    #[test]
    fn command_is_masked_and_status_written_by_byte() {
        let (mut b, f) = bus(false);
        wr(&mut b, 1, 0x04, 0xffff_ffff);
        assert_eq!(rd(&mut b, 1, 4) & 0xffff, u32::from(CMD_WRITABLE));
        let log = f.log.lock().unwrap().clone();
        assert_eq!(log, vec!["cfg 0x4 [47, 5]", "cfg 0x6 [ff, ff]"]);
        // A byte write to the status register alone.
        b.config_out(CONFIG_DATA + 3, &[0x80]);
        assert_eq!(f.log.lock().unwrap().last().unwrap(), "cfg 0x7 [80]");
    }

    #[test]
    fn mapped_bar_follows_decode_and_moves() {
        let (mut b, _) = bus(true);
        assert!(wr(&mut b, 1, 0x04, 0x1).is_empty(), "I/O only");
        let c = wr(&mut b, 1, 0x04, 0x3);
        assert_eq!(
            c,
            vec![SlotChange {
                slot: 0,
                host: 0x7f00_0000_0000,
                size: 0x20000,
                was: None,
                gpa: Some(0xe000_0000)
            }]
        );
        // Sizing with decode on moves it out of the window: unmapped.
        let c = wr(&mut b, 1, 0x10, 0xffff_ffff);
        assert_eq!(c[0].gpa, None);
        let c = wr(&mut b, 1, 0x10, 0xe004_0000);
        assert_eq!((c[0].was, c[0].gpa), (None, Some(0xe004_0000)));
        let c = wr(&mut b, 1, 0x04, 0x1);
        assert_eq!(c[0].gpa, None);
        // A mapped BAR is never trapped.
        let mut d = [0u8; 4];
        wr(&mut b, 1, 0x04, 0x3);
        assert!(!b.bar_access(false, 0xe004_0000, &mut d, false));
    }

    #[test]
    fn msi_capability() {
        let (mut b, f) = bus_msi(false, true);
        assert_ne!(rd(&mut b, 1, 4) & (1 << 20), 0, "capability list");
        assert_eq!(rd(&mut b, 1, 0x34), 0x40);
        assert_eq!(rd(&mut b, 1, 0x40), 0x0080_0005, "MSI, last, 64-bit");
        wr(&mut b, 1, 0x44, 0xfee0_1003);
        wr(&mut b, 1, 0x48, 0);
        wr(&mut b, 1, 0x4c, 0x4041);
        assert_eq!(rd(&mut b, 1, 0x44), 0xfee0_1000, "dword aligned");
        assert!(f.log.lock().unwrap().is_empty(), "not enabled yet");
        // Enable (with multiple message enable bits, ignored) by a word
        // write to message control.
        b.config_out(
            CONFIG_ADDRESS,
            &(0x8000_0000u32 | 1 << 11 | 0x40).to_le_bytes(),
        );
        b.config_out(CONFIG_DATA + 2, &0x0071u16.to_le_bytes());
        assert_eq!(rd(&mut b, 1, 0x40) >> 16, 0x81);
        wr(&mut b, 1, 0x4c, 0x4042);
        wr(&mut b, 1, 0x4c, 0x4042);
        wr(&mut b, 1, 0x40, 0x0005);
        let log = f.log.lock().unwrap().clone();
        assert_eq!(
            log,
            vec![
                "msi Some((fee01000, 4041))",
                "msi Some((fee01000, 4042))",
                "msi None"
            ]
        );
        // Without MSI the area reads as zero.
        let (mut b, _) = bus(false);
        assert_eq!(rd(&mut b, 1, 0x40), 0);
    }

    #[test]
    fn ignored_writes_are_counted() {
        let (mut b, _) = bus(false);
        wr(&mut b, 1, 0x30, 0xffff_ffff);
        wr(&mut b, 1, 0x40, 1);
        wr(&mut b, 0, 0x04, 7);
        wr(&mut b, 5, 0x04, 7);
        assert_eq!(b.stats.ignored_writes, 4);
        assert_eq!(rd(&mut b, 1, 0x30), 0);
        wr(&mut b, 1, 0x3c, 0x0b);
        assert_eq!(rd(&mut b, 1, 0x3c) & 0xff, 0x0b);
    }
}
