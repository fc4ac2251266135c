"""PyTorch samplers backed by urnd: UrnSampler and PrioritizedReplay.

UrnSampler is a ``torch.utils.data.Sampler`` of dataset row ids::

    sampler = UrnSampler("xray", client=client, seed=7)          # rank/world from torch.distributed
    loader = DataLoader(my_dataset, batch_size=256, sampler=sampler, num_workers=2)
    for epoch in range(10):
        sampler.set_epoch(epoch)
        for batch in loader: ...

Modes (every index sequence is a pure function of seed, epoch, rank and world size):

- shuffle (default): an epoch permutation of the rows computed by the server in O(1) memory;
  each rank gets a disjoint slice (padded by wrapping to ceil(N / world) rows, or cut to
  floor(N / world) with drop_last), as PyTorch's DistributedSampler.
- shuffle=False: rows rank, rank + world, rank + 2 * world, ... (DistributedSampler's order).
- weight_column="w": num_samples draws (default: the dataset's rows) with probability
  proportional to the column, with replacement, by the server's alias table: no 2^24-category
  limit as torch.multinomial has. The epoch's draws form one sequence; rank r gets draws
  [r * m, (r + 1) * m) with m = ceil(num_samples / world), or floor with drop_last. The
  world's draws, world * m, are at most 2^31 (the server's bound on n).
- query="SELECT * FROM d SAMPLE BY max_weight(...) ...": the query's rows, sliced across
  ranks like the shuffle.

state_dict() / load_state_dict() resume mid-epoch in O(1): the state is (epoch, position) and
the next iteration asks the server to start at that position (no rows are replayed). After a
complete pass the position is the slice's length: a state saved then resumes to nothing more
of that epoch, not to a repeat of it. A state is refused by a sampler configured differently
(dataset, mode, seed, rank, world size, drop_last, num_samples, weight column, query, or a
dataset whose row count changed), since its positions would name other rows. A
DataLoader reads indices ahead of the training loop; pass the count the loop really consumed
this epoch, ``sampler.state_dict(consumed=k)``, to resume exactly after it.

PrioritizedReplay samples a batch from a weight store with importance weights and streams the
new priorities back (acknowledged once durable on the server).
"""

import threading
import weakref

import torch
import torch.utils.data

from urn import errors as urn_errors
from urn.client import Client
from urn.client import _whole as client_whole

_MASK = (1 << 64) - 1


def _mix(*values):
    """splitmix64 over the values: the per-(seed, epoch) seed of weighted and query modes."""
    z = 0x9E3779B97F4A7C15
    for v in values:
        z = (z + (v & _MASK) + 0x9E3779B97F4A7C15) & _MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        z ^= z >> 31
    return z


def _distributed_defaults(rank, world_size):
    if rank is not None and world_size is not None:
        return rank, world_size
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return (dist.get_rank() if rank is None else rank,
                dist.get_world_size() if world_size is None else world_size)
    return (0 if rank is None else rank, 1 if world_size is None else world_size)


def _whole(name, value, low, high):
    """`value` as an int in [low, high], or ValueError naming the argument."""
    return client_whole("UrnSampler", name, value, low, high)


