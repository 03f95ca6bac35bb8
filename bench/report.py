#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turns the raw results of bench/run-in-vm.sh into the report of `make bench`.

    bench/report.py RAW MACHINE OUTDIR

RAW is build/bench/raw.txt ("SIDE WHAT key=value ..." lines), MACHINE a
"key: value" file written by scripts/bench (date, host, CPU, accelerator).
Prints the tables and writes OUTDIR/<date>-<HHMM>-<host>.md and .png
(UTC), and copies of both as OUTDIR/latest.md and OUTDIR/latest.png.  Pure Python: the PNG
is drawn by bench/png.py.
"""
import math
import os
import shutil
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from png import Canvas  # noqa: E402


def parse_raw(path):
    """{(side, what): {key: value}}; counters are keyed (side, 'counters:' + phase)."""
    res = {}
    with open(path) as f:
        for line in f:
            tok = line.split()
            if len(tok) < 2:
                continue
            side, what = tok[0], tok[1]
            kv = {}
            rest = tok[1:] if "=" in what else tok[2:]
            if "=" in what:
                what = "-"
            for t in rest:
                if "=" in t:
                    k, v = t.split("=", 1)
                    try:
                        kv[k] = float(v)
                    except ValueError:
                        kv[k] = v
            if what == "counters":
                what = "counters:" + str(kv.get("phase"))
            elif what == "tput":
                what = "tput%d" % kv.get("size", 0)
            elif what == "par":
                what = "par%d" % kv.get("procs", 0)
            res[(side, what)] = kv
    return res


def parse_machine(path):
    m = {}
    with open(path) as f:
        for line in f:
            if ":" in line:
                k, v = line.split(":", 1)
                m[k.strip()] = v.strip()
    return m


def num(v, digits=3):
    """A figure with `digits` significant digits and thousands separators."""
    if isinstance(v, str):
        return v
    if v is None or math.isnan(v):
        return "n/a"
    if v == 0:
        return "0"
    mag = int(math.floor(math.log10(abs(v))))
    dec = max(0, digits - 1 - mag)
    return f"{v:,.{dec}f}"


def ratio(iso, nat):
    if iso is None or nat is None or nat == 0:
        return None
    return iso / nat


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: bench/report.py RAW MACHINE OUTDIR")
    raw, mach, outdir = parse_raw(sys.argv[1]), parse_machine(sys.argv[2]), sys.argv[3]

    def g(side, what, key):
        v = raw.get((side, what), {}).get(key)
        return v if isinstance(v, float) else None

    tcg = mach.get("accel", "?").upper() == "TCG"
    mib = 1e6
    # (label, unit, native, isolated, higher_is_better, short label)
    rows = [
        ("null ioctl, median round trip", "us", g("native", "lat", "median_us"),
         g("isolated", "lat", "median_us"), False, "ioctl latency, median"),
        ("null ioctl, p99 round trip", "us", g("native", "lat", "p99_us"),
         g("isolated", "lat", "p99_us"), False, "ioctl latency, p99"),
    ]
    for size, name in ((64, "64 B"), (4096, "4 KiB"), (65536, "64 KiB")):
        for d in ("write", "read"):
            n, i = g("native", f"tput{size}", d + "_Bps"), g("isolated", f"tput{size}", d + "_Bps")
            rows.append((f"{d} {name}", "MB/s", n and n / mib, i and i / mib, True, f"{d} {name}"))
    for p in (1, 4, 16):
        rows.append((f"null ioctls/s, {p} process{'es' if p > 1 else ''} (aggregate)", "calls/s",
                     g("native", f"par{p}", "calls_per_s"), g("isolated", f"par{p}", "calls_per_s"), True,
                     f"ioctls/s, {p} proc{'s' if p > 1 else ''}"))

    # Doorbells and exits per request, per phase, with the idle baseline
    # of the KVM counters (timer ticks, console) subtracted.
    idle = raw.get(("isolated", "counters:idle"), {})
    idle_secs = idle.get("secs") or 1.0

    def per_req(phase, side="isolated"):
        c = raw.get((side, "counters:" + phase))
        if not c or not c.get("calls"):
            return None
        calls, secs = c["calls"], c.get("secs", 0.0)
        out = {"calls": calls, "secs": secs, "rate": calls / secs if secs else None,
               "kicks": c.get("kicks", 0.0) / calls}
        # Host-side counters that older host_stubs did not have.
        for k in ("interrupts", "polled"):
            out[k] = c[k] / calls if k in c else None
        for k in ("io_exits", "exits", "irq_injections", "halt_exits"):
            base = idle.get(k, 0.0) / idle_secs * secs
            out[k] = c.get(k, 0.0) / calls
            out[k + "_corr"] = max(0.0, c.get(k, 0.0) - base) / calls
        return out

    phases = [("lat", "null ioctl, 1 process (depth 1, unbatched)", "ioctl, 1 proc (latency)"),
              ("par1", "null ioctls, 1 process", "ioctl, 1 proc"),
              ("par4", "null ioctls, 4 processes (depth <= 4)", "ioctl, 4 procs"),
              ("par16", "null ioctls, 16 processes (depth <= 16)", "ioctl, 16 procs"),
              ("tput64", "write+read 64 B", "write+read 64 B"),
              ("tput4096", "write+read 4 KiB", "write+read 4 KiB"),
              ("tput65536", "write+read 64 KiB (16 KiB pieces)", "write+read 64 KiB")]
    dq = [(p, label, per_req(p), short) for p, label, short in phases]

    boot = g("isolated", "boot", "boot_to_ready_s")
    rst = raw.get(("isolated", "restart"), {})
    rlog = raw.get(("isolated", "restartlog"), {})
    mem = raw.get(("isolated", "memory"), {})
    vm = raw.get(("vm", "-"), {})

    lines = []
    w = lines.append
    title = f"ikernel benchmark: ikfifo native vs isolated, {mach.get('date', '?')}"
    w(f"# {title}\n")
    w(f"- Machine: {mach.get('cpu_model', '?')}, {mach.get('cpus', '?')} logical CPUs "
      f"({mach.get('sockets', '?')} socket(s) x {mach.get('cores', '?')} core(s)), "
      f"{mach.get('mem_gib', '?')} GiB RAM, host `{mach.get('host', '?')}`, kernel {mach.get('host_kernel', '?')}"
      " (from /proc/cpuinfo outside the test VM).")
    w(f"- Test VM: **{mach.get('accel', '?')}** ({'QEMU TCG, -cpu max' if tcg else 'KVM, -cpu host'}; "
      f"{mach.get('qemu', 'QEMU version not recorded')}), "
      f"{vm.get('vcpus', 0):.0f} vCPUs, kernel {vm.get('kernel', '?')}; the driver VM runs inside it "
      f"on {'nested KVM (emulated AMD-V)' if tcg else 'nested KVM'}: 1 vCPU, "
      f"{num(mem.get('guest_mib'))} MiB, window {num(mem.get('window_kib'))} KiB, 16 ring entries.")
    w(f"- Driver: `samples/ikfifo/ikfifo.ko capacity=1048576`, the same module natively in the test VM "
      "(`/dev/ikfifo`) and isolated in the driver VM (`/dev/ik_fifo`), the same program "
      f"(`bench/fifo_bench`) against both. Commit {mach.get('commit', '?')}.")
    oq = mach.get("other_qemus", "?")
    w(f"- Load: load average {mach.get('load_before', '?')} before, {mach.get('load_after', '?')} after; "
      + ("no other test VM ran on the machine during the run."
         if oq == "0" else
         f"**up to {oq} other QEMU test VM(s) shared the {mach.get('cpus', '?')} CPUs during the run: "
         "the figures, and the ratios of points measured at different moments, are disturbed.**"))
    if tcg:
        w("- **Under TCG the absolute figures measure the emulator, not the design: only the "
          "isolated/native ratios of this same run mean anything.** A nested driver VM under TCG "
          "pays for each exit and interrupt injection with a full emulated VM exit of the test VM.")
    w("- Ratios are isolated/native: above 1 means isolated takes longer (latency), below 1 "
      "means isolated moves less (throughput).\n")

    w("## Isolated vs native\n")
    w("| metric | unit | native | isolated | isolated/native |")
    w("| --- | --- | ---: | ---: | ---: |")
    for label, unit, n, i, _, _ in rows:
        w(f"| {label} | {unit} | {num(n)} | {num(i)} | {num(ratio(i, n))} |")
    bgen = raw.get(("isolated", "boot"), {}).get("generation", 1.0)
    w(f"| driver-VM boot to ready{'' if bgen == 1 else f' (generation {bgen:.0f}: earlier ones died booting)'} "
      f"| s | (none) | {num(boot)} | n/a: no native counterpart |")
    fs = rst.get("fail_to_service_s")
    w(f"| restart to service (first EIO to open+ioctl working) | s | (none) | {num(fs)} | "
      "n/a: no native counterpart |")
    w(f"| shim: down to ready (restart, incl. 100 ms backoff) | s | (none) | "
      f"{num(rlog.get('down_to_ready_s'))} | n/a: no native counterpart |")
    w(f"| shim VmRSS while running (guest RAM it touched + shim) | MiB | (none) | "
      f"{num(mem.get('vmrss', 0) / 1024 if mem.get('vmrss') else None)} | n/a: no native counterpart |")
    w(f"| shim VmHWM (peak) | MiB | (none) | "
      f"{num(mem.get('vmhwm', 0) / 1024 if mem.get('vmhwm') else None)} | n/a: no native counterpart |")
    w(f"| configured guest memory | MiB | (none) | {num(mem.get('guest_mib'))} | n/a: no native counterpart |")
    w("")

    w("## Doorbells, exits and interrupts per request (isolated)\n")
    w("A request is one forwarded ring round trip (host_stub's `calls`; a 64 KiB read or write "
      "is four 16 KiB pieces). Doorbells are the guest's kicks counted by host_stub "
      "(`/sys/kernel/debug/ikernel/stats`). KVM's own counters come from "
      "`/sys/kernel/debug/kvm/<shim pid>-<fd>/` of the driver VM: `io_exits` counts every "
      "port-I/O exit, including the doorbell `out` to port 0x600 that KVM completes in the "
      "kernel through the ioeventfd (svm.c `io_interception` counts before dispatching); "
      "`irq_injections` counts every interrupt injected into the driver VM, ring interrupts "
      f"(host->guest, irqfd on IRQ 5) and timer ticks alike (HZ={vm.get('hz', 0):.0f}). "
      f"\"corr.\" subtracts the idle rate measured over {num(idle_secs)} s with the driver VM "
      "idle; a busy guest ticks more than an idle one, so corrected interrupt figures are "
      "upper bounds for ring interrupts. host_stub counts the ring interrupts it raises in "
      "the driver VM (its call doorbell, `interrupts`); KVM's tracepoints cross-check them "
      "(below).\n")
    w("| phase | requests | doorbells/req (host_stub) | ring interrupts/req (host_stub) "
      "| io_exits/req | io_exits/req corr. "
      "| irq_injections/req corr. | all exits/req | all exits/req corr. |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for _, label, d, _ in dq:
        if not d:
            w(f"| {label} | n/a | | | | | | | |")
            continue
        w(f"| {label} | {d['calls']:.0f} | {num(d['kicks'])} | {num(d['interrupts'])} "
          f"| {num(d['io_exits'])} "
          f"| {num(d['io_exits_corr'])} | {num(d['irq_injections_corr'])} | {num(d['exits'])} "
          f"| {num(d['exits_corr'])} |")
    if idle:
        w(f"| idle driver VM, per second | | {num(idle.get('kicks', 0) / idle_secs)} | "
          f"{num(idle.get('interrupts', 0) / idle_secs)} | "
          f"{num(idle.get('io_exits', 0) / idle_secs)} | | {num(idle.get('irq_injections', 0) / idle_secs)} "
          f"| {num(idle.get('exits', 0) / idle_secs)} | |")
    w("")

    # The host's poll bound: the default, off, and deep.
    series = [(sd, raw.get((sd, "poll"), {}).get("host_max_us")) for sd in
              ("isolated", "isolated-poll0", "isolated-deep")]
    series = [(sd, us) for sd, us in series if us is not None]
    if len(series) > 1:
        w("### Polling\n")
        w("The same driver VM, the same points, with host_stub's poll bound "
          "(`/sys/module/ikernel_host/parameters/poll_max_us`) at its default, off (0) and deep; the "
          "guest's bound (`ikernel_guest.poll_us`) stays at its default. *Polled* counts the "
          "responses host_stub's poll loop took (including the one whose doorbell started it).\n")
        w("| phase | host poll bound | requests | calls/s | doorbells/req | ring interrupts/req "
          "| polled/req | all exits/req corr. |")
        w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for p, label, _, _ in dq:
            if p not in ("lat", "par4", "par16"):
                continue
            for sd, us in series:
                d = per_req(p, sd)
                if not d:
                    continue
                w(f"| {label} | {num(us)} us | {d['calls']:.0f} | {num(d['rate'])} | {num(d['kicks'])} "
                  f"| {num(d['interrupts'])} | {num(d['polled'])} | {num(d['exits_corr'])} |")
        w("")
    # host_stub's direct copies on (the default) and off.
    if raw.get(("isolated-bounce", "copy")) is not None:
        w("### Data copies\n")
        w("The bulk points again with host_stub's direct copies off "
          "(`/sys/module/ikernel_host/parameters/direct_copy` = 0): each byte goes through a kernel "
          "buffer on the host, as before the one-copy change, instead of straight between the "
          "caller's buffer and the window (the guest copies once either way). *Direct* and "
          "*through a buffer* are host_stub's `direct_bytes` and `bounced_bytes` over the "
          "point. *Served in place* is a second driver VM with `[image] zero_copy = true`: "
          "its serving process maps the window and the driver reads and writes each "
          "request's buffer there, so the guest makes no copy of its own.\n")
        w("| point | copies | write MB/s | read MB/s | direct bytes | through a buffer |")
        w("| --- | --- | ---: | ---: | ---: | ---: |")
        for size, name in ((4096, "4 KiB"), (65536, "64 KiB")):
            for sd, label in (("isolated", "direct (default)"), ("isolated-bounce", "through a buffer"),
                              ("isolated-inplace", "direct, served in place (zero_copy)")):
                if raw.get((sd, "copy")) is None and sd != "isolated":
                    continue
                c = raw.get((sd, f"counters:tput{size}"), {})
                wr, rd = g(sd, f"tput{size}", "write_Bps"), g(sd, f"tput{size}", "read_Bps")
                w(f"| {name} | {label} | {num(wr and wr / mib)} | {num(rd and rd / mib)} "
                  f"| {num(c.get('direct_bytes'))} | {num(c.get('bounced_bytes'))} |")
        w("")
    tr = raw.get(("isolated", "trace"), {})
    w("### Host-to-guest interrupts, traced\n")
    if tr.get("available") != "yes" or not tr.get("calls"):
        w("KVM's tracepoints `kvm/kvm_set_irq` and `kvm/kvm_inj_virq` were not available in the "
          "test VM: no count of the ring's host->guest interrupts.\n")
    else:
        calls = tr["calls"]
        vecs = sorted(((k[4:], v) for k, v in tr.items() if k.startswith("vec_")),
                      key=lambda kv: -kv[1])
        w(f"One more run of null ioctls ({calls:.0f} requests, 1 process, depth 1) "
          "with KVM's tracepoints on (so not timed): `kvm_set_irq` counts the ring's irqfd raising "
          "GSI 5 (host_stub's call doorbell), `kvm_inj_virq` every interrupt injected into the "
          f"driver VM, by vector (0xec is the guest's local APIC timer). {tr.get('lost', 0):.0f} "
          "lines of the trace were lost.\n")
        w("| count | total | per request |")
        w("| --- | ---: | ---: |")
        w(f"| doorbells guest->host (host_stub kicks) | {tr.get('kicks', 0):.0f} | "
          f"{num(tr.get('kicks', 0) / calls)} |")
        w(f"| KVM io_exits | {tr.get('io_exits', 0):.0f} | {num(tr.get('io_exits', 0) / calls)} |")
        w(f"| ring interrupts host->guest (GSI 5 raised) | {tr.get('gsi5_raised', 0):.0f} | "
          f"{num(tr.get('gsi5_raised', 0) / calls)} |")
        w(f"| serial console interrupts (GSI 4 raised) | {tr.get('gsi4_raised', 0):.0f} | "
          f"{num(tr.get('gsi4_raised', 0) / calls)} |")
        for v, n in vecs:
            w(f"| injections of vector {v}{' (timer)' if v == '0xec' else ''} | {n:.0f} | {num(n / calls)} |")
        w("")
        w("The injections are counted while the trace was on; the doorbell and io_exits "
          "counters over a slightly wider window, which makes no difference to them (an "
          "idle driver VM rings no doorbell).\n")

    w("## Targets of issue 7\n")
    w("| target | measured | met |")
    w("| --- | --- | --- |")
    p16 = dict((p, d) for p, _, d, _ in dq).get("par16")
    lat = dict((p, d) for p, _, d, _ in dq).get("lat")

    def met(ok):
        return "n/a" if ok is None else ("yes" if ok else "**no**")
    v = p16 and p16["kicks"]
    deep = per_req("par16", "isolated-deep")
    dv = deep and deep["kicks"]
    best = min([x for x in (v, dv) if x is not None], default=None)
    w(f"| <= 0.05 doorbells/request at queue depth >= 8 | {num(v)} (16 processes, default poll bound)"
      + (f"; {num(dv)} with the deep bound" if dv is not None else "")
      + f" | {met(None if best is None else best <= 0.05)} |")
    v = lat and lat["kicks"] + (lat["interrupts"] or 0.0)
    w(f"| <= 2 doorbells/request unbatched | {num(v)} both ways (1 process, depth 1: "
      f"{num(lat and lat['kicks'])} guest->host, {num(lat and lat['interrupts'])} host->guest) | "
      f"{met(None if v is None else v <= 2)} |")
    for d in ("write", "read"):
        n = g("native", "tput65536", d + "_Bps")
        r = ratio(g("isolated", "tput65536", d + "_Bps"), n)
        z = ratio(g("isolated-inplace", "tput65536", d + "_Bps"), n)
        both = [x for x in (r, z) if x is not None]
        w(f"| 64 KiB {d} >= 0.9 of native | {num(r)} of native"
          + (f"; {num(z)} served in place (zero_copy)" if z is not None else "")
          + f" | {met(max(both) >= 0.9 if both else None)} |")
    w("")

    net_section(w, os.path.join(os.path.dirname(os.path.abspath(sys.argv[1])), "net-raw.txt"))

    w("## Restart\n")
    w(f"Generation 1 of a second driver VM panics one second after it is ready "
      f"(`ivt-shim run --test-panic-generation 1`; `backoff_initial_ms = 100`). "
      f"`fifo_bench restart` did {num(rst.get('calls_before'))} null ioctls before the first failure "
      f"(errno {int(rst['errno']) if isinstance(rst.get('errno'), float) else '?'}), "
      f"then {num(rst.get('retries'))} failed open+ioctl attempts (10 ms apart) until service "
      f"was back after {num(fs)} s. The shim logged generation 1 boot-to-ready "
      f"{num(rlog.get('gen1_boot_to_ready_s'))} s, generation 2 boot-to-ready "
      f"{num(rlog.get('gen2_boot_to_ready_s'))} s and down-to-ready {num(rlog.get('down_to_ready_s'))} s.\n")
    w("Plot: `" + "latest.png" + "` (isolated as a fraction of native performance, log scale; "
      "doorbells per request).\n")
    md = "\n".join(lines)

    # <day>-<HHMM>-<host>: two runs on one day keep both reports.
    date = mach.get("day", "unknown-date")
    when = mach.get("date", "").split()
    if len(when) > 1:
        date += "-" + when[1].replace(":", "")
    host = mach.get("host", "host")
    os.makedirs(outdir, exist_ok=True)
    base = os.path.join(outdir, f"{date}-{host}")
    with open(base + ".md", "w") as f:
        f.write(md.replace("`latest.png`", f"`{date}-{host}.png`"))
    shutil.copyfile(base + ".md", os.path.join(outdir, "latest.md"))
    deep = [(label, d["kicks"]) for p, label in (("lat", "deep poll: 1 proc"),
                                                 ("par4", "deep poll: 4 procs"),
                                                 ("par16", "deep poll: 16 procs"))
            for d in [per_req(p, "isolated-deep")] if d]
    plot(rows, dq, deep, base + ".png", mach, tcg)
    shutil.copyfile(base + ".png", os.path.join(outdir, "latest.png"))
    print(md)
    print(f"\nwritten: {base}.md, {base}.png (and latest.md, latest.png)")


def net_section(w, path):
    """The network export's table, from net-bench.sh's raw lines, if any."""
    if not os.path.exists(path):
        return
    raw = parse_raw(path)
    nat, iso = raw.get(("native", "net"), {}), raw.get(("isolated", "net"), {})
    if not iso:
        return

    def f(d, k):
        v = d.get(k)
        return v if isinstance(v, float) else None
    w("## Network export (issue 20)\n")
    w("A second test VM with an emulated Intel IOMMU and three NICs on one hub "
      "(`selftests/ikernel/isolated/net-bench.sh`). Native: the test VM's own e1000e "
      "driver. Isolated: an e1000 handed through VFIO to a driver VM whose unmodified "
      "e1000 driver sends and receives the frames of host_stub's interface `ikn0`. "
      "Both against a peer e1000 in a network namespace; transfers are "
      "`selftests/ikernel/net_xfer` (a checked byte stream; out = from the measured "
      "interface, in = to it).\n")
    w("| measure | unit | native | isolated | isolated / native |")
    w("| --- | --- | --- | --- | --- |")
    for key, label, unit in (("ping_avg_ms", "ping round trip, average", "ms"),
                             ("tcp_out_mbit", "TCP out", "Mbit/s"),
                             ("tcp_in_mbit", "TCP in", "Mbit/s"),
                             ("udp_out_mbit", "UDP out (sent)", "Mbit/s"),
                             ("udp_received", "UDP datagrams received (of sent)", "")):
        n, i = f(nat, key), f(iso, key)
        if key == "udp_received":
            n = n and f"{n:.0f} of {f(nat, 'udp_sent') or 0:.0f}"
            i = i and f"{i:.0f} of {f(iso, 'udp_sent') or 0:.0f}"
            w(f"| {label} | | {n or 'n/a'} | {i or 'n/a'} | |")
            continue
        w(f"| {label} | {unit} | {num(n)} | {num(i)} | {num(ratio(i, n))} |")
    w("")
    w(f"Per frame of the isolated measurement ({f(iso, 'frames') or 0:.0f} frames, "
      f"both directions): {num(f(iso, 'doorbells_per_frame'))} doorbells (guest -> host), "
      f"{num(f(iso, 'interrupts_per_frame'))} interrupts (host -> guest), "
      f"{num(f(iso, 'exits_per_frame'))} KVM exits of the driver VM, of them "
      f"{num(f(iso, 'io_exits_per_frame'))} port I/O exits (doorbells and the NIC's "
      "trapped I/O BAR).\n")


def plot(rows, dq, deep, path, mach, tcg):
    """Two horizontal bar charts: isolated performance as a fraction of
    native (log scale), and doorbells per request with the targets (the
    deep-polling series last)."""
    bars = []
    for _, _, n, i, higher, short in rows:
        r = ratio(i, n)
        if r:
            bars.append((short, r if higher else 1 / r))
    door = [(short, d["kicks"]) for _, _, d, short in dq if d] + deep
    left, right, rowh, top = 330, 1140, 26, 90
    h = top + len(bars) * rowh + 80 + len(door) * rowh + 30
    c = Canvas(1200, h)
    ink, grid, blue, orange, red = (0, 0, 0), (215, 215, 215), (60, 110, 190), (220, 130, 40), (200, 30, 30)
    c.text(20, 14, f"ikfifo: isolated vs native, {mach.get('date', '')}, test VM under "
           f"{mach.get('accel', '?')}", ink, 2)
    c.text(20, 44, "isolated performance as a fraction of native (1 = native), log scale"
           + (" - under tcg only ratios mean anything" if tcg else ""), ink, 1)
    c.text(20, 58, "(latency rows: native/isolated; throughput and calls/s: isolated/native)", ink, 1)
    lo = min([r for _, r in bars] + [0.5])
    dmin = math.floor(math.log10(lo))
    dmax = 0.3

    def xlog(v):
        return left + (math.log10(v) - dmin) / (dmax - dmin) * (right - left)
    y0 = top
    for e in range(dmin, 1):
        x = xlog(10 ** e)
        c.vline(x, y0, y0 + len(bars) * rowh, grid)
        lab = f"{10 ** e:g}"
        c.text(x - Canvas.text_width(lab, 1) / 2, y0 + len(bars) * rowh + 4, lab, ink, 1)
    c.text(right - 200, y0 + len(bars) * rowh + 16, "higher is better", ink, 1)
    c.vline(xlog(0.9), y0, y0 + len(bars) * rowh, red)
    c.text(xlog(0.9) - 20, y0 - 12, "0.9", red, 1)
    for k, (label, r) in enumerate(bars):
        y = y0 + k * rowh
        c.text(20, y + 6, label[:25], ink, 2)
        c.rect(left, y + 4, max(left + 1, xlog(r)), y + rowh - 4, blue)
        c.text(min(xlog(r) + 4, right - 60), y + 9, num(r), ink, 1)
    c.vline(left, y0, y0 + len(bars) * rowh, ink)

    y0 = top + len(bars) * rowh + 75
    c.text(20, y0 - 30, "doorbells per request (guest kicks / host_stub calls)", ink, 2)
    c.text(20, y0 - 12, "targets (red): <= 2 unbatched, <= 0.05 at queue depth >= 8; lower is better", ink, 1)
    dm = max([v for _, v in door] + [2.2])

    def xlin(v):
        return left + v / dm * (right - left)
    for t in range(0, int(dm) + 1):
        c.vline(xlin(t), y0, y0 + len(door) * rowh, grid)
        c.text(xlin(t) - 3, y0 + len(door) * rowh + 4, str(t), ink, 1)
    for t in (0.05, 2):
        c.vline(xlin(t), y0, y0 + len(door) * rowh, red)
    for k, (label, v) in enumerate(door):
        y = y0 + k * rowh
        c.text(20, y + 6, label[:25], ink, 2)
        c.rect(left, y + 4, max(left + 1, xlin(v)), y + rowh - 4, orange)
        c.text(min(xlin(v) + 4, right - 60), y + 9, num(v), ink, 1)
    c.vline(left, y0, y0 + len(door) * rowh, ink)
    c.save(path)


if __name__ == "__main__":
    main()
