// SPDX-License-Identifier: GPL-2.0

//! One incarnation of a driver VM on KVM: memory, irqchip, PIT, serial
//! console, window slot, doorbells, vCPU loop.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use kvm_bindings::{
    kvm_mp_state, kvm_pit_config, kvm_userspace_memory_region, KVM_MAX_CPUID_ENTRIES,
    KVM_MP_STATE_UNINITIALIZED, KVM_PIT_SPEAKER_DUMMY,
};
use kvm_ioctls::{IoEventAddress, Kvm, NoDatamatch, VcpuExit, VcpuFd, VmFd};
use std::os::fd::{AsRawFd, FromRawFd};

use vm_memory::{Bytes, FileOffset, GuestAddress, GuestMemoryBackend, GuestMemoryMmap};
use vm_superio::{Serial, Trigger};
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

use crate::boot;
use crate::config::Config;
use crate::cpuid;
use crate::image::{ERROR_MARKER, READY_MARKER};
use crate::mptable;
use crate::pci::{PciBus, SlotChange};
use crate::pio::Ports;
use crate::vfio::HandThrough;

/// First port of the console UART (COM1) and its IRQ.
pub const SERIAL_PORT: u16 = 0x3f8;
/// IRQ of COM1.
pub const SERIAL_IRQ: u32 = 4;
/// The i8042 command port: 0xfe written there is a reset request.
const I8042_CMD: u16 = 0x64;

/// The guest command line; with `test_panic` (and feature `test-hooks`:
/// the shipped shim has no such hook), the guest's /init panics once ready.
pub fn guest_cmdline(cfg: &Config, test_panic: bool) -> String {
    let w = &cfg.window;
    let mut s = format!(
        "console=ttyS0 quiet panic=-1 oops=panic reboot=t acpi=off {} 8250.nr_uarts=1 \
         initcall_blacklist=cmos_init ikernel_guest.window_gpa={:#x} ikernel_guest.window_size={} \
         ikernel_guest.doorbell_port={:#x} ikernel_guest.irq={}",
        // Handed-through functions are found by configuration mechanism
        // #1 (pci.rs); without them there is no bus to scan.
        if cfg.pci.is_empty() {
            "pci=off"
        } else {
            "pci=conf1"
        },
        w.gpa.get_ref(),
        w.size.get_ref(),
        w.doorbell_port.get_ref(),
        w.irq.get_ref()
    );
    if cfg!(feature = "test-hooks") && test_panic {
        s.push_str(" ikernel_test_panic");
    }
    let extra = cfg.vm.cmdline.get_ref().trim();
    if !extra.is_empty() {
        s.push(' ');
        s.push_str(extra);
    }
    s
}

/// Console state shared between the vCPU thread and the supervisor.
#[derive(Default)]
pub struct ConsoleState {
    /// The init script printed the ready marker.
    pub ready: bool,
    /// The init script printed an error line.
    pub error: Option<String>,
    /// The guest kernel printed an oops or a panic: it is dying (driver
    /// VMs boot with `oops=panic`), however long the rest of its report
    /// takes to print over the emulated UART.
    pub fatal: Option<String>,
    /// The last lines, for death reports.
    pub tail: VecDeque<String>,
}

/// Whether a guest console line announces a kernel death: the `Oops:`
/// line of an oops report, or a panic.
pub fn is_fatal(line: &str) -> bool {
    // Without the "[    1.234567] " timestamp, if any.
    let text = match line.strip_prefix('[') {
        Some(rest) => rest.split_once("] ").map_or(line, |(_, t)| t),
        None => line,
    };
    text.starts_with("Oops: ") || text.starts_with("Kernel panic - not syncing")
}

/// The serial output sink: the log file plus line scanning.
pub struct ConsoleOut {
    file: File,
    line: Vec<u8>,
    state: Arc<Mutex<ConsoleState>>,
}

