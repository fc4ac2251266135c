"""urn.torch against a real urnd and real PyTorch (Debian's python3-torch): UrnSampler in a
DataLoader with worker processes, ranks, resuming, weighted and query modes, and a
prioritized-replay loop."""

import collections
import os
import tempfile
import threading
import unittest

import torch
from torch.utils.data import DataLoader, Dataset

import urn
from urn.torch import PrioritizedReplay, UrnSampler
from urnd_fixture import Urnd

ROWS = 1000


class RowIds(Dataset):
    """A map-style dataset whose item i is (i, i % 4): what a worker would load for row i."""

    def __len__(self):
        return ROWS

    def __getitem__(self, i):
        return torch.tensor([i, i % 4])


class TorchTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.urnd = Urnd()
        cls.client = cls.urnd.admin
        # Class c of row i is i % 4, with weight c + 1: P(class c) = (c + 1) / 10.
        cls.client.create_dataset("rows", [{"id": i, "cls": i % 4, "w": i % 4 + 1}
                                           for i in range(ROWS)])

    @classmethod
    def tearDownClass(cls):
        cls.urnd.stop()

    def sampler(self, **kw):
        return UrnSampler("rows", client=self.client, seed=kw.pop("seed", 42), **kw)

    def test_dataloader_with_two_workers_sees_every_row_once_per_epoch(self):
        sampler = self.sampler(rank=0, world_size=1)
        loader = DataLoader(RowIds(), batch_size=64, sampler=sampler, num_workers=2)
        epochs = []
        for epoch in range(2):
            sampler.set_epoch(epoch)
            ids = [int(x) for batch in loader for x in batch[:, 0]]
            self.assertEqual(sorted(ids), list(range(ROWS)))
            epochs.append(ids)
        self.assertNotEqual(epochs[0], epochs[1])
        sampler.set_epoch(0)
        self.assertEqual(list(sampler), epochs[0])  # the loader kept the sampler's order

    def test_a_sampler_closes_the_client_it_made_but_not_one_passed_in(self):
        key_file = os.path.join(self.urnd.data_dir, "admin.key")
        with UrnSampler("rows", seed=1, server=self.urnd.address, key_file=key_file) as sampler:
            self.assertEqual(sorted(sampler), list(range(ROWS)))
            made = sampler.client
        with self.assertRaises(ValueError):  # grpc refuses calls on a closed channel
            made.get_dataset("rows")
        collected = UrnSampler("rows", seed=1, server=self.urnd.address, key_file=key_file)
        made = collected.client
        del collected  # closed when the sampler is collected, too
        with self.assertRaises(ValueError):
            made.get_dataset("rows")
        with self.sampler() as sampler:
            self.assertEqual(len(sampler), ROWS)
        self.assertEqual(self.client.get_dataset("rows").num_rows, ROWS)

    def test_ranks_get_disjoint_slices(self):
        ranks = [list(self.sampler(rank=r, world_size=2)) for r in range(2)]
        self.assertEqual([len(r) for r in ranks], [500, 500])
        self.assertEqual(set(ranks[0]) & set(ranks[1]), set())
        self.assertEqual(sorted(ranks[0] + ranks[1]), list(range(ROWS)))
        # 1000 rows over 3 ranks: padded to 334 each by wrapping, or cut to 333.
        padded = [list(self.sampler(rank=r, world_size=3)) for r in range(3)]
        self.assertEqual([len(r) for r in padded], [334, 334, 334])
        self.assertEqual(set().union(*padded), set(range(ROWS)))
        cut = [list(self.sampler(rank=r, world_size=3, drop_last=True)) for r in range(3)]
        self.assertEqual(sum(len(set(r)) for r in cut), 999)
        self.assertEqual(len(set().union(*cut)), 999)
        ordered = [list(self.sampler(rank=r, world_size=2, shuffle=False)) for r in range(2)]
        self.assertEqual(ordered[1][:3], [1, 3, 5])

    def test_resumed_sampler_continues_exactly(self):
        for kw in ({}, {"weight_column": "w"},
                   {"query": "SELECT * FROM rows WHERE cls != 2 SAMPLE BY w LIMIT 500"}):
            first = self.sampler(rank=1, world_size=2, **kw)
            first.set_epoch(3)
            whole = list(first)
            it = iter(first)
            head = [next(it) for _ in range(137)]
            state = first.state_dict()
            self.assertEqual(state["position"], 137)
            second = self.sampler(rank=1, world_size=2, **kw)
            second.load_state_dict(state)
            self.assertEqual(head + list(second), whole, kw)
            with self.assertRaises(ValueError):
                self.sampler(rank=0, world_size=2, **kw).load_state_dict(state)

    def test_a_state_saved_after_a_complete_epoch_resumes_with_the_next_epoch(self):
        sampler = self.sampler(rank=0, world_size=2)
        epochs = []
        for epoch in range(3):
            sampler.set_epoch(epoch)
            epochs.append(list(sampler))
        sampler.set_epoch(1)
        list(sampler)
        state = sampler.state_dict()
        self.assertEqual((state["epoch"], state["position"]), (1, 500))
        resumed = self.sampler(rank=0, world_size=2)
        resumed.load_state_dict(state)
        after = []
        for epoch in range(state["epoch"], 3):
            resumed.set_epoch(epoch)
            after.append(list(resumed))
        self.assertEqual(after, [[], epochs[2]])  # epoch 1 was finished: nothing is repeated

    def test_a_state_of_another_configuration_is_refused(self):
        self.client.create_dataset("rows_again", [{"id": i, "w": 1} for i in range(ROWS)])
        try:
            for saved, other, key in (
                    ({"weight_column": "w", "num_samples": 100},
                     {"weight_column": "w", "num_samples": 200}, "num_samples"),
                    ({}, {"drop_last": True}, "drop_last"),
                    ({}, {"shuffle": False}, "mode")):
                state = dict(self.sampler(rank=1, world_size=3, **saved).state_dict(),
                             position=10)
                with self.assertRaisesRegex(ValueError, key):
                    self.sampler(rank=1, world_size=3, **other).load_state_dict(state)
            state = self.sampler().state_dict()
            with self.assertRaisesRegex(ValueError, "dataset"):
                UrnSampler("rows_again", client=self.client, seed=42).load_state_dict(state)
        finally:
            self.client.delete_dataset("rows_again")

    def test_weighted_slices_honour_drop_last_and_the_bound_on_draws(self):
        padded = [list(self.sampler(weight_column="w", num_samples=100, rank=r, world_size=3))
                  for r in range(3)]
        cut = [list(self.sampler(weight_column="w", num_samples=100, rank=r, world_size=3,
                                 drop_last=True)) for r in range(3)]
        self.assertEqual([len(x) for x in padded], [34, 34, 34])
        self.assertEqual([len(x) for x in cut], [33, 33, 33])
        whole = list(self.sampler(weight_column="w", num_samples=99, rank=0, world_size=1))
        self.assertEqual(cut[0] + cut[1] + cut[2], whole)  # one sequence, sliced
        with self.assertRaisesRegex(ValueError, "num_samples"):
            self.sampler(weight_column="w", num_samples=2**31 + 1)
        with self.assertRaisesRegex(ValueError, "num_samples"):
            self.sampler(weight_column="w", num_samples=2**31, rank=0, world_size=3)

    def test_an_iteration_left_early_does_not_shorten_the_next(self):
        sampler = self.sampler(rank=0, world_size=2)
        whole = list(sampler)
        it = iter(sampler)
        head = [next(it) for _ in range(4)]
        del it
        self.assertEqual(head, whole[:4])
        self.assertEqual(list(sampler), whole)
        self.assertEqual(len(whole), len(sampler))

    def test_bad_arguments_name_themselves(self):
        for kw, name in (({"rank": 1.5, "world_size": 3}, "rank"),
                         ({"rank": 2, "world_size": 2}, "rank"),
                         ({"world_size": 0, "rank": 0}, "world_size"),
                         ({"seed": -1}, "seed"),
                         ({"weight_column": "w", "num_samples": -5}, "num_samples"),
                         ({"num_samples": 5}, "num_samples is the number of weighted draws")):
            with self.assertRaisesRegex(ValueError, name):
                self.sampler(**kw)
        sampler = self.sampler()
        with self.assertRaisesRegex(ValueError, "epoch"):
            sampler.set_epoch(-1)
        state = dict(sampler.state_dict(), epoch=7, position=10 ** 9)
        with self.assertRaises(ValueError):
            sampler.load_state_dict(state)
        self.assertEqual(sampler.epoch, 0)  # a refused state changes nothing

    def test_resume_after_the_batches_a_dataloader_consumed(self):
        sampler = self.sampler()
        loader = DataLoader(RowIds(), batch_size=50, sampler=sampler, num_workers=2)
        seen = []
        for batch in loader:
            seen += [int(x) for x in batch[:, 0]]
            if len(seen) == 300:
                break
        state = sampler.state_dict(consumed=len(seen))
        resumed = self.sampler()
        resumed.load_state_dict(state)
        rest = [int(x) for batch in DataLoader(RowIds(), batch_size=50, sampler=resumed)
                for x in batch[:, 0]]
        self.assertEqual(sorted(seen + rest), list(range(ROWS)))

    def test_weighted_draws_follow_the_weights(self):
        n = 40000
        draws = list(self.sampler(weight_column="w", num_samples=n, rank=0, world_size=1))
        self.assertEqual(len(draws), n)
        counts = collections.Counter(i % 4 for i in draws)
        # Exact distribution: P(class c) = (c + 1) / 10. Pearson chi-square with 3 degrees of
        # freedom; 16.27 is its 0.999 quantile (the seed is fixed, so this cannot flake).
        chi2 = sum((counts[c] - n * (c + 1) / 10) ** 2 / (n * (c + 1) / 10) for c in range(4))
        self.assertLess(chi2, 16.27, counts)
        # Ranks split one sequence: rank r's draws are [r * m, (r + 1) * m) of world 1's.
        halves = [list(self.sampler(weight_column="w", num_samples=n, rank=r, world_size=2))
                  for r in range(2)]
        self.assertEqual(halves[0] + halves[1], draws)

    def test_query_mode_slices_the_query_rows(self):
        q = "SELECT * FROM rows WHERE cls = 1 SAMPLE BY w LIMIT 100"
        whole = list(self.sampler(query=q))
        self.assertEqual(len(whole), 100)
        self.assertTrue(all(i % 4 == 1 for i in whole))
        parts = [list(self.sampler(query=q, rank=r, world_size=4)) for r in range(4)]
        self.assertEqual(sum(parts, []), whole)
        before = self.client.usage().rows_today
        self.assertEqual([len(self.sampler(query=q, rank=r, world_size=3)) for r in range(3)],
                         [34, 34, 34])
        self.assertEqual(self.client.usage().rows_today, before)  # len() reads no rows

    def test_prioritized_replay_keeps_the_priorities_it_wrote(self):
        replay = PrioritizedReplay(self.client, "replay", capacity=512, alpha=0.6)
        slots = replay.add(["t%d" % i for i in range(512)], torch.ones(512))
        self.assertEqual(slots, list(range(512)))
        written = {}
        generator = torch.Generator().manual_seed(7)
        for step in range(1000):
            batch = replay.sample(32, beta=0.4, seed=step)
            self.assertEqual(len(batch), 32)
            self.assertEqual(batch.weights.dtype, torch.float32)
            self.assertTrue(bool((batch.weights > 0).all() and (batch.weights <= 1).all()))
            td = torch.rand(32, generator=generator, dtype=torch.float64) * 10
            replay.update(batch, td)
            for slot, value in zip(batch.slots, td.tolist()):
                written[slot] = abs(value) + replay.eps
        replay.flush()
        replay.close()
        stored = self.client.get_priorities("replay")
        for slot, value in written.items():
            self.assertEqual(stored[slot], value)
        untouched = [s for s in range(512) if s not in written]
        self.assertTrue(all(stored[s] == 1.0 + replay.eps for s in untouched))


    def test_prioritized_replay_skips_the_update_of_an_item_evicted_since_its_draw(self):
        replay = PrioritizedReplay(self.client, "ring", capacity=4, alpha=1.0)
        replay.add(["t0", "t1", "t2", "t3"], [1.0, 1.0, 1.0, 1.0])
        batch = replay.sample(2, seed=3)
        replay.add(["t4", "t5", "t6", "t7"])  # the ring evicts every item drawn
        replay.update(batch, [1e-3, 1e-3])
        replay.flush()
        self.assertEqual(replay.skipped, 2)
        # By slot the update would have landed on the new items; by key they keep theirs.
        new = 1.0 + replay.eps  # the largest priority seen
        self.assertEqual(self.client.get_priorities("ring"), [new] * 4)
        later = replay.sample(1, seed=4)
        replay.update(later, [2.0])
        replay.close()
        self.assertEqual(replay.skipped, 2)
        self.assertEqual(self.client.get_priorities("ring")[later.slots[0]], 2.0 + replay.eps)

    def test_prioritized_replay_reports_a_refused_update_once_then_goes_on(self):
        replay = PrioritizedReplay(self.client, "recovering", capacity=8, alpha=1.0)
        replay.add(["a", "b"], [1.0, 1.0])
        # A priority the server would refuse is refused before it is sent, naming it.
        with self.assertRaisesRegex(ValueError, r"priorities\[1\] is nan"):
            replay.update([0, 1], [1.0, float("nan")])
        # The server's refusal ends the stream: the message says which updates were lost.
        with self.assertRaises(urn.InvalidArgument) as e:
            replay.update([100], [1.0])
            replay.update([1], [5.0])  # raises the refusal if it has arrived already
            replay.flush()
        self.assertIn("slots[0]: 100 is outside [0, 8)", str(e.exception))
        self.assertRegex(str(e.exception),
                         r"not applied$")  # "sequence 1 was" or "sequences 1 to 2 were"
        # The error was reported: the replay is usable again (before, every later update,
        # flush and close raised it again).
        replay.update([1], [3.0])
        replay.flush()
        replay.close()
        self.assertEqual(self.client.get_priorities("recovering", 0, 2),
                         [1.0 + replay.eps, 3.0 + replay.eps])

    def test_prioritized_replay_shares_one_stream_between_threads(self):
        replay = PrioritizedReplay(self.client, "threads", capacity=64, alpha=1.0)
        replay.add(["k%d" % i for i in range(64)], torch.ones(64))
        opened = []
        real = self.client.priority_updater

        def counting(store):
            opened.append(store)
            return real(store)

        self.client.priority_updater = counting
        try:
            start = threading.Barrier(8)

            def learner(i):
                start.wait()
                replay.update([i], [float(i + 2)])

            threads = [threading.Thread(target=learner, args=(i,)) for i in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            replay.flush()  # waits for all 8 updates, on the one stream
            self.assertEqual(self.client.get_priorities("threads", 0, 8),
                             [i + 2 + replay.eps for i in range(8)])
            self.assertEqual(opened, ["threads"])
        finally:
            del self.client.priority_updater
            replay.close()
        batch = replay.sample(torch.tensor(4), seed=12)  # an integer tensor is a whole number
        self.assertEqual(batch.seed, 12)
        self.assertEqual(replay.sample(4, seed=batch.seed).slots, batch.slots)

    def test_prioritized_replay_refuses_an_existing_store_of_another_shape(self):
        PrioritizedReplay(self.client, "shaped", capacity=100, alpha=0.6)
        PrioritizedReplay(self.client, "shaped", capacity=100, alpha=0.6)  # as asked: reused
        with self.assertRaisesRegex(ValueError, "exists with capacity 100 and alpha 0.6, not "
                                                "the capacity 5000 and alpha 0.9"):
            PrioritizedReplay(self.client, "shaped", capacity=5000, alpha=0.9)


class BeyondMultinomialTest(unittest.TestCase):
    """Weighted draws over 2^24 + 1000 rows, which torch.multinomial refuses."""

    def test_weighted_sampler_draws_past_two_to_the_24(self):
        n = (1 << 24) + 1000
        with self.assertRaises(RuntimeError):
            torch.multinomial(torch.ones(n), 1)
        with Urnd() as server, tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "big.tsv")
            # Rows below 2^24 weigh 1 (mass 2^24); the last 1000 weigh 2^24 each (mass
            # 1000 * 2^24): P(a draw lands past 2^24) = 1000 / 1001 exactly.
            with open(path, "w") as f:
                f.write("w\n")
                f.write("1\n" * (1 << 24))
                f.write(("%d\n" % (1 << 24)) * 1000)
            server.admin.create_dataset("big", path)
            sampler = UrnSampler("big", client=server.admin, seed=1, weight_column="w",
                                 num_samples=10000, rank=0, world_size=1)
            draws = list(sampler)
            self.assertEqual(len(draws), 10000)
            self.assertTrue(all(0 <= i < n for i in draws))
            past = sum(i >= (1 << 24) for i in draws)
            # Binomial(10000, 1000/1001): mean 9990.0, sd 3.16; 9970 is 6 sd below.
            self.assertGreaterEqual(past, 9970)


if __name__ == "__main__":
    unittest.main()
