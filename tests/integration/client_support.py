"""Helpers for the hbc integration tests: write an hbc config next to a running
hbd and start the real hbc against it; everything is stopped on exit."""

import contextlib
import os
import signal
import subprocess
import time

import yaml

from hbtest import HttpError, hb_binary


class Hbc:
    def __init__(self, hbd, config, args=(), name="client01", server="127.0.0.1", tag="hbc"):
        self.hbd = hbd
        cfg = {"name": name, "hb_port": hbd.hb_port, "interval": 1}
        cfg.update(config)
        self.config_path = os.path.join(hbd.dir, f"{tag}.yaml")
        with open(self.config_path, "w") as f:
            yaml.safe_dump(cfg, f)
        self.log_path = os.path.join(hbd.dir, f"{tag}.log")
        self.argv = [hb_binary("hbc"), "-v", "-c", self.config_path, *args, server]
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=open(self.log_path, "w"))
        return self

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        return self.proc.returncode if self.proc else None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def run_hbc(args, timeout=20, config_path=None):
    """Runs hbc to completion (one-shot modes, --help, bad configs)."""
    argv = [hb_binary("hbc")]
    if config_path:
        argv += ["-c", config_path]
    return subprocess.run(argv + list(args), capture_output=True, text=True, timeout=timeout)


def plugins_of(hbd, host):
    """The host's latest plugin data ({} while hbd does not know the host yet)."""
    try:
        return hbd.get_json(f"/api/0/hosts/{host}/plugins")["plugins"]
    except HttpError as e:
        if e.status == 404:
            return {}
        raise
