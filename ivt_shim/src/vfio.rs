// SPDX-License-Identifier: GPL-2.0

//! PCI hand-through with VFIO (`[[pci]]`): the only module that talks to
//! VFIO or maps device memory.
//!
//! At set-up (before the sandbox) the shim opens one VFIO container
//! (type-1 IOMMU) and each configured function, which must be bound to
//! vfio-pci.  It maps the function's memory BARs that VFIO lets it map,
//! and arms INTx: VFIO signals an eventfd when the line rises and masks
//! it; KVM turns that eventfd into the guest's level interrupt on the
//! function's GSI, and on the guest's EOI signals a resample eventfd on
//! which VFIO unmasks the line.  None of that passes through the shim.
//!
//! Each generation then:
//!
//! - maps its guest RAM, and only its guest RAM, for DMA at IOVA = GPA:
//!   the shared window and the BARs are not in the IOMMU's table, so a
//!   device the guest programs to read or write anywhere else faults in
//!   the host's IOMMU;
//! - registers the irqfds on its VM and unmasks INTx (a dying generation
//!   may have left it masked), after draining any interrupt that came
//!   while no guest was there.
//!
//! Before a generation's memory goes ([`HandThrough::detach`]) the shim
//! clears the functions' command registers (no bus mastering, no decode),
//! resets those VFIO can reset, and unmaps the DMA: the device can
//! neither reach freed memory nor carry state into the next generation
//! that the new driver does not reset.  If the shim itself dies, closing
//! its descriptors does the same in the kernel (vfio-pci disables the
//! device, the container's mappings go).
//!
//! Pinning guest RAM for DMA counts against RLIMIT_MEMLOCK, and the shim
//! has dropped its capabilities when later generations map it, so set-up
//! raises the limit to what the mappings need ([`raise_memlock`]).

use std::io;
use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use std::sync::atomic::{AtomicBool, Ordering};

use kvm_bindings::{
    kvm_irq_routing_entry, kvm_irq_routing_irqchip, kvm_irq_routing_msi, KvmIrqRouting,
    KVM_IRQCHIP_IOAPIC, KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE, KVM_IRQ_ROUTING_IRQCHIP,
    KVM_IRQ_ROUTING_MSI,
};
use kvm_ioctls::VmFd;
use log::{info, warn};
use vfio_ioctls::{VfioContainer, VfioDevice, VfioOps, VfioRegionInfoCap};
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

use crate::config::Config;
use crate::pci::{
    bars_from, Backend, BarInfo, BarKind, PciBus, Slot, CMD_MASTER, FIRST_GSI, FIRST_MSI_GSI,
};

/// VFIO's region index of the configuration space (uapi
/// `VFIO_PCI_CONFIG_REGION_INDEX`); BARs 0-5 are regions 0-5.
const CONFIG_REGION: u32 = 7;
/// `VFIO_PCI_INTX_IRQ_INDEX`.
const INTX: u32 = 0;
/// `VFIO_PCI_MSI_IRQ_INDEX`.
const MSI: u32 = 1;
/// `VFIO_REGION_INFO_FLAG_MMAP`.
const REGION_MMAP: u32 = 1 << 2;

/// Where sysfs lists PCI functions.
const SYSFS_PCI: &str = "/sys/bus/pci/devices";

/// One handed-through function.
struct Handed {
    address: String,
    /// Never dropped: `VfioDevice`'s drop finds the IOMMU group again
    /// through sysfs (and panics when it cannot), which the sandbox
    /// forbids.  A function lives as long as the shim, and the kernel
    /// closes its descriptors (and vfio-pci disables it) at exit.
    device: ManuallyDrop<VfioDevice>,
    bars: Vec<BarInfo>,
    /// The mapped BARs: (host address, length), unmapped on drop.
    maps: Vec<(u64, usize)>,
    /// INTx: (trigger, resample) eventfds, if the function has a pin.
    intx: Option<(EventFd, EventFd)>,
    /// MSI's eventfd, if VFIO offers MSI for the function.
    msi: Option<EventFd>,
    /// VFIO delivers MSI (and not INTx) now.
    msi_on: AtomicBool,
}

