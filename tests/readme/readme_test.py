"""Runs the README's examples, so that every command it shows works.

Each fenced ``sh`` or ``python`` block of README.md is preceded by a marker comment saying how
it is exercised; a block without one fails this test:

  <!-- readme-test: run -->          run here, in document order, against a fresh urnd, from a
                                     scratch directory holding examples/ (as the repository
                                     root would); must exit 0 and print no `urn: ...` error
  <!-- readme-test: quickstart -->   `serve` is started here and stopped with SIGTERM (exit 0);
                                     `test` must be the command .ci/run calls
  <!-- readme-test: bench -->        run with a short --benchmark_min_time
  <!-- readme-test: covered-by F --> needs a container engine or a cluster: F (a file of this
                                     repository) must exist and name each command's program

Each `run` block runs in its own session, and whatever it leaves running is killed after it; a
block that serves on a fixed loopback port (`--listen 127.0.0.1:PORT`) first needs that port free.

Environment (from ctest): URN_BUILD_DIR, the build directory; URN_SOURCE_DIR, the checkout.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

SOURCE = os.environ.get("URN_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("URN_BUILD_DIR") or os.path.join(SOURCE, "build")
MARKER = re.compile(r"<!--\s*readme-test:\s*(\S+)(?:\s+(\S+))?\s*-->")
FENCE = re.compile(r"^```(\w*)\s*$")
ERROR_LINE = re.compile(r"^(urn|urn sample|urnd): ", re.M)
# A block that starts its own server gives it a fixed loopback port (the TLS example).
FIXED_PORT = re.compile(r"listen[= ]+127\.0\.0\.1:(\d{1,5})\b")


def blocks(text):
    """(language, marker, argument, code, line) for every fenced block of the text."""
    out = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start = i
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        k = start - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        marker = MARKER.match(lines[k].strip()) if k >= 0 else None
        out.append((m.group(1), marker.group(1) if marker else None,
                    marker.group(2) if marker else None, "\n".join(lines[start + 1:j]),
                    start + 1))
        i = j + 1
    return out


def commands(code):
    """The shell commands of a block: continuation lines joined, comments and blanks dropped."""
    joined = code.replace("\\\n", " ")
    return [line.strip() for line in joined.split("\n")
            if line.strip() and not line.strip().startswith("#")]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_taken(port):
    """True when something on this machine already listens on 127.0.0.1:port."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not in use
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def kill_group(process):
    """Kills what a block left running in its process group (its own urnd, if it failed
    before stopping it), so that it cannot hold a port or answer the next run's requests."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def wait_healthy(address, seconds=60):
    urn = os.path.join(BUILD, "client", "urn")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if subprocess.run([urn, "--server", address, "--timeout", "1", "health"],
                              capture_output=True).returncode == 0:
                return True
        except OSError:
            # The quick start's `serve` may be relinking urn right now (a stale build
            # directory): the file is missing or not yet executable until the linker is done.
            pass
        time.sleep(0.1)
    return False


class ReadmeTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        with open(os.path.join(SOURCE, "README.md"), encoding="utf-8") as f:
            cls.blocks = blocks(f.read())

    def env(self, work, address):
        env = dict(os.environ)
        env.pop("URN_SANITIZE", None)
        env.update({
            "PATH": os.pathsep.join([os.path.join(BUILD, "client"),
                                     os.path.join(BUILD, "server"), env.get("PATH", "")]),
            "PYTHONPATH": os.path.join(BUILD, "python"),
            "URN_SERVER": address,
            "URN_KEY_FILE": os.path.join(work, "urn-data", "admin.key"),
            "HOME": work,
        })
        return env

    def test_every_block_says_how_it_is_tested(self):
        for language, marker, argument, code, line in self.blocks:
            if language not in ("sh", "python"):
                continue
            self.assertIn(marker, ("run", "quickstart", "bench", "covered-by"),
                          "README.md:%d: a %s block without a readme-test marker"
                          % (line, language))

    def test_run_blocks_work_in_order(self):
        work = tempfile.mkdtemp(prefix="urn-readme-")
        self.addCleanup(shutil.rmtree, work, True)
        os.symlink(os.path.join(SOURCE, "examples"), os.path.join(work, "examples"))
        address = "127.0.0.1:%d" % free_port()
        log = open(os.path.join(work, "urnd.log"), "wb")
        self.addCleanup(log.close)
        urnd = subprocess.Popen([os.path.join(BUILD, "server", "urnd"), "--listen", address,
                                 "--data-dir", os.path.join(work, "urn-data")],
                                stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(urnd.kill)
        self.assertTrue(wait_healthy(address), "urnd did not start")
        env = self.env(work, address)
        ran = 0
        for language, marker, _, code, line in self.blocks:
            if marker != "run":
                continue
            if language == "sh":
                argv = ["bash", "-e", "-u", "-c", code]
            else:
                argv = ["/usr/bin/python3", "-c", code]
            # A port the block starts a server on must be free: otherwise its server fails to
            # bind and the block's client reaches whatever holds the port (once, a urnd left
            # by an interrupted run), which fails with a misleading error.
            for port in sorted({int(p) for p in FIXED_PORT.findall(code)}):
                self.assertFalse(port_taken(port),
                                 "README.md:%d: 127.0.0.1:%d, which this block serves on, is "
                                 "already in use by another process (a urnd left by an "
                                 "interrupted run? `ss -ltnp | grep %d` shows it)"
                                 % (line, port, port))
            block = subprocess.Popen(argv, cwd=work, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
            try:
                stdout, stderr = block.communicate(timeout=300)
            finally:
                kill_group(block)
            r = subprocess.CompletedProcess(argv, block.returncode, stdout, stderr)
            where = "README.md:%d (%s block)\nstdout:\n%s\nstderr:\n%s" % (
                line, language, r.stdout[-3000:], r.stderr[-3000:])
            self.assertEqual(r.returncode, 0, where)
            self.assertIsNone(ERROR_LINE.search(r.stderr), where)
            self.assertNotIn("Traceback", r.stderr, where)
            self.assertTrue(r.stdout or r.stderr, where)
            ran += 1
        self.assertGreaterEqual(ran, 8)
        urnd.send_signal(signal.SIGTERM)
        self.assertEqual(urnd.wait(timeout=60), 0)

    def test_quickstart_serve_starts_urnd_and_test_is_what_ci_runs(self):
        quick = [code for _, marker, _, code, _ in self.blocks if marker == "quickstart"]
        self.assertEqual(len(quick), 1)
        lines = commands(quick[0])
        serve = [c for c in lines if " serve" in c]
        test = [c for c in lines if " test" in c]
        self.assertEqual(len(serve), 1)
        self.assertEqual(len(test), 1)
        with open(os.path.join(SOURCE, ".ci", "run"), encoding="utf-8") as f:
            self.assertIn(test[0].split("#")[0].strip(), f.read())
        work = tempfile.mkdtemp(prefix="urn-quickstart-")
        self.addCleanup(shutil.rmtree, work, True)
        address = "127.0.0.1:%d" % free_port()
        env = self.env(work, address)
        env["BUILD_DIR"] = BUILD
        argv = serve[0].split("#")[0].split() + ["--listen", address, "--data-dir",
                                                  os.path.join(work, "data")]
        with open(os.path.join(work, "serve.log"), "wb") as log:
            p = subprocess.Popen(argv, cwd=SOURCE, env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                healthy = wait_healthy(address, 300)
            finally:
                p.send_signal(signal.SIGTERM)
                code = p.wait(timeout=60)
        with open(os.path.join(work, "serve.log"), encoding="utf-8", errors="replace") as f:
            output = f.read()
        self.assertTrue(healthy, output)
        self.assertEqual(code, 0, output)
        self.assertTrue(os.path.exists(os.path.join(work, "data", "admin.key")))

    def test_bench_blocks_run(self):
        for _, marker, _, code, line in self.blocks:
            if marker != "bench":
                continue
            for command in commands(code):
                self.assertTrue(command.startswith("build/"), command)
                argv = ["bash", "-c", command.replace("build/", BUILD + "/", 1)]
                if "urn_bench" in command:
                    argv[-1] += " --benchmark_min_time=0.01"
                r = subprocess.run(argv, cwd=SOURCE, capture_output=True, text=True,
                                   timeout=600)
                self.assertEqual(r.returncode, 0, "README.md:%d: %s\n%s%s" % (
                    line, command, r.stdout[-2000:], r.stderr[-2000:]))
                self.assertTrue(r.stdout.strip(), command)

    def test_covered_blocks_name_a_test_that_runs_their_commands(self):
        for _, marker, argument, code, line in self.blocks:
            if marker != "covered-by":
                continue
            path = os.path.join(SOURCE, argument or "")
            self.assertTrue(argument and os.path.isfile(path),
                            "README.md:%d: covered-by names no file: %s" % (line, argument))
            with open(path, encoding="utf-8") as f:
                covering = f.read()
            for command in commands(code):
                words = command.split()
                self.assertIn(" ".join(words[:2]), covering,
                              "README.md:%d: %s does not run '%s'" % (line, argument,
                                                                      " ".join(words[:2])))
                for word in words:
                    if word.startswith("deploy/"):
                        self.assertTrue(os.path.exists(os.path.join(SOURCE, word)), word)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
