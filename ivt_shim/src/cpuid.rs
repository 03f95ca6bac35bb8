// SPDX-License-Identifier: GPL-2.0

//! CPUID filtering for driver VMs.
//!
//! The shim does not manage extended (XSAVE) state, so it hides XSAVE and
//! everything that needs it (AVX and later vector extensions, AMX, PKU),
//! zeroes leaf 0xD, and hides features whose state or MSRs the shim does
//! not provide. Without this, Linux 7.3 panics early with "XSAVE consistency
//! problem" when the host's CPU model is passed through unchanged.

use kvm_bindings::kvm_cpuid_entry2;

/// Bit masks of what is hidden, per (leaf, subleaf, register).
mod bits {
    // Leaf 1 ECX.
    pub const L1_ECX_HIDE: u32 = 1 << 2 // DTES64
        | 1 << 3 // MONITOR/MWAIT
        | 1 << 4 // DS-CPL
        | 1 << 5 // VMX (no nested virtualisation in driver VMs)
        | 1 << 6 // SMX
        | 1 << 7 // EST
        | 1 << 8 // TM2
        | 1 << 12 // FMA (needs AVX state)
        | 1 << 15 // PDCM (no perf capabilities MSR)
        | 1 << 26 // XSAVE
        | 1 << 27 // OSXSAVE
        | 1 << 28 // AVX
        | 1 << 29; // F16C (depends on AVX)
    pub const L1_ECX_HYPERVISOR: u32 = 1 << 31;
    // Leaf 1 EDX.
    pub const L1_EDX_HIDE: u32 = 1 << 21 // DS
        | 1 << 22 // ACPI thermal MSRs
        | 1 << 29; // TM
                   // Leaf 7.0 EBX.
    pub const L7_EBX_HIDE: u32 = 1 << 5 // AVX2
        | 1 << 16 | 1 << 17 | 1 << 21 | 1 << 26 | 1 << 27 | 1 << 28 | 1 << 30 | 1 << 31 // AVX-512
        | 1 << 25; // Intel PT
                   // Leaf 7.0 ECX.
    pub const L7_ECX_HIDE: u32 = 1 << 1 // AVX512_VBMI
        | 1 << 3 // PKU (PKRU is XSAVE state)
        | 1 << 4 // OSPKE
        | 1 << 5 // WAITPKG
        | 1 << 6 // AVX512_VBMI2
        | 1 << 9 // VAES
        | 1 << 10 // VPCLMULQDQ
        | 1 << 11 | 1 << 12 | 1 << 14; // AVX512 VNNI/BITALG/VPOPCNTDQ
                                       // Leaf 7.0 EDX.
    pub const L7_EDX_HIDE: u32 = 1 << 2 | 1 << 3 // AVX512 4VNNIW/4FMAPS
        | 1 << 8 // AVX512_VP2INTERSECT
        | 1 << 22 | 1 << 24 | 1 << 25 // AMX
        | 1 << 23; // AVX512_FP16
                   // Leaf 0x80000001 ECX.
    pub const LX1_ECX_HIDE: u32 = 1 << 2 // SVM (no nested virtualisation)
        | 1 << 11 // XOP (AVX state)
        | 1 << 16; // FMA4
                   // KVM paravirtual features, leaf 0x4000_0001 EAX: asynchronous page
                   // faults (the #PF and the interrupt-delivered variants). Under nested
                   // KVM on TCG the guest once took a double fault in its async-PF
                   // handler; a driver VM with a few MiB of pinned-in-practice memory
                   // gains nothing from them.
    pub const KVM_PV_EAX_HIDE: u32 = 1 << 4 // KVM_FEATURE_ASYNC_PF
        | 1 << 10 // KVM_FEATURE_ASYNC_PF_VMEXIT
        | 1 << 14; // KVM_FEATURE_ASYNC_PF_INT
}