impl Write for ConsoleOut {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write_all(buf)?;
        for &b in buf {
            if b == b'\n' {
                let l = String::from_utf8_lossy(&self.line).trim_end().to_string();
                self.line.clear();
                if let Ok(mut st) = self.state.lock() {
                    if l.contains(READY_MARKER) {
                        st.ready = true;
                    }
                    if l.contains(ERROR_MARKER) && st.error.is_none() {
                        st.error = Some(l.clone());
                    }
                    if is_fatal(&l) && st.fatal.is_none() {
                        st.fatal = Some(l.clone());
                    }
                    st.tail.push_back(l);
                    if st.tail.len() > 20 {
                        st.tail.pop_front();
                    }
                }
            } else if self.line.len() < 4096 {
                self.line.push(b);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Interrupt trigger of the UART: an irqfd.
pub struct IrqTrigger(EventFd);

impl Trigger for IrqTrigger {
    type E = io::Error;
    fn trigger(&self) -> io::Result<()> {
        self.0.write(1)
    }
}

/// Why the vCPU stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// The supervisor asked it to stop.
    Stopped,
    /// KVM_EXIT_SHUTDOWN: triple fault (reboot=t, panic=-1).
    Shutdown,
    /// KVM_EXIT_HLT with no in-kernel wake-up possible.
    Halt,
    /// Reset through the i8042 or a system event.
    Reset(String),
    /// KVM internal error or failed entry.
    InternalError(String),
    /// Any other exit or ioctl error.
    Error(String),
}

type Uart = Serial<IrqTrigger, vm_superio::serial::NoEvents, ConsoleOut>;

/// The PCI bus of one VM and what backs it.
pub struct PciDevices {
    /// The functions (owning the BAR mappings that memory slots point at).
    _hand: Arc<HandThrough>,
    bus: Mutex<PciBus>,
    vm: Arc<VmFd>,
}

/// What the host hands to a driver VM: port ranges and PCI functions.
pub struct Passed<'a> {
    /// `[[ports]]`.
    pub ports: Option<Arc<Ports>>,
    /// `[[pci]]`.
    pub pci: Option<&'a Arc<HandThrough>>,
    /// The RAM's memfd.
    pub ram: &'a GuestRam,
}

/// KVM memory slot of the first mapped BAR (0: RAM, 1: window).
const FIRST_BAR_SLOT: u32 = 2;

impl PciDevices {
    /// Moves the mapped BARs' memory slots as the guest programmed them.
    fn apply(&self, changes: Vec<SlotChange>) {
        for c in changes {
            let slot = FIRST_BAR_SLOT + c.slot;
            let region = |gpa: u64, size: u64| kvm_userspace_memory_region {
                slot,
                guest_phys_addr: gpa,
                memory_size: size,
                userspace_addr: c.host,
                flags: 0,
            };
            if let Some(was) = c.was {
                // SAFETY: Deleting a slot (size 0) frees nothing of ours.
                if let Err(e) = unsafe { self.vm.set_user_memory_region(region(was, 0)) } {
                    log::warn!("PCI: unmapping BAR slot {slot} from {was:#x}: {e}");
                }
            }
            if let Some(gpa) = c.gpa {
                // SAFETY: `c.host` is a BAR mapping owned by `_hand`, which
                // this VM's devices keep alive as long as the VM.
                if let Err(e) = unsafe { self.vm.set_user_memory_region(region(gpa, c.size)) } {
                    // Overlapping another BAR: the guest's own mistake; the
                    // BAR stays unreachable.
                    log::warn!("PCI: mapping BAR slot {slot} at {gpa:#x}: {e}");
                }
            }
        }
    }
}

/// Devices shared by the vCPU threads of one VM.
pub struct Devices {
    serial: Mutex<Uart>,
    ports: Option<Arc<Ports>>,
    pci: Option<PciDevices>,
}

/// The memfd that backs the driver VM's RAM, made once before the shim's
/// sandbox (which forbids `memfd_create`) and used by every generation.
/// host_stub maps the driver's pages of it into host processes that map an
/// exported node (`IKERNEL_IOC_GUEST_RAM`).
pub struct GuestRam {
    file: Arc<File>,
    size: u64,
}

impl GuestRam {
    /// `size` bytes of RAM, all zero.
    pub fn new(size: u64) -> io::Result<GuestRam> {
        // SAFETY: The name is a NUL-terminated literal.
        let fd = unsafe { libc::memfd_create(c"ikernel-guest-ram".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh descriptor nothing else owns.
        let file = unsafe { File::from_raw_fd(fd) };
        file.set_len(size)?;
        Ok(GuestRam {
            file: Arc::new(file),
            size,
        })
    }

    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl AsRawFd for GuestRam {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.file.as_raw_fd()
    }
}

/// A created, loaded, not yet running driver VM.  The VM (memory, irqchip)
/// must outlive its vCPU threads: the supervisor keeps it until it has
/// joined them all.
pub struct Vm {
    _vm: Arc<VmFd>,
    vcpus: Vec<VcpuFd>,
    _mem: GuestMemoryMmap,
    /// Doorbell kick (guest -> host), signalled by KVM ioeventfd.
    pub kick: EventFd,
    /// Call (host -> guest), raises the guest IRQ via KVM irqfd.
    pub call: EventFd,
    /// Devices the vCPU threads emulate.
    pub devices: Arc<Devices>,
    /// Console scan results.
    pub console: Arc<Mutex<ConsoleState>>,
}

fn kerr(what: &str) -> impl Fn(kvm_ioctls::Error) -> io::Error + '_ {
    move |e| io::Error::other(format!("{what}: {e}"))
}

impl Vm {
    /// Creates the VM for `cfg` with the window at host address `win`, its
    /// RAM in `ram` (cleared first: a new generation starts from zeroes).
    ///
    /// Everything it needs from the file system comes in already open or
    /// read: `/dev/kvm` (`kvm`), the kernel (`kernel`), the console log and
    /// the host ports; once the shim's seccomp filter is in place it can
    /// open nothing (sandbox.rs).
    pub fn new(
        kvm: &Kvm,
        cfg: &Config,
        (kernel, initrd): (&[u8], &[u8]),
        cmdline: &str,
        win: (u64, u64),
        console_log: File,
        passed: Passed<'_>,
    ) -> io::Result<Vm> {
        let Passed { ports, pci, ram } = passed;
        let vm = Arc::new(kvm.create_vm().map_err(kerr("KVM_CREATE_VM"))?);
        vm.set_tss_address(0xfffb_d000)
            .map_err(kerr("KVM_SET_TSS_ADDR"))?;
        vm.set_identity_map_address(0xfffb_c000)
            .map_err(kerr("KVM_SET_IDENTITY_MAP_ADDR"))?;
        vm.create_irq_chip().map_err(kerr("KVM_CREATE_IRQCHIP"))?;
        let pit = kvm_pit_config {
            flags: KVM_PIT_SPEAKER_DUMMY,
            ..Default::default()
        };
        vm.create_pit2(pit).map_err(kerr("KVM_CREATE_PIT2"))?;

        let mem_size = cfg.memory_bytes();
        if mem_size != ram.size {
            return Err(io::Error::other("guest RAM: the memfd has another size"));
        }
        let backing = FileOffset::from_arc(ram.file.clone(), 0);
        let mem: GuestMemoryMmap = GuestMemoryMmap::from_ranges_with_files(&[(
            GuestAddress(0),
            mem_size as usize,
            Some(backing),
        )])
        .map_err(|e| io::Error::other(format!("guest RAM: {e}")))?;
        let host = mem
            .get_host_address(GuestAddress(0))
            .map_err(|e| io::Error::other(format!("guest RAM: {e}")))?;
        // The last generation's memory goes (its pages are freed: nothing
        // maps them any more, host_stub unmapped its mappings when that
        // generation was reported down).
        // SAFETY: `host` maps `mem_size` bytes of the memfd, shared; no
        // reference into it exists yet.
        if unsafe { libc::madvise(host.cast(), mem_size as usize, libc::MADV_REMOVE) } < 0 {
            return Err(io::Error::other(format!(
                "guest RAM: clearing it: {}",
                io::Error::last_os_error()
            )));
        }
        let ram = kvm_userspace_memory_region {
            slot: 0,
            guest_phys_addr: 0,
            memory_size: mem_size,
            userspace_addr: host as u64,
            flags: 0,
        };
        let gpa = *cfg.window.gpa.get_ref();
        let wslot = kvm_userspace_memory_region {
            slot: 1,
            guest_phys_addr: gpa,
            memory_size: win.1,
            userspace_addr: win.0,
            flags: 0,
        };
        // SAFETY: Both host ranges stay mapped for the VM's lifetime: `mem`
        // is owned by the `Vm`, the window by the channel, which outlives
        // every incarnation.
        unsafe {
            vm.set_user_memory_region(ram)
                .map_err(kerr("guest RAM slot"))?;
            vm.set_user_memory_region(wslot)
                .map_err(kerr("window slot"))?;
        }
        let bus = match pci {
            Some(h) => {
                // SAFETY: `mem` stays mapped until the supervisor has
                // called `detach` (before it drops the VM), and the shim
                // makes no Rust references into guest RAM.
                unsafe { h.attach(&vm, host, mem_size)? };
                Some((h.clone(), h.bus(&vm)?))
            }
            None => None,
        };

        let kick = EventFd::new(EFD_NONBLOCK)?;
        let port = *cfg.window.doorbell_port.get_ref() as u16;
        vm.register_ioevent(&kick, &IoEventAddress::Pio(u64::from(port)), NoDatamatch)
            .map_err(kerr("KVM_IOEVENTFD"))?;
        let call = EventFd::new(EFD_NONBLOCK)?;
        vm.register_irqfd(&call, *cfg.window.irq.get_ref())
            .map_err(kerr("KVM_IRQFD"))?;
        let sirq = EventFd::new(EFD_NONBLOCK)?;
        vm.register_irqfd(&sirq, SERIAL_IRQ)
            .map_err(kerr("KVM_IRQFD serial"))?;

        let console = Arc::new(Mutex::new(ConsoleState::default()));
        let out = ConsoleOut {
            file: console_log,
            line: Vec::new(),
            state: console.clone(),
        };
        let serial = Serial::new(IrqTrigger(sirq), out);

        let loaded = boot::load(
            &mem,
            mem_size,
            (&cfg.kernel(), kernel),
            initrd,
            cmdline,
            (gpa, win.1),
        )?;

        let n = *cfg.vm.vcpus.get_ref() as usize;
        let max = kvm.get_max_vcpus();
        if n > max {
            return Err(io::Error::other(format!(
                "vcpus = {n}, but KVM_CAP_MAX_VCPUS is {max}"
            )));
        }
        let supported = kvm
            .get_supported_cpuid(KVM_MAX_CPUID_ENTRIES)
            .map_err(kerr("KVM_GET_SUPPORTED_CPUID"))?;
        let mut vcpus = Vec::with_capacity(n);
        let mut leaf1 = (0u32, 0u32);
        for id in 0..n {
            let vcpu = vm.create_vcpu(id as u64).map_err(kerr("KVM_CREATE_VCPU"))?;
            let mut cpuid = supported.clone();
            cpuid::filter(cpuid.as_mut_slice(), id as u8, n as u8);
            if let Some(e) = cpuid.as_slice().iter().find(|e| e.function == 1) {
                leaf1 = (e.eax, e.edx);
            }
            vcpu.set_cpuid2(&cpuid).map_err(kerr("KVM_SET_CPUID2"))?;
            if id == 0 {
                let mut sregs = vcpu.get_sregs().map_err(kerr("KVM_GET_SREGS"))?;
                boot::setup_long_mode(&mem, &mut sregs)?;
                vcpu.set_sregs(&sregs).map_err(kerr("KVM_SET_SREGS"))?;
                vcpu.set_regs(&boot::boot_regs(loaded.entry))
                    .map_err(kerr("KVM_SET_REGS"))?;
                vcpu.set_fpu(&boot::boot_fpu())
                    .map_err(kerr("KVM_SET_FPU"))?;
                let mut lapic = vcpu.get_lapic().map_err(kerr("KVM_GET_LAPIC"))?;
                set_lvt(&mut lapic.regs, 0x350, 7); // LINT0: ExtINT (8259 virtual wire)
                set_lvt(&mut lapic.regs, 0x360, 4); // LINT1: NMI
                vcpu.set_lapic(&lapic).map_err(kerr("KVM_SET_LAPIC"))?;
            } else {
                // An AP waits in the in-kernel LAPIC for INIT and SIPI from
                // the guest (KVM's default for vCPUs other than the BSP).
                let st = kvm_mp_state {
                    mp_state: KVM_MP_STATE_UNINITIALIZED,
                };
                vcpu.set_mp_state(st).map_err(kerr("KVM_SET_MP_STATE"))?;
            }
            vcpus.push(vcpu);
        }
        // The processors, I/O APIC and interrupt routing, for the guest:
        // an MP table in the reserved BIOS area (the guest runs acpi=off).
        let routes = bus.as_ref().map(|b| b.1.intx_routes()).unwrap_or_default();
        let mp = mptable::build(mptable::MPTABLE_START, n as u8, (leaf1.0, leaf1.1), &routes);
        mem.write_slice(&mp, GuestAddress(mptable::MPTABLE_START))
            .map_err(|e| io::Error::other(format!("MP table: {e}")))?;

        Ok(Vm {
            _vm: vm.clone(),
            vcpus,
            _mem: mem,
            kick,
            call,
            devices: Arc::new(Devices {
                serial: Mutex::new(serial),
                ports,
                pci: bus.map(|(h, b)| PciDevices {
                    _hand: h,
                    bus: Mutex::new(b),
                    vm,
                }),
            }),
            console,
        })
    }