impl Handed {
    /// Arms INTx in VFIO: trigger and resample eventfds, line unmasked.
    fn arm_intx(&self) -> io::Result<()> {
        let Some((trigger, resample)) = &self.intx else {
            return Ok(());
        };
        self.device
            .enable_irq(INTX, vec![trigger])
            .map_err(verr(format!("[[pci]] {}: INTx eventfd", self.address)))?;
        self.device
            .set_irq_resample_fd(INTX, vec![resample])
            .map_err(verr(format!(
                "[[pci]] {}: INTx resample eventfd",
                self.address
            )))
    }

    /// Switches VFIO between INTx and MSI (vfio-pci has one kind on at a
    /// time).
    fn use_msi(&self, on: bool) -> io::Result<()> {
        let Some(evt) = &self.msi else {
            return Ok(());
        };
        if self.msi_on.load(Ordering::Acquire) == on {
            return Ok(());
        }
        if on {
            if self.intx.is_some() {
                self.device
                    .disable_irq(INTX)
                    .map_err(verr(format!("[[pci]] {}: INTx off", self.address)))?;
            }
            self.device
                .enable_irq(MSI, vec![evt])
                .map_err(verr(format!("[[pci]] {}: MSI eventfd", self.address)))?;
        } else {
            self.device
                .disable_irq(MSI)
                .map_err(verr(format!("[[pci]] {}: MSI off", self.address)))?;
            self.arm_intx()?;
        }
        self.msi_on.store(on, Ordering::Release);
        Ok(())
    }
}

/// The interrupt routes of one VM: KVM's defaults (GSIs 0-15 to the PICs
/// and the I/O APIC, 16-23 to the I/O APIC) plus the MSI routes the guest
/// programmed, one per function at GSI [`FIRST_MSI_GSI`] + n.  KVM takes
/// the whole table at once.
struct Routes {
    vm: Arc<VmFd>,
    msi: Mutex<Vec<Option<(u64, u32)>>>,
    /// Route changes logged so far (a guest can make many).
    logged: std::sync::atomic::AtomicU32,
}

/// Route changes a generation logs before it goes quiet.
const MSI_LOG_MAX: u32 = 16;

impl Routes {
    fn set(&self, n: usize, route: Option<(u64, u32)>) -> io::Result<()> {
        let mut msi = self
            .msi
            .lock()
            .map_err(|_| io::Error::other("MSI routes poisoned"))?;
        if let Some(r) = msi.get_mut(n) {
            *r = route;
        }
        let entries = routing_entries(&msi);
        let table = KvmIrqRouting::from_entries(&entries)
            .map_err(|e| io::Error::other(format!("GSI routing table: {e:?}")))?;
        self.vm
            .set_gsi_routing(&table)
            .map_err(|e| io::Error::other(format!("KVM_SET_GSI_ROUTING: {e}")))
    }
}

/// KVM's default routes (GSIs 0-15 to the I/O APIC and the PICs, 16-23 to
/// the I/O APIC) and an MSI route at GSI [`FIRST_MSI_GSI`] + i for each
/// `msi[i]` that is set.
fn routing_entries(msi: &[Option<(u64, u32)>]) -> Vec<kvm_irq_routing_entry> {
    let mut entries = Vec::new();
    let chip = |gsi: u32, irqchip: u32, pin: u32| {
        let mut e = kvm_irq_routing_entry {
            gsi,
            type_: KVM_IRQ_ROUTING_IRQCHIP,
            ..Default::default()
        };
        e.u.irqchip = kvm_irq_routing_irqchip { irqchip, pin };
        e
    };
    for gsi in 0..24u32 {
        entries.push(chip(gsi, KVM_IRQCHIP_IOAPIC, gsi));
        if gsi < 16 {
            let pic = if gsi < 8 {
                KVM_IRQCHIP_PIC_MASTER
            } else {
                KVM_IRQCHIP_PIC_SLAVE
            };
            entries.push(chip(gsi, pic, gsi % 8));
        }
    }
    for (i, r) in msi.iter().enumerate() {
        let Some((addr, data)) = *r else {
            continue;
        };
        let mut e = kvm_irq_routing_entry {
            gsi: FIRST_MSI_GSI + i as u32,
            type_: KVM_IRQ_ROUTING_MSI,
            ..Default::default()
        };
        e.u.msi = kvm_irq_routing_msi {
            address_lo: addr as u32,
            address_hi: (addr >> 32) as u32,
            data,
            ..Default::default()
        };
        entries.push(e);
    }
    entries
}

