// SPDX-License-Identifier: GPL-2.0

//! Linux 64-bit boot protocol: guest memory layout, page tables, GDT,
//! boot_params with the E820 map, command line and initrd.

use std::io::{self, Cursor};
use std::path::Path;

use kvm_bindings::{kvm_fpu, kvm_regs, kvm_segment, kvm_sregs};
use linux_loader::loader::bootparam::{boot_e820_entry, boot_params};
use linux_loader::loader::{load_cmdline, BzImage, Cmdline, KernelLoader};
use vm_memory::{Address, ByteValued, Bytes, GuestAddress, GuestMemoryMmap};

/// GDT in guest memory.
pub const GDT_ADDR: u64 = 0x500;
/// Empty IDT.
pub const IDT_ADDR: u64 = 0x520;
/// boot_params ("zero page").
pub const ZERO_PAGE: u64 = 0x7000;
/// Initial stack.
pub const BOOT_STACK: u64 = 0x8ff0;
/// Identity page tables: PML4, PDPT, 4 PDs (4 GiB in 2 MiB pages).
pub const PML4: u64 = 0x9000;
const PDPT: u64 = 0xa000;
const PD: u64 = 0xb000;
/// Command line.
pub const CMDLINE_ADDR: u64 = 0x20000;
/// Largest command line.
pub const CMDLINE_MAX: usize = 4096;
/// Start of the EBDA hole (reserved in the E820 map).
pub const EBDA_START: u64 = 0x9fc00;
/// Kernel load address (high memory).
pub const HIMEM_START: u64 = 0x10_0000;

const E820_RAM: u32 = 1;
const E820_RESERVED: u32 = 2;

/// What was loaded.
pub struct Loaded {
    /// 64-bit entry point.
    pub entry: u64,
}

/// Encodes a GDT entry from flags (access byte and the G/DB/L/AVL nibble in
/// bits 12..16), base and limit.
pub fn gdt_entry(flags: u16, base: u32, limit: u32) -> u64 {
    let base = u64::from(base);
    let limit = u64::from(limit);
    let flags = u64::from(flags);
    ((base & 0xff00_0000) << 32)
        | ((base & 0x00ff_ffff) << 16)
        | (limit & 0xffff)
        | ((limit & 0xf_0000) << 32)
        | ((flags & 0xf0ff) << 40)
}

/// The kvm_segment for a GDT entry at selector index `idx`.
pub fn segment(entry: u64, idx: u16) -> kvm_segment {
    let g = ((entry >> 55) & 1) as u8;
    let raw_limit = (((entry >> 32) & 0xf_0000) | (entry & 0xffff)) as u32;
    kvm_segment {
        base: ((entry >> 16) & 0xff_ffff) | (((entry >> 56) & 0xff) << 24),
        limit: if g == 1 {
            (raw_limit << 12) | 0xfff
        } else {
            raw_limit
        },
        selector: idx * 8,
        type_: ((entry >> 40) & 0xf) as u8,
        present: ((entry >> 47) & 1) as u8,
        dpl: ((entry >> 45) & 3) as u8,
        db: ((entry >> 54) & 1) as u8,
        s: ((entry >> 44) & 1) as u8,
        l: ((entry >> 53) & 1) as u8,
        g,
        avl: ((entry >> 52) & 1) as u8,
        unusable: if (entry >> 47) & 1 == 1 { 0 } else { 1 },
        padding: 0,
    }
}

/// The boot GDT: null, 64-bit code, data, TSS.
pub fn boot_gdt() -> [u64; 4] {
    [
        0,
        gdt_entry(0xa09b, 0, 0xfffff),
        gdt_entry(0xc093, 0, 0xfffff),
        gdt_entry(0x808b, 0, 0xfffff),
    ]
}

fn mem_err<E: std::fmt::Debug>(e: E) -> io::Error {
    io::Error::other(format!("guest memory: {e:?}"))
}

/// Writes GDT, IDT and page tables and sets `sregs` for long mode.
pub fn setup_long_mode(mem: &GuestMemoryMmap, sregs: &mut kvm_sregs) -> io::Result<()> {
    let gdt = boot_gdt();
    for (i, e) in gdt.iter().enumerate() {
        mem.write_obj(*e, GuestAddress(GDT_ADDR + 8 * i as u64))
            .map_err(mem_err)?;
    }
    mem.write_obj(0u64, GuestAddress(IDT_ADDR))
        .map_err(mem_err)?;
    sregs.gdt.base = GDT_ADDR;
    sregs.gdt.limit = (std::mem::size_of_val(&gdt) - 1) as u16;
    sregs.idt.base = IDT_ADDR;
    sregs.idt.limit = 7;
    let code = segment(gdt[1], 1);
    let data = segment(gdt[2], 2);
    sregs.cs = code;
    sregs.ds = data;
    sregs.es = data;
    sregs.fs = data;
    sregs.gs = data;
    sregs.ss = data;
    sregs.tr = segment(gdt[3], 3);

    // Identity map of the first 4 GiB with 2 MiB pages.
    mem.write_obj(PDPT | 0x3, GuestAddress(PML4))
        .map_err(mem_err)?;
    for i in 0..4u64 {
        mem.write_obj((PD + i * 0x1000) | 0x3, GuestAddress(PDPT + i * 8))
            .map_err(mem_err)?;
    }
    for i in 0..(4 * 512u64) {
        mem.write_obj((i << 21) | 0x83, GuestAddress(PD + i * 8))
            .map_err(mem_err)?;
    }
    sregs.cr3 = PML4;
    sregs.cr4 |= 0x20; // PAE
    sregs.cr0 |= 0x1 | 0x8000_0000; // PE, PG
    sregs.efer |= 0x100 | 0x400; // LME, LMA
    Ok(())
}

