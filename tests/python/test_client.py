"""urn.Client against a real urnd: datasets, sample and shuffle streams, weight stores, usage,
and errors that carry the server's quota details."""

import copy
import os
import pickle
import subprocess
import tempfile
import threading
import time
import unittest

import grpc

import urn
from urnd_fixture import Urnd


def write(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


ROWS = 5000
TSV = "id\tlabel\tweight\n" + "".join(
    "%d\tl%d\t%d.5\n" % (i, i % 4, i % 7) for i in range(ROWS))


def _refused(code, details):
    """A grpc.RpcError as a call that urnd refused with `code` and `details` raises."""
    class Refused(grpc.RpcError):
        def code(self):
            return code

        def details(self):
            return details

        def trailing_metadata(self):
            return ()

    return Refused()


class ClientTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.urnd = Urnd()
        cls.client = cls.urnd.admin
        cls.tmp = tempfile.TemporaryDirectory()
        cls.tsv = write(cls.tmp.name, "rows.tsv", TSV)
        cls.client.create_dataset("rows", cls.tsv)

    @classmethod
    def tearDownClass(cls):
        code = cls.urnd.stop()
        if code != 0:
            raise AssertionError("urnd exited %d after SIGTERM" % code)
        cls.tmp.cleanup()

    def test_create_from_path_describes_the_columns(self):
        d = self.client.get_dataset("rows")
        self.assertEqual(d.num_rows, ROWS)
        self.assertEqual([c.name for c in d.columns], ["id", "label", "weight"])
        self.assertIn("rows", [x.name for x in self.client.list_datasets()])

    def test_create_from_rows_keeps_every_string(self):
        rows = [{"text": "tab\there", "n": 1}, {"text": "line\nbreak", "n": 2},
                {"text": None, "n": 3}]
        d = self.client.create_dataset("from_dicts", rows)
        self.assertEqual(d.num_rows, 3)
        batches = list(self.client.sample("from_dicts", bernoulli=1.0, columns=["text", "n"]))
        self.assertEqual(batches[0].columns["text"], ["tab\there", "line\nbreak", None])
        self.assertEqual(batches[0].columns["n"], [1, 2, 3])
        d = self.client.create_dataset("from_tuples", [(1, "a"), (2, "b")], columns=["k", "v"])
        self.assertEqual(d.num_rows, 2)
        with self.assertRaisesRegex(ValueError, "row 2: 1 fields, but 2 columns"):
            self.client.create_dataset("bad_tuples", [(1, "a"), (2,)], columns=["k", "v"])
        self.client.delete_dataset("from_dicts")
        self.client.delete_dataset("from_tuples")
        with self.assertRaises(urn.NotFound):
            self.client.get_dataset("from_dicts")

    def test_malformed_file_names_the_line(self):
        path = write(self.tmp.name, "bad.tsv", "a\tb\n1\t2\n3\n")
        with self.assertRaises(urn.InvalidArgument) as e:
            self.client.create_dataset("bad", path)
        self.assertIn("line 3", str(e.exception))

    def test_errors_are_sentences(self):
        with self.assertRaises(urn.NotFound) as e:
            list(self.client.sample("nope", uniform=True, n=3))
        self.assertEqual(str(e.exception), "dataset: no dataset named 'nope'")
        with self.assertRaises(urn.AlreadyExists):
            self.client.create_dataset("rows", self.tsv)
        with self.assertRaises(urn.InvalidArgument) as e:
            list(self.client.sample("rows", weight_column="label", n=3))
        self.assertIn("weighted.weight_column: 'label' is not a number at row id 0",
                      str(e.exception))
        with self.assertRaises(urn.Unauthenticated) as e:
            self.urnd.client("urn_not_a_key").usage()
        self.assertTrue(str(e.exception).startswith("not authenticated: "), str(e.exception))

    def test_sample_repeats_for_a_seed_and_streams_in_batches(self):
        a = list(self.client.sample("rows", uniform=True, n=300, seed=5, batch_size=64))
        b = list(self.client.sample("rows", uniform=True, n=300, seed=5, batch_size=300))
        self.assertEqual([len(x) for x in a], [64, 64, 64, 64, 44])
        self.assertEqual([x.offset for x in a], [0, 64, 128, 192, 256])
        self.assertTrue(all(x.total == 300 for x in a))
        ids = [r for x in a for r in x.row_ids]
        self.assertEqual(ids, b[0].row_ids)
        self.assertEqual(len(set(ids)), 300)

    def test_weighted_draws_equal_the_command_line_on_the_file(self):
        got = [r for b in self.client.sample("rows", n=60, seed=2026, weight_column="weight",
                                             replace=True) for r in b.row_ids]
        local = subprocess.run(
            [os.environ["URN_CLI_PATH"], "sample", "-H", "-v", "2026", "-r", "-n", "60", "-w",
             "3", self.tsv], capture_output=True, text=True, check=True).stdout
        expected = [int(line.split("\t")[0]) for line in local.splitlines()[1:]]
        self.assertEqual(got, expected)

    def test_start_offset_resumes_a_sample(self):
        full = [r for b in self.client.sample("rows", n=1000, seed=9, weight_column="weight",
                                              replace=True, batch_size=100) for r in b.row_ids]
        tail = [r for b in self.client.sample("rows", n=1000, seed=9, weight_column="weight",
                                              replace=True, start_offset=730) for r in b.row_ids]
        self.assertEqual(tail, full[730:])
        with self.assertRaises(urn.InvalidArgument) as e:
            list(self.client.sample("rows", uniform=True, n=10, start_offset=11))
        self.assertIn("start_offset", str(e.exception))

    def test_sample_size_is_the_rows_a_sample_gives_and_charges_none(self):
        before = self.client.usage().rows_today
        sizes = [self.client.sample_size("rows", bernoulli=0.3, seed=4),
                 self.client.sample_size("rows", query="SELECT * FROM rows WHERE weight > 2 "
                                                       "SAMPLE BY weight LIMIT 10000", seed=4)]
        self.assertEqual(self.client.usage().rows_today, before)
        rows = [sum(len(b.row_ids) for b in self.client.sample("rows", bernoulli=0.3, seed=4)),
                sum(len(b.row_ids) for b in self.client.sample(
                    "rows", query="SELECT * FROM rows WHERE weight > 2 SAMPLE BY weight "
                                  "LIMIT 10000", seed=4))]
        self.assertEqual(sizes, rows)
        self.assertTrue(all(size > 0 for size in sizes), sizes)
        with self.assertRaisesRegex(ValueError, "sample_size: give exactly one"):
            self.client.sample_size("rows")

    def test_columns_and_weights_come_with_the_rows(self):
        batch = next(self.client.sample("rows", bernoulli=0.5, seed=3, with_weight=True,
                                        columns=["label", "weight"]))
        for row, label, weight, ht in zip(batch.row_ids, batch.columns["label"],
                                          batch.columns["weight"], batch.weights):
            self.assertEqual(label, "l%d" % (row % 4))
            self.assertEqual(weight, row % 7 + 0.5)
            self.assertEqual(ht, 2.0)

    def test_shuffle_ranks_are_disjoint_and_resume(self):
        seen = []
        for rank in range(3):
            seen += [r for b in self.client.shuffle("rows", seed=1, epoch=4, rank=rank,
                                                    world_size=3, drop_last=True)
                     for r in b.row_ids]
        self.assertEqual(len(seen), 3 * (ROWS // 3))
        self.assertEqual(len(set(seen)), len(seen))
        whole = [r for b in self.client.shuffle("rows", seed=1, epoch=4, batch_size=500)
                 for r in b.row_ids]
        self.assertEqual(sorted(whole), list(range(ROWS)))
        resumed = [r for b in self.client.shuffle("rows", seed=1, epoch=4, start_offset=1234)
                   for r in b.row_ids]
        self.assertEqual(resumed, whole[1234:])
        index_space = [r for b in self.client.shuffle(n=10, seed=1) for r in b.row_ids]
        self.assertEqual(sorted(index_space), list(range(10)))

    def test_shuffle_arguments_out_of_range_name_themselves(self):
        for kw, name in (({"world_size": 0}, "world_size"), ({"rank": 3, "world_size": 3}, "rank"),
                         ({"seed": -1}, "seed"), ({"epoch": 2**64}, "epoch"),
                         ({"start_offset": -1}, "start_offset")):
            with self.assertRaisesRegex(ValueError, "shuffle: %s must be" % name):
                list(self.client.shuffle(n=3, **kw))
        with self.assertRaisesRegex(ValueError, "shuffle: n must be"):
            list(self.client.shuffle(n=2.5))
        with self.assertRaisesRegex(ValueError, "sample: seed must be"):
            list(self.client.sample("rows", uniform=True, n=3, seed=-1))

    def test_rows_with_numpy_and_torch_scalars_upload_and_bad_values_name_their_cell(self):
        import numpy
        import torch
        rows = [{"a": numpy.int64(3), "b": numpy.float32(0.5), "c": torch.tensor(7)},
                {"a": 4, "b": 1.5, "c": 8}]
        self.assertEqual(self.client.create_dataset("scalars", rows).num_rows, 2)
        batch = next(self.client.sample("scalars", bernoulli=1.0, columns=["a", "b", "c"]))
        self.assertEqual(batch.columns["a"], [3, 4])
        self.assertEqual(batch.columns["c"], [7, 8])
        self.client.delete_dataset("scalars")
        with self.assertRaisesRegex(ValueError, r"row 2, column 'a': nan is not a value"):
            self.client.create_dataset("nan", [{"a": 1.0}, {"a": float("nan")}])
        with self.assertRaisesRegex(ValueError, r"row 1, column 'b': a ndarray is not"):
            self.client.create_dataset("array", [{"a": 1, "b": numpy.arange(3)}])
        with self.assertRaises(urn.NotFound):
            self.client.get_dataset("nan")

    def test_a_key_file_argument_beats_the_key_in_the_environment(self):
        key_file = os.path.join(self.urnd.data_dir, "admin.key")
        saved = os.environ.get("URN_KEY")
        os.environ["URN_KEY"] = "urn_not_a_key"
        try:
            with urn.Client(self.urnd.address, key_file=key_file) as c:
                self.assertTrue(c.list_datasets() is not None)
            with urn.Client(self.urnd.address) as c, self.assertRaises(urn.Unauthenticated):
                c.usage()
        finally:
            if saved is None:
                del os.environ["URN_KEY"]
            else:
                os.environ["URN_KEY"] = saved

    def test_weight_store_calls_split_what_one_message_cannot_hold(self):
        # 100,000 slots: more than one GetPriorities call (65,536) and one update message.
        n = 100000
        self.client.create_weight_store("wide", n, alpha=1.0)
        self.client.set_priorities("wide", list(range(n)), [float(i % 97) for i in range(n)])
        got = self.client.get_priorities("wide")
        self.assertEqual(len(got), n)
        self.assertEqual(got[:3], [0.0, 1.0, 2.0])
        self.assertEqual(got[n - 1], float((n - 1) % 97))
        # 4096 keys of 1 KiB (4 MiB, urnd's message limit) go in messages of at most 2 MiB.
        keys = ["%04d" % i + "k" * 1020 for i in range(4096)]
        self.assertEqual(self.client.insert("wide", keys), list(range(4096)))
        # Short keys with priorities: their framing and priorities count too (300,000 of them in
        # one message of "2 MiB of keys" was 4.7 MB, refused). Multibyte keys count in bytes.
        short = ["s%06d" % i for i in range(300000)]
        self.assertEqual(self.client.insert("wide", short[:95904], [1.0] * 95904,
                                            batch_size=10 ** 6), list(range(4096, 100000)))
        self.client.create_weight_store("wider", 400000, alpha=1.0)
        self.assertEqual(len(self.client.insert("wider", short, [1.0] * len(short),
                                                batch_size=10 ** 6)), len(short))
        wide_chars = ["\u00e9" * 500 + "%05d" % i for i in range(5000)]  # 1005 bytes each
        self.assertEqual(len(self.client.insert("wider", wide_chars, batch_size=10 ** 6)), 5000)
        with self.assertRaisesRegex(ValueError, "at most 65536"):
            list(self.client.update_priorities("wide", [(list(range(70000)), [1.0] * 70000)]))

    def test_insert_refused_midway_says_what_was_stored(self):
        self.client.create_weight_store("ring", 100)
        self.assertEqual(self.client.insert("ring", ["a", "b"]), [0, 1])
        with self.assertRaises(urn.AlreadyExists) as e:
            self.client.insert("ring", ["c", "d", "e", "a", "f"], batch_size=2)
        # Messages [c, d] and [e, a]: the first is stored, the second refused whole.
        self.assertEqual(e.exception.stored_slots, [2, 3])
        self.assertIn("key \"a\" at index 1 is already stored", str(e.exception))
        self.assertIn("in the message from keys[2]; the 2 keys before it are stored",
                      str(e.exception))
        self.assertEqual(self.client.get_weight_store("ring").size, 4)

    def test_a_key_that_is_not_utf8_is_refused_before_anything_is_stored(self):
        # A protobuf string: such bytes raised inside the request stream, after earlier
        # messages were stored, without saying which.
        self.client.create_weight_store("utf8", 10)
        with self.assertRaisesRegex(ValueError, "insert: keys\\[2\\] is not valid UTF-8"):
            self.client.insert("utf8", ["a", "b", b"\xff\xfe"], batch_size=1)
        self.assertEqual(self.client.get_weight_store("utf8").size, 0)
        self.assertEqual(self.client.insert("utf8", [b"caf\xc3\xa9"]), [0])

    def test_a_client_certificate_or_key_alone_is_refused_not_sent_in_plaintext(self):
        for only in ({"tls_key": "client.key"}, {"tls_cert": "client.pem"}):
            with self.assertRaisesRegex(ValueError, "tls_cert and tls_key go together"):
                urn.Client(server="127.0.0.1:1", key="k", **only)

    def test_resource_exhausted_without_a_quota_is_not_a_quota_error(self):
        error = urn.errors.from_rpc_error(_refused(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "Received message larger than max (4206596 vs. 4194304)"))
        self.assertIsInstance(error, urn.ResourceExhausted)
        self.assertNotIsInstance(error, urn.QuotaExceeded)
        self.assertEqual(str(error), "resource exhausted: Received message larger than max "
                                     "(4206596 vs. 4194304)")

    def test_a_delete_under_way_is_aborted_and_says_try_again(self):
        error = urn.errors.from_rpc_error(_refused(
            grpc.StatusCode.ABORTED, "name: weight store 'replay' is being deleted; try again"))
        self.assertIsInstance(error, urn.Aborted)
        self.assertIn("try again", str(error))

    def test_weight_store_insert_update_sample(self):
        self.client.create_weight_store("replay", 1000, alpha=1.0)
        slots = self.client.insert("replay", ["a", "b", "c", "d"], [1.0, 1.0, 1.0, 1.0])
        self.assertEqual(slots, [0, 1, 2, 3])
        acks = list(self.client.update_priorities("replay", [([0, 1], [0.0, 0.0]),
                                                             ([2], [3.0])]))
        self.assertEqual(acks, [1, 2])
        self.assertEqual(self.client.get_priorities("replay", 0, 4), [0.0, 0.0, 3.0, 1.0])
        draw = self.client.sample_weights("replay", 200, beta=1.0, seed=11)
        self.assertEqual(set(draw.keys), {"c", "d"})
        for key, p, w in zip(draw.keys, draw.probabilities, draw.importance_weights):
            self.assertAlmostEqual(p, 0.75 if key == "c" else 0.25, places=12)
            # (N * P)^-beta normalized by the largest: N = 4 items, beta = 1.
            self.assertAlmostEqual(w, (4 * p) ** -1 / (4 * 0.25) ** -1, places=12)
        again = self.client.sample_weights("replay", 200, beta=1.0, seed=11)
        self.assertEqual(again.slots, draw.slots)
        with self.client.priority_updater("replay") as updater:
            for i in range(50):
                updater.send([3], [float(i + 1)])
            updater.wait()
            self.assertEqual(updater.acknowledged, 50)
        self.assertEqual(self.client.get_priorities("replay", 3, 1), [50.0])
        with self.client.priority_updater("replay") as updater:  # by key; "z" is not stored
            updater.send(keys=["z", "d"], priorities=[9.0, 7.0])
            updater.wait()
            self.assertEqual(updater.skipped, 1)
            with self.assertRaisesRegex(ValueError, "either slots or keys"):
                updater.send([1], [1.0], keys=["d"])
            with self.assertRaisesRegex(ValueError, "2 keys but 1 priorities"):
                updater.send(keys=["c", "d"], priorities=[1.0])
        self.assertEqual(self.client.get_priorities("replay", 3, 1), [7.0])
        with self.client.priority_updater("replay") as updater:
            sent = updater.send([3], [1.0])
            with self.assertRaisesRegex(ValueError, "was not sent"):
                updater.wait(sent + 1)  # would otherwise block for ever
            updater.wait(sent)
        # An error in the caller's own arguments or iterator is raised as it is, not hidden
        # behind gRPC's "Exception iterating requests!".
        with self.assertRaisesRegex(ValueError, "batch_size"):
            self.client.insert("replay", ["x"], batch_size=0)

        def broken():
            yield [1], [1.0]
            raise KeyError("from the caller's iterator")

        with self.assertRaisesRegex(KeyError, "caller's iterator"):
            list(self.client.update_priorities("replay", broken()))
        with self.assertRaises(urn.InvalidArgument) as e:
            self.client.set_priorities("replay", [5000], [1.0])
        self.assertIn("slots[0]: 5000 is outside [0, 1000)", str(e.exception))
        self.client.delete_weight_store("replay")

    def test_quota_errors_carry_the_details(self):
        user = self.client.create_user("py_free_user", plan="free")
        client = self.urnd.client(user.key)
        usage = client.usage()
        self.assertEqual(usage.plan, "free")
        limit = usage.datasets_limit
        for i in range(limit):
            client.create_dataset("d%d" % i, [{"x": 1}])
        with self.assertRaises(urn.QuotaExceeded) as e:
            client.create_dataset("one_too_many", [{"x": 1}])
        err = e.exception
        self.assertEqual(err.code, grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertIsNotNone(err.quota_description)
        self.assertEqual(err.quota_description,
                         "datasets: %d is above plan 'free''s limit of %d" % (limit + 1, limit))
        self.assertTrue(str(err).startswith("quota exceeded: "), str(err))
        client.close()

    def test_update_stream_error_is_raised(self):
        self.client.create_weight_store("small", 4)
        updater = self.client.priority_updater("small")
        # The refusal may arrive before the last send (which then raises it) or after.
        with self.assertRaises(urn.InvalidArgument) as e:
            updater.send([1], [1.0])
            updater.send([9], [1.0])
            updater.send([2], [1.0])
            updater.wait()
        # The stream ends at the refused update, so one sent after it is lost too.
        self.assertIn("slots[0]: 9 is outside [0, 4)", str(e.exception))
        self.assertRegex(str(e.exception), "the update stream ended there, so (sequence 2 was|"
                                           "sequences 2 to 3 were) not applied$")
        closed = self.client.priority_updater("small")
        closed.close()
        with self.assertRaises(urn.FailedPrecondition):
            closed.send([1], [2.0])
        self.client.delete_weight_store("small")

    def test_a_send_refused_by_the_client_leaves_nothing_to_wait_for(self):
        # Before, the sequence number was taken before the message was built: a slot or value
        # the message cannot hold left a sequence that never came, and close() hung for ever.
        self.client.create_weight_store("waits", 4)
        updater = self.client.priority_updater("waits")
        updater.send([0], [1.0])
        for slots, priorities, keys, error in (
                ([1.5], [2.0], None, TypeError),
                ([1], [None], None, "priorities\\[0\\] is None"),
                ([1], [float("inf")], None, "priorities\\[0\\] is inf"),
                ([1], [-1.0], None, "priorities\\[0\\] is -1.0"),
                (None, [1.0], [5], "keys\\[0\\] is 5; a key is a str or bytes"),
                (None, [1.0], ["\ud800"], "keys\\[0\\] is not valid Unicode"),
                (None, [1.0], [b"\xff\xfe"], "keys\\[0\\] is not valid UTF-8"),
                # 65,536 keys of 70 bytes: within the entry limit, over urnd's 4 MiB message
                # limit, which ended the stream.
                (None, [1.0] * 65536, ["%069d" % i for i in range(65536)], "over the")):
            if isinstance(error, str):
                with self.assertRaisesRegex(ValueError, error):
                    updater.send(slots, priorities, keys)
            else:
                with self.assertRaises(error):
                    updater.send(slots, priorities, keys)
        closing = threading.Thread(target=updater.close)
        closing.start()
        closing.join(20)
        self.assertFalse(closing.is_alive(), "close() waits for a sequence never sent")
        self.assertEqual(updater.acknowledged, 1)
        self.client.delete_weight_store("waits")

    def test_errors_cross_processes(self):
        error = urn.QuotaExceeded(grpc.StatusCode.RESOURCE_EXHAUSTED, "rows", retry_after=3.0,
                                  quota_subject="user:x", quota_description="rows per day",
                                  reason="ROWS_PER_DAY", metadata={"plan": "free"})
        for copied in (pickle.loads(pickle.dumps(error)), copy.copy(error)):
            self.assertIs(type(copied), urn.QuotaExceeded)
            self.assertEqual(str(copied), str(error))
            self.assertEqual((copied.code, copied.retry_after, copied.metadata),
                             (error.code, 3.0, {"plan": "free"}))

    def test_a_stream_timeout_cuts_no_epoch(self):
        # Each stream may take 0.3 s; reading this one takes ~2 s. It continues on new streams
        # from where it was, with the same rows, instead of raising DeadlineExceeded.
        client = self.urnd.client(self.client._key, stream_timeout=0.3)
        expected = [r for b in self.client.shuffle(n=20000, seed=5, batch_size=1000)
                    for r in b.row_ids]
        got = []
        for batch in client.shuffle(n=20000, seed=5, batch_size=1000):
            got.extend(batch.row_ids)
            time.sleep(0.1)
        self.assertEqual(got, expected)
        client.close()

    def test_weight_store_reads_refuse_what_is_out_of_range(self):
        self.client.create_weight_store("ranges", 4)
        with self.assertRaisesRegex(ValueError, "batch_size must be a whole number in \\[1, "):
            self.client.sample_weights("ranges", 0)
        with self.assertRaisesRegex(ValueError, "count must be a whole number in \\[0, 2\\]"):
            self.client.get_priorities("ranges", 2, 10)
        with self.assertRaisesRegex(ValueError, "first_slot must be a whole number in \\[0, 4\\]"):
            self.client.get_priorities("ranges", 10)
        self.assertEqual(self.client.get_priorities("ranges", 4), [])
        with self.assertRaisesRegex(ValueError, "insert: keys\\[1\\] is 5"):
            self.client.insert("ranges", ["a", 5])
        with self.assertRaisesRegex(ValueError, r"row 1: column names must be strings \(or "
                                                r"ints\), not \(1, 2\)"):
            self.client.create_dataset("tuple_names", [{(1, 2): "a"}])
        # An int name is written as its digits, as JSON does (pandas rows without a header);
        # an integer tensor is a whole number like an int.
        d = self.client.create_dataset("int_names", [{0: "a", 1: 2}])
        self.assertEqual([c.name for c in d.columns], ["0", "1"])
        self.client.delete_dataset("int_names")
        with self.assertRaisesRegex(ValueError, "row 2: a string is not valid Unicode"):
            self.client.create_dataset("surrogate", [{"a": "x"}, {"a": "\ud800"}])
        self.client.delete_weight_store("ranges")


class ResumeTest(unittest.TestCase):
    """A shuffle stream cut by a crash of urnd continues, after its restart, exactly where it
    stopped: no row is lost or repeated."""

    def test_stream_resumes_after_urnd_restarts(self):
        import signal
        import subprocess
        with Urnd() as server:
            n = 3000000  # more than gRPC's flow-control windows buffer
            expected = [r for b in server.admin.shuffle(n=n, seed=3, batch_size=8192)
                        for r in b.row_ids]
            client = urn.Client(server.address, key_file=os.path.join(server.data_dir,
                                                                      "admin.key"),
                                max_attempts=60, initial_backoff=0.1, max_backoff=0.5)
            calls = []
            shuffle = client._sampling.Shuffle
            client._sampling.Shuffle = lambda *a, **k: (calls.append(k), shuffle(*a, **k))[1]
            stream = client.shuffle(n=n, seed=3, batch_size=1000)
            got = []
            for batch in stream:
                got += batch.row_ids
                if len(got) == 5000:
                    break
            server.process.send_signal(signal.SIGKILL)
            server.process.wait()
            server.process = subprocess.Popen(
                [os.environ["URND_PATH"], "--listen", server.address, "--data-dir",
                 server.data_dir], stdout=server.log, stderr=subprocess.STDOUT)
            for batch in stream:
                got += batch.row_ids
            self.assertGreaterEqual(len(calls), 2, "the stream was never cut")
            self.assertEqual(got, expected)
            client.close()


class DailyQuotaTest(unittest.TestCase):
    """A plan of 100 rows a day: the 101st row is refused with RetryInfo until midnight UTC."""

    def test_rows_per_day_error_says_when_to_retry(self):
        with tempfile.TemporaryDirectory() as tmp:
            config = write(tmp, "urnd.yaml", "plans:\n  tiny:\n    rows_per_day: 100\n"
                           "    features: [sample]\n")
            with Urnd("--config", config) as server:
                user = server.admin.create_user("tiny_user", plan="tiny")
                client = server.client(user.key)
                with self.assertRaises(urn.PermissionDenied):
                    client.create_weight_store("w", 10)
                client.create_dataset("mine", [{"x": i} for i in range(1000)])
                rows = [r for b in client.sample("mine", uniform=True, n=100) for r in b.row_ids]
                self.assertEqual(len(rows), 100)
                with self.assertRaises(urn.QuotaExceeded) as e:
                    list(client.sample("mine", uniform=True, n=1))
                err = e.exception
                self.assertGreater(err.retry_after, 0)
                self.assertLessEqual(err.retry_after, 86400)
                self.assertEqual(err.quota_description, "daily rows of plan 'tiny' used up: 100 of 100 "
                                 "today (UTC), 1 asked")
                self.assertRegex(str(err), r"^quota exceeded: .*; retry after \d+(h|m|s)")
                self.assertEqual(client.usage().rows_today, 100)
                client.close()


if __name__ == "__main__":
    unittest.main()
