// SPDX-License-Identifier: GPL-2.0

//! Minimal ACPI tables for multi-vCPU driver VMs: RSDP, XSDT, a FADT
//! without fixed hardware, an empty DSDT and the MADT.
//!
//! The driver-VM kernel is built without CONFIG_X86_MPPARSE, so it does not
//! read the MP table (`mptable.rs`); it enumerates processors and the I/O
//! APIC from the MADT. The MADT describes the same machine as the MP table:
//! local APIC ids 0..n-1, the I/O APIC (id n, GSI base 0) and NMI on LINT1;
//! without interrupt source overrides ISA IRQ i is GSI i, which is KVM's
//! default routing. The FADT only names the DSDT and the SCI (IRQ 9, which
//! nothing raises). It is not hardware-reduced: Linux would then drop the
//! 8259 and with it the ISA IRQs 0-15 that the UART (4) and the window (5)
//! use. Without PM blocks the ACPI interpreter may give up later in boot;
//! the processors and the I/O APIC have been taken from the MADT by then.

use crate::mptable::{checksum, IOAPIC_ADDR, LAPIC_ADDR};

/// Where the RSDP goes (16-byte aligned, inside the 0xe0000-0xfffff area
/// that Linux scans; reserved in the E820 map).
pub const RSDP_START: u64 = 0xe_0000;

const OEM_ID: &[u8; 6] = b"IKERNL";
const OEM_TABLE_ID: &[u8; 8] = b"IVTSHIM ";
const HDR_LEN: usize = 36;
const FADT_LEN: usize = 276;
const SCI_IRQ: u16 = 9;

fn header(sig: &[u8; 4], rev: u8) -> Vec<u8> {
    let mut h = Vec::with_capacity(HDR_LEN);
    h.extend_from_slice(sig);
    h.extend_from_slice(&[0; 4]); // length
    h.push(rev);
    h.push(0); // checksum
    h.extend_from_slice(OEM_ID);
    h.extend_from_slice(OEM_TABLE_ID);
    h.extend_from_slice(&1u32.to_le_bytes()); // OEM revision
    h.extend_from_slice(b"IVTS");
    h.extend_from_slice(&1u32.to_le_bytes()); // creator revision
    h
}

fn finish(mut t: Vec<u8>) -> Vec<u8> {
    let len = t.len() as u32;
    t[4..8].copy_from_slice(&len.to_le_bytes());
    t[9] = 0;
    t[9] = checksum(&t);
    t
}

