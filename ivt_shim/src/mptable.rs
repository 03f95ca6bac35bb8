// SPDX-License-Identifier: GPL-2.0

//! Intel MultiProcessor Specification 1.4 tables.
//!
//! The floating pointer structure and the configuration table are written
//! into the BIOS area (reserved in the E820 map). They describe `n`
//! processors (local APIC ids 0..n-1, the bootstrap processor is 0), one ISA
//! bus, the in-kernel I/O APIC (id n) and the ISA interrupt routing of
//! KVM's default GSI routing: ISA IRQ i goes to I/O APIC pin i (KVM's PIT
//! raises GSI 0, which KVM routes to pin 0 and to the 8259, not to pin 2 as
//! on PC hardware), and the 8259 reaches the processors as ExtINT on LINT0
//! (virtual wire mode, no IMCR), with NMI on LINT1.
//!
//! With handed-through PCI functions (pci.rs) it also names PCI bus 0 (the
//! ISA bus is then bus 1), and routes each function's INTx pin to its I/O APIC pin (GSI 16 and
//! up), level-triggered and active low as PCI interrupts are.
//!
//! The guest runs with `acpi=off`, so this is its only description of the
//! machine: the driver-VM kernel needs CONFIG_X86_MPPARSE (kconfig/base.config).

/// Where the floating pointer structure goes (16-byte aligned, inside the
/// BIOS area that Linux scans).
pub const MPTABLE_START: u64 = 0xf_0000;
/// Address of the local APICs.
pub const LAPIC_ADDR: u32 = 0xfee0_0000;
/// Address of the I/O APIC.
pub const IOAPIC_ADDR: u32 = 0xfec0_0000;
/// Version of KVM's I/O APIC.
pub const IOAPIC_VERSION: u8 = 0x11;
/// Version of KVM's local APIC.
pub const LAPIC_VERSION: u8 = 0x14;
/// Most processors the table describes (local APIC ids fit below the I/O
/// APIC id).
pub const MAX_CPUS: u8 = 254;

const FLOATING_LEN: usize = 16;
const HEADER_LEN: usize = 44;
const PROC_LEN: usize = 20;
const ENTRY_LEN: usize = 8;

const ENTRY_PROCESSOR: u8 = 0;
const ENTRY_BUS: u8 = 1;
const ENTRY_IOAPIC: u8 = 2;
const ENTRY_IOINT: u8 = 3;
const ENTRY_LINT: u8 = 4;

const INT_INT: u8 = 0;
const INT_NMI: u8 = 1;
const INT_EXTINT: u8 = 3;

const CPU_ENABLED: u8 = 1;
const CPU_BSP: u8 = 2;

/// Sum of bytes modulo 256.
pub fn sum(b: &[u8]) -> u8 {
    b.iter().fold(0u8, |a, x| a.wrapping_add(*x))
}

/// The byte that makes `sum(b)` zero when stored in place of a zero byte.
pub fn checksum(b: &[u8]) -> u8 {
    0u8.wrapping_sub(sum(b))
}

/// Bus id of the PCI bus, when there is one: a PCI bus's id is its bus
/// number, which the guest matches against (bus 0); the ISA bus then
/// comes after it.
const PCI_BUS: u8 = 0;
/// Interrupt entry flags: active low (bits 1:0 = 3), level (bits 3:2 = 3).
const PCI_INT_FLAGS: u8 = 0x0f;

