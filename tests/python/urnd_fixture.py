"""Starts the real urnd for the Python tests: a fresh data directory, a free loopback port,
and a bounded wait until it answers with its admin key. Paths come from ctest's environment
(URND_PATH, and PYTHONPATH holding the built urn package)."""

import os
import shutil
import socket
import subprocess
import tempfile
import time

import urn


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Urnd:
    """urnd as a subprocess; use as a context manager. `admin` is a Client with the admin key."""

    def __init__(self, *flags):
        self.dir = tempfile.mkdtemp(prefix="urn-py-")
        self.data_dir = os.path.join(self.dir, "data")
        self.address = "127.0.0.1:%d" % free_port()
        self.log = open(os.path.join(self.dir, "urnd.log"), "wb")
        self.process = subprocess.Popen(
            [os.environ["URND_PATH"], "--listen", self.address, "--data-dir", self.data_dir,
             *flags], stdout=self.log, stderr=subprocess.STDOUT)
        self.admin = None
        key_path = os.path.join(self.data_dir, "admin.key")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("urnd exited %d: %s" % (self.process.returncode, self.output()))
            if os.path.exists(key_path):
                client = urn.Client(self.address, key_file=key_path, timeout=2)
                try:
                    client.usage()
                    self.admin = urn.Client(self.address, key_file=key_path)
                    client.close()
                    return
                except urn.Error:
                    client.close()
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("urnd did not start: " + self.output())

    def output(self):
        self.log.flush()
        with open(self.log.name, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def client(self, key, **options):
        return urn.Client(self.address, key=key, **options)

    def stop(self):
        if self.admin is not None:
            self.admin.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return self.process.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