/// Initial general registers for the 64-bit entry.
pub fn boot_regs(entry: u64) -> kvm_regs {
    kvm_regs {
        rflags: 0x2,
        rip: entry,
        rsp: BOOT_STACK,
        rbp: BOOT_STACK,
        rsi: ZERO_PAGE,
        ..Default::default()
    }
}

/// Initial FPU state.
pub fn boot_fpu() -> kvm_fpu {
    kvm_fpu {
        fcw: 0x37f,
        mxcsr: 0x1f80,
        ..Default::default()
    }
}

/// The E820 map: RAM below the EBDA, RAM from 1 MiB to `mem_size`, the
/// window reserved.
pub fn e820_map(mem_size: u64, window: (u64, u64)) -> Vec<(u64, u64, u32)> {
    vec![
        (0, EBDA_START, E820_RAM),
        (EBDA_START, 0x10_0000 - EBDA_START, E820_RESERVED),
        (HIMEM_START, mem_size - HIMEM_START, E820_RAM),
        (window.0, window.1, E820_RESERVED),
    ]
}

/// Loads the bzImage (`kernel`, read from the file `kernel_path` once when
/// the shim started), the initrd and the command line and writes
/// boot_params.
pub fn load(
    mem: &GuestMemoryMmap,
    mem_size: u64,
    (kernel_path, kernel): (&Path, &[u8]),
    initrd: &[u8],
    cmdline: &str,
    window: (u64, u64),
) -> io::Result<Loaded> {
    let res = BzImage::load(
        mem,
        None,
        &mut Cursor::new(kernel),
        Some(GuestAddress(HIMEM_START)),
    )
    .map_err(|e| io::Error::other(format!("{}: {e}", kernel_path.display())))?;
    let mut hdr = res
        .setup_header
        .ok_or_else(|| io::Error::other("bzImage without setup header"))?;

    if cmdline.len() >= CMDLINE_MAX {
        return Err(io::Error::other("kernel command line too long"));
    }
    let mut cl = Cmdline::new(CMDLINE_MAX).map_err(mem_err)?;
    cl.insert_str(cmdline).map_err(mem_err)?;
    load_cmdline(mem, GuestAddress(CMDLINE_ADDR), &cl).map_err(mem_err)?;

    // Initrd at the top of RAM, page aligned, below initrd_addr_max.
    let max = u64::from(hdr.initrd_addr_max).min(mem_size - 1);
    let isize = initrd.len() as u64;
    let iaddr = (max + 1)
        .checked_sub(isize)
        .map(|a| a & !0xfff)
        .unwrap_or(0);
    if iaddr <= res.kernel_end || iaddr < 0x100_0000 + 0x200_0000 {
        // The decompressed kernel lives at 16 MiB and up; keep clear of it.
        return Err(io::Error::other(format!(
            "initrd ({} KiB) does not fit in guest RAM; raise memory_mib",
            isize / 1024
        )));
    }
    mem.write_slice(initrd, GuestAddress(iaddr))
        .map_err(mem_err)?;

    hdr.type_of_loader = 0xff;
    hdr.boot_flag = 0xaa55;
    hdr.header = 0x5372_6448;
    hdr.cmd_line_ptr = CMDLINE_ADDR as u32;
    hdr.cmdline_size = cmdline.len() as u32 + 1;
    hdr.kernel_alignment = 0x100_0000;
    hdr.ramdisk_image = iaddr as u32;
    hdr.ramdisk_size = isize as u32;
    hdr.loadflags |= 0x80; // CAN_USE_HEAP
    hdr.heap_end_ptr = 0xfe00;

    let mut bp = boot_params {
        hdr,
        ..Default::default()
    };
    let map = e820_map(mem_size, window);
    for (i, (addr, size, ty)) in map.iter().enumerate() {
        bp.e820_table[i] = boot_e820_entry {
            addr: *addr,
            size: *size,
            r#type: *ty,
        };
    }
    bp.e820_entries = map.len() as u8;
    mem.write_slice(bp.as_slice(), GuestAddress(ZERO_PAGE))
        .map_err(mem_err)?;
    Ok(Loaded {
        entry: res.kernel_load.raw_value() + 0x200,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gdt_entries() {
        let g = boot_gdt();
        assert_eq!(g[1], 0x00af_9b00_0000_ffff);
        assert_eq!(g[2], 0x00cf_9300_0000_ffff);
        let cs = segment(g[1], 1);
        assert_eq!(
            (cs.l, cs.db, cs.g, cs.present, cs.s, cs.type_),
            (1, 0, 1, 1, 1, 0xb)
        );
        assert_eq!(cs.limit, 0xffff_ffff);
        assert_eq!(cs.selector, 8);
        let tr = segment(g[3], 3);
        assert_eq!((tr.s, tr.type_, tr.present), (0, 0xb, 1));
    }

    #[test]
    fn e820_reserves_window() {
        let m = e820_map(64 << 20, (0xd000_0000, 0x40000));
        assert_eq!(m[2], (0x10_0000, (64 << 20) - 0x10_0000, 1));
        assert_eq!(m[3], (0xd000_0000, 0x40000, 2));
    }
}