fn madt(n: u8) -> Vec<u8> {
    let mut t = header(b"APIC", 4);
    t.extend_from_slice(&LAPIC_ADDR.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes()); // PCAT_COMPAT: 8259s present
    for id in 0..n {
        // Processor local APIC: uid, APIC id, enabled.
        t.extend_from_slice(&[0, 8, id, id]);
        t.extend_from_slice(&1u32.to_le_bytes());
    }
    // I/O APIC: id n, GSI base 0.
    t.extend_from_slice(&[1, 12, n, 0]);
    t.extend_from_slice(&IOAPIC_ADDR.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    // Local APIC NMI on LINT1 of every processor (uid 0xff).
    t.extend_from_slice(&[4, 6, 0xff, 0, 0, 1]);
    finish(t)
}

fn fadt(dsdt: u64) -> Vec<u8> {
    let mut t = header(b"FACP", 6);
    t.resize(FADT_LEN, 0);
    t[40..44].copy_from_slice(&(dsdt as u32).to_le_bytes());
    t[46..48].copy_from_slice(&SCI_IRQ.to_le_bytes());
    // IA-PC boot architecture flags: VGA not present.
    t[109..111].copy_from_slice(&(1u16 << 2).to_le_bytes());
    t[131] = 0; // FADT minor version: ACPI 6.0
    t[140..148].copy_from_slice(&dsdt.to_le_bytes());
    t[268..276].copy_from_slice(b"IKERNEL\0"); // hypervisor vendor identity
    finish(t)
}

/// The ACPI tables for `n` processors, to be written at `base` (the RSDP
/// first, then XSDT, FADT, DSDT and MADT, each 16-byte aligned).
pub fn build(base: u64, n: u8) -> Vec<u8> {
    let align = |x: usize| (x + 15) & !15;
    let rsdp_len = 36;
    let xsdt_off = align(rsdp_len);
    let xsdt_len = HDR_LEN + 2 * 8;
    let fadt_off = align(xsdt_off + xsdt_len);
    let dsdt_off = align(fadt_off + FADT_LEN);
    let dsdt = finish(header(b"DSDT", 2));
    let madt_off = align(dsdt_off + dsdt.len());
    let madt = madt(n);
    let fadt = fadt(base + dsdt_off as u64);

    let mut xsdt = header(b"XSDT", 1);
    xsdt.extend_from_slice(&(base + fadt_off as u64).to_le_bytes());
    xsdt.extend_from_slice(&(base + madt_off as u64).to_le_bytes());
    let xsdt = finish(xsdt);

    let mut rsdp = Vec::with_capacity(rsdp_len);
    rsdp.extend_from_slice(b"RSD PTR ");
    rsdp.push(0); // checksum of the first 20 bytes
    rsdp.extend_from_slice(OEM_ID);
    rsdp.push(2); // revision: ACPI 2.0+, XSDT
    rsdp.extend_from_slice(&0u32.to_le_bytes()); // no RSDT
    rsdp.extend_from_slice(&(rsdp_len as u32).to_le_bytes());
    rsdp.extend_from_slice(&(base + xsdt_off as u64).to_le_bytes());
    rsdp.extend_from_slice(&[0; 4]); // extended checksum, reserved
    rsdp[8] = checksum(&rsdp[..20]);
    rsdp[32] = checksum(&rsdp);

    let mut out = vec![0u8; madt_off + madt.len()];
    out[..rsdp_len].copy_from_slice(&rsdp);
    out[xsdt_off..xsdt_off + xsdt.len()].copy_from_slice(&xsdt);
    out[fadt_off..fadt_off + fadt.len()].copy_from_slice(&fadt);
    out[dsdt_off..dsdt_off + dsdt.len()].copy_from_slice(&dsdt);
    out[madt_off..].copy_from_slice(&madt);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mptable::sum;

    fn u32_at(b: &[u8], o: usize) -> u32 {
        u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes"))
    }
    fn u64_at(b: &[u8], o: usize) -> u64 {
        u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"))
    }
    fn table(b: &[u8], gpa: u64) -> &[u8] {
        let o = (gpa - RSDP_START) as usize;
        let len = u32_at(b, o + 4) as usize;
        let t = &b[o..o + len];
        assert_eq!(sum(t), 0, "checksum of {:?}", std::str::from_utf8(&t[..4]));
        t
    }

    #[test]
    fn tables_chain_and_checksums() {
        let b = build(RSDP_START, 2);
        assert!(
            RSDP_START + b.len() as u64 <= 0xf_0000,
            "below the MP table"
        );
        assert_eq!(&b[..8], b"RSD PTR ");
        assert_eq!(sum(&b[..20]), 0);
        assert_eq!(sum(&b[..36]), 0);
        assert_eq!(b[15], 2);
        let xsdt = table(&b, u64_at(&b, 24));
        assert_eq!(&xsdt[..4], b"XSDT");
        assert_eq!(xsdt.len(), 36 + 16);
        let fadt = table(&b, u64_at(xsdt, 36));
        assert_eq!(&fadt[..4], b"FACP");
        assert_eq!((fadt.len(), fadt[8]), (276, 6));
        assert_eq!(u32_at(fadt, 112), 0, "not hardware-reduced");
        assert_eq!(u16::from_le_bytes([fadt[46], fadt[47]]), 9, "SCI");
        let dsdt = table(&b, u64_at(fadt, 140));
        assert_eq!(u64::from(u32_at(fadt, 40)), u64_at(fadt, 140));
        assert_eq!((&dsdt[..4], dsdt.len()), (&b"DSDT"[..], 36));
        let madt = table(&b, u64_at(xsdt, 44));
        assert_eq!(&madt[..4], b"APIC");
        assert_eq!(u32_at(madt, 36), 0xfee0_0000);
        // Entries: 2 local APICs, the I/O APIC, the LINT1 NMI.
        let mut o = 44;
        let mut got = Vec::new();
        while o < madt.len() {
            got.push(madt[o..o + madt[o + 1] as usize].to_vec());
            o += madt[o + 1] as usize;
        }
        assert_eq!(o, madt.len());
        assert_eq!(got[0], [0, 8, 0, 0, 1, 0, 0, 0]);
        assert_eq!(got[1], [0, 8, 1, 1, 1, 0, 0, 0]);
        assert_eq!(got[2], [1, 12, 2, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0]);
        assert_eq!(got[3], [4, 6, 0xff, 0, 0, 1]);
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn eight_cpus() {
        let b = build(RSDP_START, 8);
        let xsdt = table(&b, u64_at(&b, 24));
        let madt = table(&b, u64_at(xsdt, 44));
        assert_eq!(madt.len(), 44 + 8 * 8 + 12 + 6);
    }
}
