#!/usr/bin/python3
"""Start and reload of ringfenced against nft -f, timed from outside.

start_reload.py RINGFENCED RINGFENCECTL CONFIG NS RUNS EDIT_FILE

Creates network namespace NS (it must not exist; it is always removed),
with a device-facing veth dev0 whose connected networks hold the generated
devices, so that the daemon pins their neighbours as on a real gateway.
Then, in NS and in one run, RUNS times in turn (each with no table before
it, and a second after a table was deleted for the kernel to free it):
  - `nft -f` of the text `ringfencectl compile` prints;
  - ringfenced from exec to READY=1 (sent once the table is in the kernel
    and the event loop runs), as after a reboot, with an empty state
    directory: a first start, which parses and compiles every profile; its
    peak RSS;
  - per start, once its compiled policy is saved and 0.5 s more (the
    daemon is idle), two reloads of EDIT_FILE (one port added, then
    removed), each once the one before has saved its compiled policy:
    SIGHUP to the daemon's "policy reloaded" line;
  - then the same daemon started again with that state directory, once its
    compiled policy is saved, with no table before it (a reboot of a gateway
    that ran before): exec to READY=1, and its start check's verdict.
The daemon runs with the environment the systemd unit gives it (its
Environment= lines). Prints one line of figures (medians, ms):
  nft_ms=... start_ms=... ratio=... restart_ms=... restart_ratio=...
  reload_ms=... rss_mb=... restart_rss_mb=... checks_same=K/RUNS devices=...
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
unit = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "systemd",
                    "ringfenced.service.in")


def unit_environment():
    env = {}
    with open(unit) as f:
        for line in f:
            if line.startswith("Environment="):
                key, _, value = line.strip()[len("Environment="):].partition("=")
                env[key] = value
    return env


def sh(*cmd, **kw):
    return subprocess.run(list(cmd), check=True, **kw)


def in_ns(*cmd, **kw):
    return sh("ip", "netns", "exec", ns, *cmd, **kw)


def no_table():
    """No table, as after a reboot; and a second for the kernel to free the
    one deleted (it does so on its own threads), which would otherwise slow
    whatever is measured next."""
    deleted = subprocess.run(
        ["ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "ringfence"],
        stderr=subprocess.DEVNULL).returncode == 0
    if deleted:
        time.sleep(1.0)


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Daemon:
    """ringfenced in NS, its stderr read by a thread into timed lines."""

    def __init__(self, run, state):
        self.notify_path = os.path.join(work, f"notify{run}-{len(os.listdir(work))}")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.lines = queue.Queue()
        env = dict(os.environ, NOTIFY_SOCKET=self.notify_path, **unit_environment())
        self.started = time.monotonic()
        # ip netns exec execs the daemon: the pid is the daemon's.
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, daemon, "--config", config, "--bus", "none",
             "--state-dir", state],
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
                self.last_line = line.decode(errors="replace")
                return at

    def drain(self):
        while not self.lines.empty():
            self.lines.get_nowait()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.notify.close()


def wait_saved(path, after):
    """Until PATH (saved by rename) was written at or after AFTER (time.time())."""
    deadline = time.monotonic() + 300
    while not (os.path.exists(path) and os.stat(path).st_mtime >= after):
        if time.monotonic() > deadline:
            raise SystemExit(f"{path} not saved")
        time.sleep(0.05)


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
    nft, starts, reloads, rss, restarts, restart_rss, same = [], [], [], [], [], [], 0
    for run in range(runs):
        # nft -f and the daemon take turns, so that a machine that is slower
        # for a while slows both.
        no_table()
        t = time.monotonic()
        in_ns("nft", "-f", text)
        nft.append((time.monotonic() - t) * 1000)
        state = os.path.join(work, f"state{run}")
        compiled = os.path.join(state, "compiled-policy")
        no_table()
        d = Daemon(run, state)
        try:
            ready = d.wait_ready()
            starts.append((ready - d.started) * 1000)
            d.wait_line(b"in force")
            wait_saved(compiled, 0)
            time.sleep(0.5)  # the compile cache is filled meanwhile
            d.drain()
            for j in range(2):
                edited = changed if j == 0 else original
                with open(edit, "w") as f:
                    f.write(edited)
                t, sent = time.monotonic(), time.time()
                d.proc.send_signal(signal.SIGHUP)
                reloads.append((d.wait_line(b"policy reloaded") - t) * 1000)
                # The next reload once this one's compiled policy is saved.
                wait_saved(compiled, sent)
                time.sleep(0.2)
            rss.append(peak_rss_mb(d.proc.pid))
        finally:
            with open(edit, "w") as f:
                f.write(original)
        d.stop()
        no_table()
        d = Daemon(run, state)
        try:
            ready = d.wait_ready()
            restarts.append((ready - d.started) * 1000)
            d.wait_line(b"start check", timeout=300)
            restart_rss.append(peak_rss_mb(d.proc.pid))
        finally:
            d.stop()
        same += 1 if "gives the policy started from" in d.last_line else 0
    devices = len(os.listdir(os.path.join(os.path.dirname(config), "devices")))
    n, s, r = statistics.median(nft), statistics.median(starts), statistics.median(restarts)
    print("nft_ms=%.0f start_ms=%.0f ratio=%.2f restart_ms=%.0f restart_ratio=%.2f reload_ms=%.1f"
          " rss_mb=%.0f restart_rss_mb=%.0f checks_same=%d/%d devices=%d"
          % (n, s, s / n, r, r / n, statistics.median(reloads), max(rss), max(restart_rss), same,
             runs, devices))


try:
    setup()
    main()
finally:
    no_table()
    subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