/// Config space, BAR and MSI access of function `n` for the emulated bus
/// of one VM.
struct Access {
    dev: Arc<Handed>,
    n: usize,
    routes: Arc<Routes>,
}

impl Backend for Access {
    fn config_read(&self, off: u64, buf: &mut [u8]) {
        buf.fill(0xff);
        self.dev.device.region_read(CONFIG_REGION, buf, off);
    }
    fn config_write(&self, off: u64, buf: &[u8]) {
        self.dev.device.region_write(CONFIG_REGION, buf, off);
    }
    fn bar_read(&self, index: u32, off: u64, buf: &mut [u8]) {
        self.dev.device.region_read(index, buf, off);
    }
    fn bar_write(&self, index: u32, off: u64, buf: &[u8]) {
        self.dev.device.region_write(index, buf, off);
    }
    fn set_msi(&self, route: Option<(u64, u32)>) {
        let n = self.routes.logged.fetch_add(1, Ordering::Relaxed);
        if n < MSI_LOG_MAX {
            let what = match route {
                Some((a, d)) => format!("on, address {a:#x}, data {d:#x}"),
                None => "off".into(),
            };
            let more = if n + 1 == MSI_LOG_MAX {
                " (further changes of this generation not logged)"
            } else {
                ""
            };
            info!("pci {}: guest MSI {what}{more}", self.dev.address);
        }
        // Route first, so that the first message finds it.
        let r = self
            .routes
            .set(self.n, route)
            .and_then(|()| self.dev.use_msi(route.is_some()));
        if let Err(e) = r {
            // The guest's interrupts stop; its driver times out, the
            // supervisor's checks see what follows.
            warn!("{e}");
        }
    }
}

impl Drop for Handed {
    fn drop(&mut self) {
        for &(addr, len) in &self.maps {
            // SAFETY: `addr`/`len` is a mapping this module made in
            // `map_bar` and nothing else unmaps; the VMs whose memory slots
            // pointed at it are gone (they hold an `Arc` of the
            // `HandThrough` owning this).
            unsafe { libc::munmap(addr as *mut libc::c_void, len) };
        }
    }
}

/// The functions of one shim, with their container.
pub struct HandThrough {
    container: Arc<VfioContainer>,
    devices: Vec<Arc<Handed>>,
    /// The DMA mapping in place: (IOVA, size).
    dma: Mutex<Option<(u64, u64)>>,
}

fn verr(what: String) -> impl FnOnce(vfio_ioctls::VfioError) -> io::Error {
    move |e| io::Error::other(format!("{what}: {e}"))
}

/// The driver a PCI function is bound to, from sysfs.
fn bound_driver(dev: &Path) -> Option<String> {
    let l = std::fs::read_link(dev.join("driver")).ok()?;
    Some(l.file_name()?.to_string_lossy().into_owned())
}