    /// Takes the vCPUs out, to be run each on its own thread with
    /// [`run_vcpu`].
    pub fn take_vcpus(&mut self) -> Vec<VcpuFd> {
        std::mem::take(&mut self.vcpus)
    }
}

/// Runs `vcpu` until it stops or `stop` is set; call on the vCPU's thread.
pub fn run_vcpu(vcpu: &mut VcpuFd, dev: &Devices, stop: &AtomicBool) -> Exit {
    let ports = dev.ports.as_ref();
    let pci = dev.pci.as_ref();
    loop {
        if stop.load(Ordering::Acquire) {
            return Exit::Stopped;
        }
        match vcpu.run() {
            Ok(VcpuExit::IoOut(port, data)) => {
                if (SERIAL_PORT..SERIAL_PORT + 8).contains(&port) {
                    if let (Some(&b), Ok(mut s)) = (data.first(), dev.serial.lock()) {
                        let _ = s.write((port - SERIAL_PORT) as u8, b);
                    }
                } else if let Some(p) = pci.filter(|_| PciBus::is_config_port(port)) {
                    let changes = p.bus.lock().map(|mut b| b.config_out(port, data));
                    if let Ok(c) = changes {
                        p.apply(c);
                    }
                } else if let Some(p) = pci.filter(|_| PciBus::is_io_window(port)) {
                    // One access of 1, 2 or 4 bytes; string I/O (several
                    // accesses in one exit) to a BAR is not supported.
                    if let (Ok(mut b), n @ (1 | 2 | 4)) = (p.bus.lock(), data.len()) {
                        let mut d = [0u8; 4];
                        d[..n].copy_from_slice(data);
                        b.bar_access(true, u64::from(port), &mut d[..n], true);
                    }
                } else if let Some(p) = ports.filter(|p| p.contains(port)) {
                    p.write(port, data);
                } else if port == I8042_CMD && data.first() == Some(&0xfe) {
                    return Exit::Reset("i8042 reset".into());
                }
            }
            Ok(VcpuExit::IoIn(port, data)) => {
                if (SERIAL_PORT..SERIAL_PORT + 8).contains(&port) {
                    let v = dev
                        .serial
                        .lock()
                        .map(|mut s| s.read((port - SERIAL_PORT) as u8))
                        .unwrap_or(0xff);
                    data.fill(0);
                    if let Some(d) = data.first_mut() {
                        *d = v;
                    }
                } else if let Some(p) = pci.filter(|_| PciBus::is_config_port(port)) {
                    match p.bus.lock() {
                        Ok(mut b) => b.config_in(port, data),
                        Err(_) => data.fill(0xff),
                    }
                } else if let Some(p) = pci.filter(|_| PciBus::is_io_window(port)) {
                    match (p.bus.lock(), data.len()) {
                        (Ok(mut b), 1 | 2 | 4) => {
                            b.bar_access(true, u64::from(port), data, false);
                        }
                        _ => data.fill(0xff),
                    }
                } else if let Some(p) = ports.filter(|p| p.contains(port)) {
                    p.read(port, data);
                } else {
                    data.fill(0xff);
                }
            }
            Ok(VcpuExit::MmioRead(addr, data)) => match pci.map(|p| p.bus.lock()) {
                Some(Ok(mut b)) => {
                    b.bar_access(false, addr, data, false);
                }
                _ => data.fill(0xff),
            },
            Ok(VcpuExit::MmioWrite(addr, data)) => {
                if let Some(Ok(mut b)) = pci.map(|p| p.bus.lock()) {
                    let mut d = [0u8; 8];
                    let n = data.len().min(8);
                    d[..n].copy_from_slice(&data[..n]);
                    b.bar_access(false, addr, &mut d[..n], true);
                }
            }
            Ok(VcpuExit::Hlt) => return Exit::Halt,
            Ok(VcpuExit::Shutdown) => return Exit::Shutdown,
            Ok(VcpuExit::SystemEvent(t, _)) => return Exit::Reset(format!("system event {t}")),
            Ok(VcpuExit::InternalError) => {
                return Exit::InternalError("KVM_EXIT_INTERNAL_ERROR".into())
            }
            Ok(VcpuExit::FailEntry(r, cpu)) => {
                return Exit::InternalError(format!("KVM_EXIT_FAIL_ENTRY reason {r:#x} cpu {cpu}"))
            }
            Ok(VcpuExit::Intr) => {}
            Ok(other) => return Exit::Error(format!("unexpected exit {other:?}")),
            Err(e) if e.errno() == libc::EINTR || e.errno() == libc::EAGAIN => {}
            Err(e) => return Exit::Error(format!("KVM_RUN: {e}")),
        }
    }
}

fn set_lvt(regs: &mut [std::os::raw::c_char; 1024], off: usize, mode: u32) {
    let mut b = [0u8; 4];
    for (i, x) in b.iter_mut().enumerate() {
        *x = regs[off + i] as u8;
    }
    let v = (u32::from_le_bytes(b) & !0x700) | (mode << 8);
    for (i, x) in v.to_le_bytes().iter().enumerate() {
        regs[off + i] = *x as std::os::raw::c_char;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn oops_and_panic_lines_are_fatal() {
        assert!(is_fatal(
            "[   12.345678] Oops: general protection fault, probably for non-canonical address"
        ));
        assert!(is_fatal("Oops: 0000 [#1] SMP NOPTI"));
        assert!(is_fatal(
            "[    1.000000] Kernel panic - not syncing: Fatal exception"
        ));
        assert!(!is_fatal(
            "[    1.000000] BUG: sleeping function called from invalid context"
        ));
        assert!(!is_fatal("echo Oops: not the kernel"));
    }

    #[test]
    fn cmdline_carries_window_params() {
        let cfg = Config::parse(
            Path::new("t.toml"),
            "[vm]\nkernel='k'\nconsole_log='c'\ncmdline='quiet'\n[window]\ngpa=0xd0000000\nsize=65536\ndoorbell_port=0x610\nirq=6\n",
        )
        .expect("config");
        let s = guest_cmdline(&cfg, false);
        assert!(
            s.starts_with("console=ttyS0 quiet panic=-1 oops=panic reboot=t"),
            "{s}"
        );
        assert!(s.contains("ikernel_guest.window_gpa=0xd0000000"), "{s}");
        assert!(s.contains("ikernel_guest.window_size=65536"), "{s}");
        assert!(s.contains("ikernel_guest.doorbell_port=0x610"), "{s}");
        assert!(s.contains("ikernel_guest.irq=6"), "{s}");
        assert!(s.ends_with(" quiet"), "{s}");
        assert!(!s.contains("ikernel_test_panic"));
        assert_eq!(
            guest_cmdline(&cfg, true).contains(" ikernel_test_panic"),
            cfg!(feature = "test-hooks")
        );
    }

    #[test]
    fn lvt_mode() {
        let mut r = [0 as std::os::raw::c_char; 1024];
        r[0x350] = 0x10;
        r[0x351] = 0x07;
        set_lvt(&mut r, 0x350, 7);
        assert_eq!(r[0x351] as u8, 0x07);
        set_lvt(&mut r, 0x350, 4);
        assert_eq!(r[0x351] as u8, 0x04);
        assert_eq!(r[0x350] as u8, 0x10);
    }
}