/// The MP floating pointer structure and the configuration table for `n`
/// processors, to be written at `base`. `cpu` is CPUID leaf 1 EAX and EDX
/// of the processors (signature, features); `pci` the INTx routes
/// (device, pin 1-4, I/O APIC pin) of the PCI bus, if any.
pub fn build(base: u64, n: u8, cpu: (u32, u32), pci: &[(u8, u8, u32)]) -> Vec<u8> {
    let (signature, features) = cpu;
    assert!((1..=MAX_CPUS).contains(&n));
    let table_addr = base + FLOATING_LEN as u64;
    let ioapic_id = n;
    let mut t = Vec::new();
    let mut entries = 0u16;

    // Configuration table header; length, count and checksum filled later.
    t.extend_from_slice(b"PCMP");
    t.extend_from_slice(&[0, 0]); // base table length
    t.push(4); // spec revision 1.4
    t.push(0); // checksum
    t.extend_from_slice(b"IKERNEL ");
    t.extend_from_slice(b"IVT-SHIM    ");
    t.extend_from_slice(&0u32.to_le_bytes()); // OEM table pointer
    t.extend_from_slice(&0u16.to_le_bytes()); // OEM table size
    t.extend_from_slice(&[0, 0]); // entry count
    t.extend_from_slice(&LAPIC_ADDR.to_le_bytes());
    t.extend_from_slice(&0u16.to_le_bytes()); // extended table length
    t.push(0); // extended table checksum
    t.push(0);
    debug_assert_eq!(t.len(), HEADER_LEN);

    for id in 0..n {
        t.push(ENTRY_PROCESSOR);
        t.push(id);
        t.push(LAPIC_VERSION);
        t.push(CPU_ENABLED | if id == 0 { CPU_BSP } else { 0 });
        t.extend_from_slice(&signature.to_le_bytes());
        t.extend_from_slice(&features.to_le_bytes());
        t.extend_from_slice(&[0; 8]);
        entries += 1;
    }
    // Bus entries in the order of their ids.
    let isa_bus = if pci.is_empty() {
        0
    } else {
        t.push(ENTRY_BUS);
        t.push(PCI_BUS);
        t.extend_from_slice(b"PCI   ");
        entries += 1;
        PCI_BUS + 1
    };
    t.push(ENTRY_BUS);
    t.push(isa_bus);
    t.extend_from_slice(b"ISA   ");
    entries += 1;
    t.push(ENTRY_IOAPIC);
    t.push(ioapic_id);
    t.push(IOAPIC_VERSION);
    t.push(1); // enabled
    t.extend_from_slice(&IOAPIC_ADDR.to_le_bytes());
    entries += 1;
    // ISA IRQs 0-15 to pins 0-15 (2 is the 8259 cascade: no entry), edge
    // and active high as the ISA bus defines (flags 0 = conforms to bus).
    for irq in (0u8..16).filter(|&i| i != 2) {
        t.extend_from_slice(&[ENTRY_IOINT, INT_INT, 0, 0, isa_bus, irq, ioapic_id, irq]);
        entries += 1;
    }
    // PCI INTx: source "IRQ" is the device number and pin (A = 0).
    for &(dev, pin, gsi) in pci {
        let src = (dev & 0x1f) << 2 | (pin.wrapping_sub(1) & 3);
        t.extend_from_slice(&[
            ENTRY_IOINT,
            INT_INT,
            PCI_INT_FLAGS,
            0,
            PCI_BUS,
            src,
            ioapic_id,
            gsi as u8,
        ]);
        entries += 1;
    }
    // LINT0 ExtINT and LINT1 NMI on every local APIC (0xff).
    t.extend_from_slice(&[ENTRY_LINT, INT_EXTINT, 0, 0, 0, 0, 0xff, 0]);
    t.extend_from_slice(&[ENTRY_LINT, INT_NMI, 0, 0, 0, 0, 0xff, 1]);
    entries += 2;

    debug_assert_eq!(
        t.len(),
        HEADER_LEN + PROC_LEN * usize::from(n) + ENTRY_LEN * usize::from(entries - u16::from(n))
    );
    let len = t.len() as u16;
    t[4..6].copy_from_slice(&len.to_le_bytes());
    t[34..36].copy_from_slice(&entries.to_le_bytes());
    t[7] = checksum(&t);

    let mut f = Vec::with_capacity(FLOATING_LEN + t.len());
    f.extend_from_slice(b"_MP_");
    f.extend_from_slice(&(table_addr as u32).to_le_bytes());
    f.push(1); // length in 16-byte units
    f.push(4); // spec revision 1.4
    f.push(0); // checksum
    f.push(0); // feature 1: configuration table present
    f.push(0); // feature 2: IMCRP clear, virtual wire mode
    f.extend_from_slice(&[0; 3]);
    f[10] = checksum(&f);
    f.extend_from_slice(&t);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u16_at(b: &[u8], o: usize) -> u16 {
        u16::from_le_bytes([b[o], b[o + 1]])
    }
    fn u32_at(b: &[u8], o: usize) -> u32 {
        u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
    }

    #[test]
    fn floating_pointer() {
        let b = build(MPTABLE_START, 2, (0x806f8, 0x178bfbff), &[]);
        assert_eq!(&b[0..4], b"_MP_");
        assert_eq!(u32_at(&b, 4), 0xf_0010);
        assert_eq!((b[8], b[9], b[11], b[12]), (1, 4, 0, 0));
        assert_eq!(sum(&b[..16]), 0);
    }

    #[test]
    fn table_layout_and_checksum() {
        for n in [1u8, 2, 4, 8] {
            let b = build(MPTABLE_START, n, (0x806f8, 0x178bfbff), &[]);
            let t = &b[16..];
            assert_eq!(&t[0..4], b"PCMP");
            let len = usize::from(u16_at(t, 4));
            assert_eq!(len, t.len());
            assert_eq!(t[6], 4);
            assert_eq!(sum(t), 0, "checksum, n = {n}");
            assert_eq!(u32_at(t, 36), LAPIC_ADDR);
            let count = usize::from(u16_at(t, 34));
            assert_eq!(count, usize::from(n) + 1 + 1 + 15 + 2);
            assert_eq!(
                len,
                HEADER_LEN + PROC_LEN * usize::from(n) + ENTRY_LEN * (count - usize::from(n))
            );
            // Walk the entries.
            let mut o = HEADER_LEN;
            let mut cpus = Vec::new();
            let mut ioints = Vec::new();
            let mut lints = Vec::new();
            let mut ioapic = None;
            let mut bus = None;
            for _ in 0..count {
                match t[o] {
                    ENTRY_PROCESSOR => {
                        cpus.push((t[o + 1], t[o + 3], u32_at(t, o + 4)));
                        o += PROC_LEN;
                        continue;
                    }
                    ENTRY_BUS => bus = Some(t[o + 2..o + 8].to_vec()),
                    ENTRY_IOAPIC => ioapic = Some((t[o + 1], t[o + 2], t[o + 3], u32_at(t, o + 4))),
                    ENTRY_IOINT => ioints.push((t[o + 1], t[o + 5], t[o + 6], t[o + 7])),
                    ENTRY_LINT => lints.push((t[o + 1], t[o + 6], t[o + 7])),
                    x => panic!("entry type {x}"),
                }
                o += ENTRY_LEN;
            }
            assert_eq!(o, len);
            let want: Vec<_> = (0..n)
                .map(|i| (i, if i == 0 { 3 } else { 1 }, 0x806f8))
                .collect();
            assert_eq!(cpus, want);
            assert_eq!(bus.as_deref(), Some(&b"ISA   "[..]));
            assert_eq!(ioapic, Some((n, 0x11, 1, 0xfec0_0000)));
            assert_eq!(ioints.len(), 15);
            for (ty, src, apic, pin) in ioints {
                assert_eq!((ty, apic), (INT_INT, n));
                assert_eq!(src, pin, "ISA IRQ {src} on pin {pin}");
                assert_ne!(src, 2);
            }
            assert_eq!(lints, vec![(INT_EXTINT, 0xff, 0), (INT_NMI, 0xff, 1)]);
        }
    }

    #[test]
    fn pci_bus_and_routes() {
        let b = build(MPTABLE_START, 1, (0, 0), &[(1, 1, 16), (3, 2, 18)]);
        let t = &b[16..];
        assert_eq!(sum(t), 0);
        let count = usize::from(u16_at(t, 34));
        assert_eq!(count, 1 + 2 + 1 + 15 + 2 + 2);
        assert_eq!(usize::from(u16_at(t, 4)), t.len());
        let ents = &t[HEADER_LEN + PROC_LEN..];
        assert_eq!(
            &ents[0..8],
            &[ENTRY_BUS, 0, b'P', b'C', b'I', b' ', b' ', b' ']
        );
        assert_eq!(
            &ents[8..16],
            &[ENTRY_BUS, 1, b'I', b'S', b'A', b' ', b' ', b' ']
        );
        let isa: Vec<&[u8]> = ents
            .chunks(8)
            .filter(|e| e[0] == ENTRY_IOINT && e[2] == 0)
            .collect();
        assert_eq!(isa.len(), 15);
        assert!(isa.iter().all(|e| e[4] == 1), "ISA IRQs on bus 1");
        let ioints: Vec<&[u8]> = ents
            .chunks(8)
            .filter(|e| e[0] == ENTRY_IOINT && e[2] == PCI_INT_FLAGS)
            .collect();
        assert_eq!(ioints.len(), 2);
        assert_eq!(ioints[0], &[ENTRY_IOINT, 0, 0x0f, 0, 0, 1 << 2, 1, 16]);
        assert_eq!(ioints[1], &[ENTRY_IOINT, 0, 0x0f, 0, 0, 3 << 2 | 1, 1, 18]);
    }

    #[test]
    fn fits_below_1mib() {
        let b = build(MPTABLE_START, MAX_CPUS, (0, 0), &[(1, 1, 16), (2, 4, 17)]);
        assert!(MPTABLE_START + (b.len() as u64) < 0x10_0000);
    }
}