/// Maps BAR `index` of `device` (`size` bytes) shared, read-write.
fn map_bar(device: &VfioDevice, index: u32, size: u64) -> io::Result<u64> {
    let len = usize::try_from(size).map_err(|_| io::Error::other("BAR too large"))?;
    let off = libc::off_t::try_from(device.get_region_offset(index))
        .map_err(|_| io::Error::other("BAR offset out of range"))?;
    use std::os::fd::AsRawFd;
    // SAFETY: A fresh shared mapping of the device's region at an address
    // the kernel chooses; it aliases no Rust object, and only KVM (as a
    // memory slot) and the guest access it.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            device.as_raw_fd(),
            off,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    Ok(p as u64)
}

/// Raises RLIMIT_MEMLOCK to at least `bytes` (needs CAP_SYS_RESOURCE if
/// above the hard limit): VFIO pins the guest RAM it maps and charges it
/// there, also after the shim has dropped its capabilities.
pub fn raise_memlock(bytes: u64) -> io::Result<()> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut r) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if r.rlim_cur != libc::RLIM_INFINITY && r.rlim_cur < bytes {
        r.rlim_cur = bytes;
        if r.rlim_max != libc::RLIM_INFINITY && r.rlim_max < bytes {
            r.rlim_max = bytes;
        }
        // SAFETY: setrlimit reads the struct we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &r) } != 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(
                e.kind(),
                format!("RLIMIT_MEMLOCK to {bytes} bytes for VFIO's pinned guest RAM: {e}"),
            ));
        }
    }
    Ok(())
}

impl HandThrough {
    /// Opens the functions of `cfg`'s `[[pci]]` tables (none: `None`).
    pub fn open(cfg: &Config) -> io::Result<Option<HandThrough>> {
        if cfg.pci.is_empty() {
            return Ok(None);
        }
        // Room for one generation's RAM; a restart unmaps before it maps.
        raise_memlock(cfg.memory_bytes() + (16 << 20))?;
        let container = Arc::new(VfioContainer::new(None).map_err(verr(
            "/dev/vfio/vfio (is vfio-pci loaded? modprobe vfio-pci)".into(),
        ))?);
        let mut devices = Vec::new();
        for (n, d) in cfg.pci.iter().enumerate() {
            let address = d.host.get_ref().to_ascii_lowercase();
            let path = PathBuf::from(SYSFS_PCI).join(&address);
            if !path.exists() {
                return Err(io::Error::other(format!(
                    "[[pci]] {address}: no such PCI function ({} does not exist)",
                    path.display()
                )));
            }
            match bound_driver(&path) {
                Some(d) if d == "vfio-pci" => {}
                other => {
                    return Err(io::Error::other(format!(
                        "[[pci]] {address}: bound to {}, not vfio-pci; hand it over with \
                         `echo vfio-pci > {p}/driver_override; echo {address} > {p}/driver/unbind; \
                         echo {address} > /sys/bus/pci/drivers_probe`",
                        other.as_deref().unwrap_or("no driver"),
                        p = path.display()
                    )))
                }
            }
            let ops: Arc<dyn VfioOps> = container.clone();
            let device = VfioDevice::new(&path, ops, false)
                .map_err(verr(format!("[[pci]] {address}: VFIO")))?;
            let mut raw = [0u32; 6];
            let mut sizes = [0u64; 6];
            for i in 0..6u32 {
                let mut b = [0u8; 4];
                device.region_read(CONFIG_REGION, &mut b, 0x10 + 4 * u64::from(i));
                raw[i as usize] = u32::from_le_bytes(b);
                sizes[i as usize] = device.get_region_size(i);
            }
            let mut ids = [0u8; 4];
            device.region_read(CONFIG_REGION, &mut ids, 0);
            let mut pin = [0u8];
            device.region_read(CONFIG_REGION, &mut pin, 0x3d);
            let mut bars = bars_from(&raw, &sizes);
            let mut maps = Vec::new();
            let mut what = Vec::new();
            for b in &mut bars {
                let mappable = b.kind != BarKind::Io
                    && b.size >= 4096
                    && device.get_region_flags(b.index) & REGION_MMAP != 0
                    && !device
                        .get_region_caps(b.index)
                        .iter()
                        .any(|c| matches!(c, VfioRegionInfoCap::SparseMmap(_)));
                if mappable {
                    let a = map_bar(&device, b.index, b.size).map_err(|e| {
                        io::Error::new(
                            e.kind(),
                            format!("[[pci]] {address}: mmap BAR{}: {e}", b.index),
                        )
                    })?;
                    b.host_map = Some(a);
                    maps.push((a, b.size as usize));
                }
                what.push(format!(
                    "BAR{} {} {:#x} {}",
                    b.index,
                    match b.kind {
                        BarKind::Io => "io",
                        BarKind::Mem32 => "mem32",
                        BarKind::Mem64 => "mem64",
                    },
                    b.size,
                    if b.host_map.is_some() {
                        "mapped"
                    } else {
                        "trapped"
                    }
                ));
            }
            let intx = if (1..=4).contains(&pin[0])
                && device.get_irq_info(INTX).is_some_and(|i| i.count == 1)
            {
                Some((EventFd::new(EFD_NONBLOCK)?, EventFd::new(EFD_NONBLOCK)?))
            } else {
                None
            };
            let msi = if device.get_irq_info(MSI).is_some_and(|i| i.count >= 1) {
                Some(EventFd::new(EFD_NONBLOCK)?)
            } else {
                None
            };
            info!(
                "pci {address} ({:02x}{:02x}:{:02x}{:02x}) as guest 00:{:02x}.0: {}; INTx {}; MSI {}",
                ids[1],
                ids[0],
                ids[3],
                ids[2],
                n + 1,
                what.join(", "),
                if intx.is_some() {
                    format!("pin {} on GSI {}", pin[0], FIRST_GSI + n as u32)
                } else {
                    "none".into()
                },
                if msi.is_some() {
                    format!("on GSI {}", FIRST_MSI_GSI + n as u32)
                } else {
                    "none".into()
                }
            );
            let h = Handed {
                address,
                device: ManuallyDrop::new(device),
                bars,
                maps,
                intx,
                msi,
                msi_on: AtomicBool::new(false),
            };
            h.arm_intx()?;
            devices.push(Arc::new(h));
        }
        let h = HandThrough {
            container,
            devices,
            dma: Mutex::new(None),
        };
        h.quiesce();
        Ok(Some(h))
    }

