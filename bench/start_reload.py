#!/usr/bin/python3
"""Start and reload of ringfenced against nft -f, timed from outside.

start_reload.py RINGFENCED RINGFENCECTL CONFIG NS RUNS EDIT_FILE

Creates network namespace NS (it must not exist; it is always removed),
with a device-facing veth dev0 whose connected networks hold the generated
devices, so that the daemon pins their neighbours as on a real gateway.
Then, in NS and in one run:
  - `nft -f` of the text `ringfencectl compile` prints, RUNS times (no table
    before each);
  - ringfenced from exec to READY=1 (sent once the table is in the kernel
    and the event loop runs), RUNS times, each with no table before it, as
    after a reboot; its peak RSS;
  - per start, two reloads of EDIT_FILE (one port added, then removed):
    SIGHUP to the daemon's "policy reloaded" line.
Prints one line of figures (medians, ms):
  nft_ms=... start_ms=... ratio=... reload_ms=... rss_mb=... devices=...
"""
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

daemon, ctl, config, ns, runs, edit = sys.argv[1:7]
runs = int(runs)
work = tempfile.mkdtemp()


def sh(*cmd, **kw):
    return subprocess.run(list(cmd), check=True, **kw)


def in_ns(*cmd, **kw):
    return sh("ip", "netns", "exec", ns, *cmd, **kw)


def no_table():
    subprocess.run(["ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "ringfence"],
                   stderr=subprocess.DEVNULL)


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Daemon:
    """ringfenced in NS, its stderr read by a thread into timed lines."""

    def __init__(self, run):
        self.notify_path = os.path.join(work, f"notify{run}")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.lines = queue.Queue()
        env = dict(os.environ, NOTIFY_SOCKET=self.notify_path)
        self.started = time.monotonic()
        # ip netns exec execs the daemon: the pid is the daemon's.
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, daemon, "--config", config, "--bus", "none",
             "--state-dir", os.path.join(work, f"state{run}")],
            env=env, stderr=subprocess.PIPE)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.put((time.monotonic(), line))
        self.lines.put((time.monotonic(), None))

    def wait_ready(self, timeout=300):
        self.notify.settimeout(timeout)
        while True:
            msg = self.notify.recv(65536).decode(errors="replace")
            if "READY=1" in msg.split("\n"):
                return time.monotonic()

    def wait_line(self, needle, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            at, line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if line is None:
                raise SystemExit(f"ringfenced exited while waiting for {needle!r}")
            if needle in line:
                return at

    def drain(self):
        while not self.lines.empty():
            self.lines.get_nowait()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.notify.close()


def setup():
    sh("ip", "netns", "add", ns)
    in_ns("ip", "link", "add", "dev0", "type", "veth", "peer", "name", "dev0p")
    for ifc in ("dev0", "dev0p", "lo"):
        in_ns("ip", "link", "set", ifc, "up")
    # The generator's devices: 100.64.0.0/10 and 2001:db8:64::/48.
    in_ns("ip", "addr", "add", "100.127.255.254/10", "dev", "dev0")
    in_ns("ip", "addr", "add", "2001:db8:64::ffff:ffff/48", "dev", "dev0", "nodad")


def main():
    original = open(edit).read()
    # One port more, or one less if an earlier benchmark left it added.
    if "ports: [443, 444]" in original:
        changed = original.replace("ports: [443, 444]", "ports: [443]", 1)
    elif "ports: [443]" in original:
        changed = original.replace("ports: [443]", "ports: [443, 444]", 1)
    else:
        raise SystemExit(f"{edit}: no 'ports: [443]' to change")
    text = os.path.join(work, "ruleset.nft")
    with open(text, "w") as out:
        sh(ctl, "compile", "--config", config, stdout=out, stderr=subprocess.DEVNULL)
    nft, starts, reloads, rss = [], [], [], []
    for _ in range(runs):
        no_table()
        t = time.monotonic()
        in_ns("nft", "-f", text)
        nft.append((time.monotonic() - t) * 1000)
    devices = 0
    for run in range(runs):
        no_table()
        d = Daemon(run)
        try:
            ready = d.wait_ready()
            starts.append((ready - d.started) * 1000)
            d.wait_line(b"in force")
            time.sleep(0.3)
            d.drain()
            for j in range(2):
                edited = changed if j == 0 else original
                with open(edit, "w") as f:
                    f.write(edited)
                t = time.monotonic()
                d.proc.send_signal(signal.SIGHUP)
                reloads.append((d.wait_line(b"policy reloaded") - t) * 1000)
            rss.append(peak_rss_mb(d.proc.pid))
        finally:
            with open(edit, "w") as f:
                f.write(original)
            d.stop()
    devices = len(os.listdir(os.path.join(os.path.dirname(config), "devices")))
    n, s = statistics.median(nft), statistics.median(starts)
    print("nft_ms=%.0f start_ms=%.0f ratio=%.2f reload_ms=%.1f rss_mb=%.0f devices=%d"
          % (n, s, s / n, statistics.median(reloads), max(rss), devices))


try:
    setup()
    main()
finally:
    no_table()
    subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
