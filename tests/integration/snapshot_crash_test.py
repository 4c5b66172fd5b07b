#!/usr/bin/env python3
"""SIGKILL in the middle of a CSV snapshot, then an immediate restart (issue 15 item 5): the
temp file the killed writer left is removed at once (its flock died with the writer; no age
threshold), the new agent writes its snapshot, and no reader ever sees a partial file under a
final name (a watcher reads every process_*.csv it finds during the whole run)."""
import csv
import io
import os
import signal
import sys
import tempfile
import threading
import time
import shutil
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fault"))
import harness  # noqa: E402
from harness import HEADER  # noqa: E402


def temp_files(root):
    return [f for f in harness.files_under(root) if f.endswith(".tmp")]


class Watcher(threading.Thread):
    """Reads every final snapshot it sees; records any that is not whole."""

    def __init__(self, root):
        super().__init__(daemon=True)
        self.root = root
        self.stop_event = threading.Event()
        self.partial = []
        self.checked = set()

    def run(self):
        while not self.stop_event.is_set():
            for path in harness.snapshot_files(self.root):
                if path in self.checked:
                    continue
                try:
                    with open(path, "rb") as f:
                        data = f.read()
                except FileNotFoundError:
                    continue
                text = data.decode("utf-8", "surrogateescape")
                rows = list(csv.reader(io.StringIO(text, newline="")))
                whole = (text.endswith("\n") and rows and ",".join(rows[0]) == HEADER and
                         all(len(r) == len(rows[0]) for r in rows) and len(rows) > 1)
                if not whole:
                    self.partial.append(path)
                self.checked.add(path)
            time.sleep(0.01)

    def stop(self):
        self.stop_event.set()
        self.join()


class SnapshotCrashTest(unittest.TestCase):
    def test_sigkill_mid_write_then_immediate_restart(self):
        d = tempfile.mkdtemp(prefix="nodeproc-crash-")
        watcher = Watcher(d)
        watcher.start()
        try:
            slow = dict(os.environ, NODEPROC_TEST_SNAPSHOT_ROW_DELAY_MS="20")
            killed = harness.Agent(snapshot_dir=d, env=slow, listen=False)
            try:
                killed.wait_for(lambda: temp_files(d), what="a snapshot in progress")
            finally:
                killed.stop(sig=signal.SIGKILL)
            left = temp_files(d)
            self.assertEqual(len(left), 1, "the killed writer leaves its temp file behind")
            self.assertEqual(harness.snapshot_files(d), [], "no final file from the killed run")

            # At once (the temp file is seconds old): the new agent removes it at start-up.
            agent = harness.Agent(snapshot_dir=d, listen=False)
            try:
                agent.wait_for(lambda: harness.snapshot_files(d), what="the restarted agent's snapshot")
                agent.wait_for(lambda: not os.path.exists(left[0]), timeout=30,
                               what="the dead writer's temp file removed")
                self.assertIn("removed a snapshot temp file left by a killed writer", agent.log())
            finally:
                self.assertEqual(agent.stop(), 0, agent.log()[-2000:])
            self.assertEqual(temp_files(d), [], "temp file left")
            time.sleep(0.1)
        finally:
            watcher.stop()
            shutil.rmtree(d, ignore_errors=True)
        self.assertGreater(len(watcher.checked), 0, "the watcher saw the restarted agent's snapshot")
        self.assertEqual(watcher.partial, [], "a partial file was visible under a final name")


if __name__ == "__main__":
    unittest.main()