    /// A bus in its reset state for a new generation, on `vm`.
    pub fn bus(&self, vm: &Arc<VmFd>) -> io::Result<PciBus> {
        let routes = Arc::new(Routes {
            vm: vm.clone(),
            msi: Mutex::new(vec![None; self.devices.len()]),
            logged: std::sync::atomic::AtomicU32::new(0),
        });
        let devs = self
            .devices
            .iter()
            .enumerate()
            .map(|(n, d)| Slot {
                backend: Arc::new(Access {
                    dev: d.clone(),
                    n,
                    routes: routes.clone(),
                }),
                bars: d.bars.clone(),
                msi: d.msi.is_some(),
            })
            .collect();
        PciBus::new(devs)
            .ok_or_else(|| io::Error::other("[[pci]]: the BARs do not fit the guest's PCI windows"))
    }

    /// Wires a new generation: DMA to its RAM (`ram`: host address,
    /// `size` bytes at GPA 0) and INTx to its VM.
    ///
    /// # Safety
    ///
    /// `ram..ram+size` must stay mapped until [`Self::detach`] (or the
    /// next `attach`) has returned, and must hold no Rust references: the
    /// device reads and writes it at any time.
    pub unsafe fn attach(&self, vm: &VmFd, ram: *mut u8, size: u64) -> io::Result<()> {
        self.unmap_dma();
        let len = usize::try_from(size).map_err(|_| io::Error::other("guest RAM too large"))?;
        // SAFETY: The caller keeps the range mapped and unaliased until
        // detach, which unmaps it first.
        unsafe { self.container.vfio_dma_map(0, len, ram) }
            .map_err(verr("VFIO_IOMMU_MAP_DMA of guest RAM".into()))?;
        if let Ok(mut m) = self.dma.lock() {
            *m = Some((0, size));
        }
        for (n, d) in self.devices.iter().enumerate() {
            if let Some(evt) = &d.msi {
                let _ = evt.read();
                // Routed once the guest enables MSI (`Routes`).
                vm.register_irqfd(evt, FIRST_MSI_GSI + n as u32)
                    .map_err(|e| {
                        io::Error::other(format!("[[pci]] {}: KVM_IRQFD MSI: {e}", d.address))
                    })?;
            }
            let Some((trigger, resample)) = &d.intx else {
                continue;
            };
            // An interrupt of the dead generation's device is not the new
            // guest's.
            let _ = trigger.read();
            let _ = resample.read();
            vm.register_irqfd_with_resample(trigger, resample, FIRST_GSI + n as u32)
                .map_err(|e| io::Error::other(format!("[[pci]] {}: KVM_IRQFD: {e}", d.address)))?;
            d.device
                .unmask_irq(INTX)
                .map_err(verr(format!("[[pci]] {}: unmask INTx", d.address)))?;
        }
        Ok(())
    }