/// Filters the entries of KVM_GET_SUPPORTED_CPUID for vCPU `apic_id` of
/// `nr_vcpus`.
pub fn filter(entries: &mut [kvm_cpuid_entry2], apic_id: u8, nr_vcpus: u8) {
    for e in entries.iter_mut() {
        match (e.function, e.index) {
            (1, _) => {
                e.ecx &= !bits::L1_ECX_HIDE;
                e.ecx |= bits::L1_ECX_HYPERVISOR;
                e.edx &= !bits::L1_EDX_HIDE;
                // EBX[31:24] initial APIC id, [23:16] logical processors.
                e.ebx = (e.ebx & 0x0000_ffff)
                    | u32::from(apic_id) << 24
                    | u32::from(nr_vcpus.max(1)) << 16;
            }
            (7, 0) => {
                e.ebx &= !bits::L7_EBX_HIDE;
                e.ecx &= !bits::L7_ECX_HIDE;
                e.edx &= !bits::L7_EDX_HIDE;
            }
            (7, 1) => {
                // AVX-VNNI, AVX512_BF16 and later: all vector state.
                e.eax = 0;
            }
            (0xd, _) | (0x14, _) | (0x19, _) | (0x1d, _) | (0x1e, _) => {
                e.eax = 0;
                e.ebx = 0;
                e.ecx = 0;
                e.edx = 0;
            }
            (0xb, _) | (0x1f, _) => {
                e.edx = u32::from(apic_id);
            }
            (0x8000_0001, _) => {
                e.ecx &= !bits::LX1_ECX_HIDE;
            }
            (0x4000_0001, _) => {
                e.eax &= !bits::KVM_PV_EAX_HIDE;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ent(function: u32, index: u32) -> kvm_cpuid_entry2 {
        kvm_cpuid_entry2 {
            function,
            index,
            eax: u32::MAX,
            ebx: u32::MAX,
            ecx: u32::MAX,
            edx: u32::MAX,
            ..Default::default()
        }
    }

    #[test]
    fn hides_xsave_and_avx() {
        let mut v = vec![
            ent(1, 0),
            ent(7, 0),
            ent(0xd, 0),
            ent(0xd, 1),
            ent(0x8000_0001, 0),
            ent(0, 0),
        ];
        filter(&mut v, 0, 1);
        let l1 = v[0];
        assert_eq!(l1.ecx & (1 << 26), 0, "XSAVE");
        assert_eq!(l1.ecx & (1 << 27), 0, "OSXSAVE");
        assert_eq!(l1.ecx & (1 << 28), 0, "AVX");
        assert_ne!(l1.ecx & (1 << 31), 0, "hypervisor bit");
        assert_eq!(l1.ebx >> 24, 0);
        assert_eq!((l1.ebx >> 16) & 0xff, 1);
        assert_eq!(v[1].ebx & (1 << 5), 0, "AVX2");
        assert_eq!(v[1].ebx & (1 << 16), 0, "AVX512F");
        assert_eq!(v[1].ecx & (1 << 3), 0, "PKU");
        for e in &v[2..4] {
            assert_eq!((e.eax, e.ebx, e.ecx, e.edx), (0, 0, 0, 0), "leaf 0xd");
        }
        assert_eq!(v[4].ecx & (1 << 2), 0, "SVM");
        assert_eq!(v[5].eax, u32::MAX, "leaf 0 untouched");
        // Untouched bits stay: e.g. SSE4.2 (leaf 1 ECX bit 20), FPU (EDX 0).
        assert_ne!(l1.ecx & (1 << 20), 0);
        assert_ne!(l1.edx & 1, 0);
    }

    #[test]
    fn hides_async_page_faults() {
        let mut v = vec![ent(0x4000_0001, 0)];
        filter(&mut v, 0, 1);
        assert_eq!(v[0].eax & (1 << 4 | 1 << 10 | 1 << 14), 0);
        // kvmclock (bit 3) and the rest stay.
        assert_ne!(v[0].eax & (1 << 3), 0);
    }

    #[test]
    fn apic_id() {
        let mut v = vec![ent(1, 0), ent(0xb, 0)];
        filter(&mut v, 3, 4);
        assert_eq!(v[0].ebx >> 24, 3);
        assert_eq!(v[1].edx, 3);
    }
}
