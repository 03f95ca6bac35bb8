// SPDX-License-Identifier: GPL-2.0

//! `ivt-shim check`: can this machine run driver VMs?

use std::path::Path;

use kvm_bindings::kvm_userspace_memory_region;
use kvm_ioctls::{Cap, Kvm, VcpuExit};

fn line(ok: bool, what: &str, why: &str) -> bool {
    if ok {
        println!("ok   {what}");
    } else {
        println!("FAIL {what}: {why}");
    }
    ok
}

/// Runs real-mode code `mov al, 0x42; out 0x10, al; hlt` in a tiny VM.
fn tiny_vm(kvm: &Kvm) -> Result<(), String> {
    let vm = kvm.create_vm().map_err(|e| format!("KVM_CREATE_VM: {e}"))?;
    let size = 0x4000usize;
    // SAFETY: A fresh anonymous mapping, unmapped below.
    let mem = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if mem == libc::MAP_FAILED {
        return Err("mmap failed".into());
    }
    let code = [0xb0u8, 0x42, 0xe6, 0x10, 0xf4];
    // SAFETY: `mem` is a writable mapping of `size` > 0x1000 + 5 bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(code.as_ptr(), mem.cast::<u8>().add(0x1000), code.len())
    };
    let result = (|| {
        let region = kvm_userspace_memory_region {
            slot: 0,
            guest_phys_addr: 0,
            memory_size: size as u64,
            userspace_addr: mem as u64,
            flags: 0,
        };
        // SAFETY: `mem` stays mapped until after the VM is dropped.
        unsafe { vm.set_user_memory_region(region) }.map_err(|e| format!("memory slot: {e}"))?;
        let mut vcpu = vm
            .create_vcpu(0)
            .map_err(|e| format!("KVM_CREATE_VCPU: {e}"))?;
        let mut sregs = vcpu
            .get_sregs()
            .map_err(|e| format!("KVM_GET_SREGS: {e}"))?;
        sregs.cs.base = 0;
        sregs.cs.selector = 0;
        vcpu.set_sregs(&sregs)
            .map_err(|e| format!("KVM_SET_SREGS: {e}"))?;
        let regs = kvm_bindings::kvm_regs {
            rip: 0x1000,
            rflags: 2,
            ..Default::default()
        };
        vcpu.set_regs(&regs)
            .map_err(|e| format!("KVM_SET_REGS: {e}"))?;
        let mut seen_out = false;
        for _ in 0..10 {
            match vcpu.run().map_err(|e| format!("KVM_RUN: {e}"))? {
                VcpuExit::IoOut(0x10, [0x42]) => seen_out = true,
                VcpuExit::Hlt if seen_out => return Ok(()),
                other => return Err(format!("unexpected exit {other:?}")),
            }
        }
        Err("no HLT after 10 exits".into())
    })();
    drop(vm);
    // SAFETY: The VM that used the mapping is gone.
    unsafe { libc::munmap(mem, size) };
    result
}

/// Prints a report; returns 0 if driver VMs can run, 1 if not.
pub fn check() -> i32 {
    let mut ok = true;
    ok &= line(
        Path::new("/dev/kvm").exists(),
        "/dev/kvm present",
        "load kvm_intel or kvm_amd, or enable virtualisation",
    );
    let kvm = match Kvm::new() {
        Ok(k) => k,
        Err(e) => {
            line(false, "open /dev/kvm", &e.to_string());
            return 1;
        }
    };
    let v = kvm.get_api_version();
    ok &= line(
        v == 12,
        &format!("KVM_GET_API_VERSION = {v}"),
        "expected 12",
    );
    for (cap, name) in [
        (Cap::Irqchip, "KVM_CAP_IRQCHIP"),
        (Cap::Ioeventfd, "KVM_CAP_IOEVENTFD"),
        (Cap::Irqfd, "KVM_CAP_IRQFD"),
        (Cap::Pit2, "KVM_CAP_PIT2"),
        (Cap::UserMemory, "KVM_CAP_USER_MEMORY"),
        (Cap::ExtCpuid, "KVM_CAP_EXT_CPUID"),
    ] {
        ok &= line(kvm.check_extension(cap), name, "not supported by this KVM");
    }
    match tiny_vm(&kvm) {
        Ok(()) => {
            line(true, "test VM ran (real-mode out + hlt)", "");
        }
        Err(e) => ok &= line(false, "test VM", &e),
    }
    let ioperm = Path::new("/dev/port").exists();
    println!(
        "info port hand-through: {}",
        if ioperm {
            "/dev/port present"
        } else {
            "needs ioperm (CONFIG_X86_IOPL_IOPERM) or /dev/port (CONFIG_DEVPORT)"
        }
    );
    println!(
        "info host_stub: {}",
        if Path::new("/dev/ikernel").exists() {
            "/dev/ikernel present"
        } else {
            "absent (run falls back to a local window)"
        }
    );
    if ok {
        println!("this machine can run driver VMs");
        0
    } else {
        println!("this machine cannot run driver VMs");
        1
    }
}