    /// Stops every function's DMA and decode, resets what VFIO can reset,
    /// and unmaps the generation's RAM from the IOMMU.  Call with the
    /// vCPUs stopped, before the guest RAM is unmapped.
    pub fn detach(&self) {
        self.quiesce();
        self.unmap_dma();
    }

    fn quiesce(&self) {
        for d in &self.devices {
            // Command register: no bus mastering, no decode.
            d.device
                .region_write(CONFIG_REGION, &0u16.to_le_bytes(), 0x04);
            let mut c = [0u8; 2];
            d.device.region_read(CONFIG_REGION, &mut c, 0x04);
            if u16::from_le_bytes(c) & CMD_MASTER != 0 {
                warn!(
                    "[[pci]] {}: bus mastering still on after clearing it",
                    d.address
                );
            }
            d.device.reset();
            // The next generation starts with INTx, as after a reset.
            if let Err(e) = d.use_msi(false) {
                warn!("{e}");
            }
        }
    }

    fn unmap_dma(&self) {
        let Ok(mut m) = self.dma.lock() else {
            return;
        };
        if let Some((iova, size)) = m.take() {
            if let Err(e) = self.container.vfio_dma_unmap(iova, size as usize) {
                warn!("VFIO_IOMMU_UNMAP_DMA {iova:#x}+{size:#x}: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_routes_and_msi() {
        let e = routing_entries(&[None, Some((0xfee0_1000, 0x4041)), None]);
        // 24 I/O APIC pins, 16 PIC pins, one MSI route.
        assert_eq!(e.len(), 24 + 16 + 1);
        for gsi in 0..24u32 {
            let chips: Vec<(u32, u32)> = e
                .iter()
                .filter(|r| r.gsi == gsi && r.type_ == KVM_IRQ_ROUTING_IRQCHIP)
                // SAFETY: irqchip entries hold the irqchip member.
                .map(|r| unsafe { (r.u.irqchip.irqchip, r.u.irqchip.pin) })
                .collect();
            let mut want = vec![(KVM_IRQCHIP_IOAPIC, gsi)];
            if gsi < 8 {
                want.push((KVM_IRQCHIP_PIC_MASTER, gsi));
            } else if gsi < 16 {
                want.push((KVM_IRQCHIP_PIC_SLAVE, gsi - 8));
            }
            assert_eq!(chips, want, "GSI {gsi}");
        }
        let m = e.last().unwrap();
        assert_eq!((m.gsi, m.type_), (FIRST_MSI_GSI + 1, KVM_IRQ_ROUTING_MSI));
        // SAFETY: MSI entries hold the msi member.
        let msi = unsafe { m.u.msi };
        assert_eq!(
            (msi.address_lo, msi.address_hi, msi.data),
            (0xfee0_1000, 0, 0x4041)
        );
    }
}