class UrnSampler(torch.utils.data.Sampler):
    """Row ids of a urnd dataset for a DataLoader, partitioned by rank (see the module doc).

    Args:
      dataset: the dataset's name on the server.
      client: a urn.Client, or None to make one from client_args (server=, key=, ...).
      seed: the seed shared by every rank.
      rank, world_size: default from torch.distributed when initialized, else 0 and 1.
      shuffle, drop_last: as torch.utils.data.DistributedSampler.
      weight_column, num_samples: weighted draws with replacement.
      query: a sampling query whose rows are the epoch's indices.
      batch_size: rows per streamed batch from the server.
    """

    def __init__(self, dataset, client=None, *, seed=0, rank=None, world_size=None, shuffle=True,
                 drop_last=False, weight_column=None, num_samples=None, query=None,
                 batch_size=8192, **client_args):
        self.dataset = dataset
        if client is None:
            # Made here, so closed here: by close() (or leaving a with block), or when the
            # sampler is collected. A client passed in stays open.
            client = Client(**client_args)
            self._close_client = weakref.finalize(self, client.close)
        else:
            self._close_client = None
        self.client = client
        self.seed = _whole("seed", seed, 0, 2**64 - 1)
        rank, world_size = _distributed_defaults(rank, world_size)
        self.world_size = _whole("world_size", world_size, 1, 2**31)
        self.rank = _whole("rank", rank, 0, self.world_size - 1)
        if weight_column is not None and query is not None:
            raise ValueError("UrnSampler: give weight_column or query, not both")
        if num_samples is not None and weight_column is None:
            raise ValueError("UrnSampler: num_samples is the number of weighted draws, used only "
                             "with weight_column (a shuffle or query covers its rows)")
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.weight_column = weight_column
        self.query = query
        self.batch_size = batch_size
        self.mode = ("weighted" if weight_column is not None else
                     "query" if query is not None else
                     "shuffle" if shuffle else "sequential")
        self._rows = None
        if self.mode != "query":
            self._rows = self.client.get_dataset(dataset).num_rows
        self.num_samples = _whole("num_samples",
                                  num_samples if num_samples is not None else (self._rows or 0),
                                  0, 2**63 - 1)
        if self.mode == "weighted" and self.world_size * len(self) > 2**31:
            raise ValueError("UrnSampler: num_samples %d over world_size %d asks for %d draws in "
                             "all; at most 2^31 are possible"
                             % (self.num_samples, self.world_size, self.world_size * len(self)))
        self.epoch = 0
        self._position = 0
        self._resume_at = None  # the position load_state_dict() set, for the next iteration
        self._query_total = {}  # epoch -> rows the query selects

    def close(self):
        """Closes the client the sampler made from client_args (not one passed in)."""
        if self._close_client is not None:
            self._close_client()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- the epoch's length -----------------------------------------------------------------

    def _slice_length(self, total):
        if self.drop_last:
            return total // self.world_size
        return -(-total // self.world_size)

    def _total(self):
        """Rows of the whole epoch sequence, before slicing by rank."""
        if self.mode == "weighted":
            return self.num_samples
        if self.mode == "query":
            if self.epoch not in self._query_total:
                self._query_total[self.epoch] = self.client.sample_size(
                    self.dataset, query=self.query, seed=self._epoch_seed())
            return self._query_total[self.epoch]
        return self._rows

    def __len__(self):
        return self._slice_length(self._total())

    def _epoch_seed(self):
        return _mix(self.seed, self.epoch)

    # -- epochs and resuming -----------------------------------------------------------------

    def set_epoch(self, epoch):
        """Starts epoch `epoch` from its beginning (call before each epoch, as with
        DistributedSampler)."""
        epoch = _whole("epoch", epoch, 0, 2**63 - 1)
        if epoch != self.epoch:
            self.epoch = epoch
            self._position = 0
            self._resume_at = None

    # What a state must match: with another value its positions would name other rows.
    _CONFIGURATION = ("dataset", "mode", "seed", "rank", "world_size", "drop_last", "num_samples",
                      "weight_column", "query", "rows")

    def _configuration(self, key):
        return self._rows if key == "rows" else getattr(self, key)

    def state_dict(self, consumed=None):
        """The sampler's place: epoch and position within this rank's slice (its length once
        the epoch is complete), with the configuration it belongs to. `consumed` overrides the
        position with the indices the training loop really used this epoch, counted from the
        epoch's beginning (also after a resume)."""
        state = {key: self._configuration(key) for key in self._CONFIGURATION}
        state.update({"version": 2, "epoch": self.epoch,
                      "position": self._position if consumed is None else int(consumed)})
        return state

    def load_state_dict(self, state):
        """Continues from a state_dict(): the next iteration starts at its position, O(1).
        ValueError, changing nothing, when the state belongs to a sampler configured otherwise
        (a version 1 state records only mode, seed, rank and world size)."""
        keys = self._CONFIGURATION if state.get("version", 1) >= 2 else (
            "mode", "seed", "rank", "world_size")
        for key in keys:
            if state.get(key) != self._configuration(key):
                raise ValueError("load_state_dict: %s is %r in the state but %r here"
                                 % (key, state.get(key), self._configuration(key)))
        epoch, position = int(state["epoch"]), int(state["position"])
        if epoch < 0 or position < 0:
            raise ValueError("load_state_dict: epoch %d, position %d" % (epoch, position))
        previous, self.epoch = self.epoch, epoch  # the length may depend on the epoch
        if position > len(self):
            length, self.epoch = len(self), previous  # a refused state changes nothing
            raise ValueError("load_state_dict: position %d is past this rank's %d rows"
                             % (position, length))
        self._position = position
        self._resume_at = position

    # -- iteration ---------------------------------------------------------------------------

    def __iter__(self):
        # Every iteration starts the epoch from its beginning, except the first after
        # load_state_dict(), which starts at the loaded position. (An iteration left early, say
        # by a loop's `break`, must not make the next one skip the rows it did not read.)
        length = len(self)
        start = self._resume_at if self._resume_at is not None else 0
        self._resume_at = None
        self._position = start
        if start > length:
            raise ValueError("position %d is past this rank's %d rows" % (start, length))
        for index in self._indices(start, length):
            self._position += 1
            yield index
        # The epoch is complete: a state saved now says so (iterating again repeats the epoch,
        # as every iteration not right after load_state_dict() starts from its beginning).
        self._position = length

    def _indices(self, start, length):
        if start >= length:
            return
        if self.mode == "shuffle":
            for batch in self.client.shuffle(
                    dataset=self.dataset, seed=self.seed, epoch=self.epoch, rank=self.rank,
                    world_size=self.world_size, start_offset=start, drop_last=self.drop_last,
                    batch_size=self.batch_size):
                yield from batch.row_ids
        elif self.mode == "sequential":
            rows = self._rows
            for i in range(start, length):
                yield (self.rank + i * self.world_size) % rows
        elif self.mode == "weighted":
            # This rank's draws are [first, end) of the epoch's sequence; asking for `end` draws
            # makes the stream stop there.
            first = self.rank * length + start
            end = (self.rank + 1) * length
            for batch in self.client.sample(
                    self.dataset, n=end, seed=self._epoch_seed(),
                    weight_column=self.weight_column, replace=True, start_offset=first,
                    batch_size=self.batch_size):
                yield from batch.row_ids
        else:
            yield from self._query_slice(start, length)

    def _query_slice(self, start, length):
        """Positions rank * length + [start, length) of the query's rows, wrapping around
        (padding) when the slice runs past the end, as DistributedSampler pads."""
        total = self._total()
        if total == 0:
            return
        wanted = length - start
        offset = (self.rank * length + start) % total
        while wanted > 0:
            stream = self.client.sample(self.dataset, query=self.query, seed=self._epoch_seed(),
                                        start_offset=offset, batch_size=self.batch_size)
            try:
                for batch in stream:
                    take = batch.row_ids[:wanted]
                    wanted -= len(take)
                    yield from take
                    if wanted == 0:
                        break
            finally:
                stream.close()
            offset = 0


class ReplayBatch:
    """A prioritized-replay batch: slots and keys, and torch tensors of the importance weights
    and probabilities (float32 weights, ready to multiply a per-sample loss)."""

    __slots__ = ("slots", "keys", "weights", "probabilities", "priorities", "seed")

    def __init__(self, sample):
        self.seed = sample.seed  # pass it to sample() again to repeat the draw
        self.slots = sample.slots
        self.keys = sample.keys
        self.weights = torch.tensor(sample.importance_weights, dtype=torch.float32)
        self.probabilities = torch.tensor(sample.probabilities, dtype=torch.float64)
        self.priorities = torch.tensor(sample.priorities, dtype=torch.float64)

    def __len__(self):
        return len(self.slots)


class PrioritizedReplay:
    """Prioritized experience replay over a urnd weight store (Schaul et al. 2016).

        replay = PrioritizedReplay(client, "replay", capacity=1 << 20, alpha=0.6)
        replay.add(["t0", "t1"])                     # new items: the max priority seen (>= 1)
        batch = replay.sample(256, beta=0.4)
        loss = (batch.weights * td_error ** 2).mean()
        replay.update(batch, td_error.abs())         # streamed; acknowledged when durable
        replay.flush()                               # waits for every acknowledgement

    Priorities sent are |value| + eps, so no item's probability falls to zero.
    """

    def __init__(self, client, store, capacity=None, alpha=0.6, eps=1e-6, create=True):
        self.client = client
        self.store = store
        self.eps = eps
        if create and capacity is not None:
            from urn.errors import AlreadyExists
            try:
                client.create_weight_store(store, capacity, alpha=alpha)
            except AlreadyExists:
                # Reused only as asked: another capacity or alpha would silently change the
                # replay (a smaller ring, other probabilities).
                existing = client.get_weight_store(store)
                if existing.capacity != capacity or existing.alpha != alpha:
                    raise ValueError(
                        "PrioritizedReplay: weight store %r exists with capacity %d and alpha "
                        "%r, not the capacity %d and alpha %r asked; delete it or ask for those"
                        % (store, existing.capacity, existing.alpha, capacity, alpha)) from None
        # The update stream, opened by the first update(); update() and flush() may be called
        # from several threads, which share it.
        self._lock = threading.Lock()
        self._updater = None  # guarded by _lock
        self._skipped_closed = 0  # skipped updates of the streams closed before this one
        # Streams being closed by some thread (close() waits for their acknowledgements): an
        # update sent on one just before counts for flush() too.
        self._closing = []  # guarded by _lock

    def add(self, keys, priorities=None):
        """Inserts items by key; returns their slots."""
        if priorities is not None:
            priorities = [abs(float(p)) + self.eps for p in _as_list(priorities)]
        return self.client.insert(self.store, list(keys), priorities)

    def sample(self, batch_size, beta=0.4, seed=None):
        return ReplayBatch(self.client.sample_weights(self.store, batch_size, beta=beta,
                                                      seed=seed))

    def update(self, items, priorities):
        """Streams new priorities (|p| + eps) for a ReplayBatch's items (by key, so an item the
        ring has evicted since it was drawn is skipped, see `skipped`), or for slots; returns
        the update's sequence number."""
        values = [abs(float(p)) + self.eps for p in _as_list(priorities)]
        while True:
            with self._lock:
                if self._updater is None:
                    self._updater = self.client.priority_updater(self.store)
                updater = self._updater
            try:
                if isinstance(items, ReplayBatch) and all(items.keys):
                    return updater.send(keys=items.keys, priorities=values)
                slots = items.slots if isinstance(items, ReplayBatch) else _as_list(items)
                return updater.send(slots, values)
            except urn_errors.Error:
                with self._lock:
                    replaced = self._updater is not updater
                if updater.closing and replaced:
                    # Another thread is ending that stream (close(), or an error it reports):
                    # this update goes on the next one, or it would be lost while a later
                    # flush() reported everything durable.
                    continue
                # The stream ended with an earlier update's error: reported here, once.
                self.close_quietly(updater)
                raise

    def flush(self, timeout=None):
        """Blocks until every update sent is acknowledged (durable on the server). An update the
        server refused is raised once, and ends the stream: the next update() opens a new one."""
        with self._lock:
            updater = self._updater
            closing = list(self._closing)
        # Updates sent on a stream another thread is closing are durable once acknowledged
        # there; if it failed, its error is raised here too (this caller's update may be one it
        # did not apply), as well as by the closing thread.
        for other in closing:
            other.wait(timeout=timeout)
        if updater is None:
            return
        try:
            updater.wait(timeout=timeout)
        except Exception as e:
            if isinstance(e, urn_errors.DeadlineExceeded):
                raise  # still open: a later flush() may succeed
            self.close_quietly(updater)
            raise

    @property
    def skipped(self):
        """Updates skipped because their item was evicted before they arrived (acknowledged
        ones; see flush())."""
        with self._lock:
            return self._skipped_closed + (0 if self._updater is None else self._updater.skipped)

    def _end_stream(self, failed=None):
        """Ends the current stream, or only `failed` if that is still the current one (another
        thread may have replaced it already)."""
        with self._lock:
            updater = self._updater
            if failed is not None and updater is not failed:
                return
            self._updater = None
            if updater is not None:
                self._closing.append(updater)
        if updater is not None:
            try:
                updater.close()
            finally:
                with self._lock:
                    self._skipped_closed += updater.skipped
                    self._closing.remove(updater)

    def close_quietly(self, failed=None):
        """Ends the update stream without raising (its error was reported already)."""
        try:
            self._end_stream(failed)
        except Exception:  # the stream's error, raised by flush() or update() already
            pass

    def close(self):
        """Waits for every update's acknowledgement and ends the stream. An update the server
        refused is raised here (or by flush()) once; the next update() opens a new stream."""
        self._end_stream()


def _as_list(values):
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().reshape(-1).tolist()
    return list(values)
