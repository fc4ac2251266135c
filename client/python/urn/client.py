"""urn.Client: the Python client of urnd.

    import urn
    client = urn.Client("127.0.0.1:50051", key_file="urn-data/admin.key")
    client.create_dataset("xray", "labels.tsv")
    for batch in client.sample("xray", query="SELECT * FROM xray SAMPLE BY ...", seed=7):
        print(batch.row_ids, batch.columns["label"])

Every call authenticates with the key as ``authorization: Bearer <key>``. Failed calls raise
``urn.Error`` subclasses (see urn.errors) carrying the server's quota and retry details.

Retries: calls that change nothing (get, list, usage, priorities) are retried on UNAVAILABLE
with exponential backoff, and on RESOURCE_EXHAUSTED after the server's RetryInfo delay when it
is at most ``max_backoff``; at most ``max_attempts`` calls. Sample and shuffle streams are pure
functions of their seed, so a stream cut by UNAVAILABLE resumes where it stopped (the rows
already yielded are never repeated). Calls that change state (create, insert, update, delete)
are never retried blindly: their error is raised.
"""

import json
import math
import operator
import os
import queue
import threading
import time

import grpc

from urn import errors
from urn.v1 import admin_pb2, admin_pb2_grpc
from urn.v1 import datasets_pb2, datasets_pb2_grpc
from urn.v1 import sampling_pb2, sampling_pb2_grpc
from urn.v1 import usage_pb2, usage_pb2_grpc
from urn.v1 import weight_stores_pb2, weight_stores_pb2_grpc

_CHUNK = 1 << 20  # CreateDataset data messages are at most 1 MiB.
# urnd takes messages of up to 4 MiB and 65,536 entries: an Insert message carries at most
# 65,536 keys and 2 MiB of keys with their framing and priorities (as the C++ client's
# kMaxMessageKeys and kMaxMessageKeyBytes), an update message at most 65,536 priorities
# (~0.9 MiB), and GetPriorities returns at most 65,536 slots a call.
_MAX_MESSAGE_KEY_BYTES = 2 << 20
_MAX_MESSAGE_ENTRIES = 65536
# urnd receives messages of at most 4 MiB; an update's own fields fit in the margin.
_MAX_UPDATE_MESSAGE_BYTES = (4 << 20) - 1024
_MAX_SLOTS_PER_READ = 65536
_FORMATS = {
    "tsv": datasets_pb2.DATA_FORMAT_TSV,
    "csv": datasets_pb2.DATA_FORMAT_CSV,
    "jsonl": datasets_pb2.DATA_FORMAT_JSONL,
}
_TYPES = {
    "int64": datasets_pb2.COLUMN_TYPE_INT64,
    "double": datasets_pb2.COLUMN_TYPE_DOUBLE,
    "string": datasets_pb2.COLUMN_TYPE_STRING,
    "bool": datasets_pb2.COLUMN_TYPE_BOOL,
    "string_list": datasets_pb2.COLUMN_TYPE_STRING_LIST,
}
_NEW_ITEM_PRIORITY = {
    "max_seen": weight_stores_pb2.NEW_ITEM_PRIORITY_MAX_SEEN,
    "default": weight_stores_pb2.NEW_ITEM_PRIORITY_DEFAULT,
}


class Batch:
    """One batch of a sample stream.

    Attributes:
      row_ids: 0-based row ids of the dataset, in sample order.
      weights: Horvitz-Thompson weights (with ``with_weight=True``), else [].
      columns: {name: list of values, None for nulls} for the requested columns.
      offset: rows of the sample before this batch.
      total: rows in the whole sample.
    """

    __slots__ = ("row_ids", "weights", "columns", "offset", "total")

    def __init__(self, message):
        self.row_ids = list(message.row_ids)
        self.weights = list(message.weights)
        self.offset = message.offset
        self.total = message.total
        self.columns = {}
        for column in message.columns:
            kind = column.WhichOneof("values")
            if kind is None:
                values = [None] * len(self.row_ids)
            elif kind == "string_list_values":
                values = [list(v.values) for v in column.string_list_values.values]
            else:
                values = list(getattr(column, kind).values)
            for i in column.null_rows:
                values[i] = None
            self.columns[column.name] = values

    def __len__(self):
        return len(self.row_ids)

    def __repr__(self):
        return "Batch(offset=%d, rows=%d, total=%d)" % (self.offset, len(self.row_ids),
                                                        self.total)


class ShuffleBatch:
    """One batch of an epoch shuffle: row ids, and the start_offset that resumes after it."""

    __slots__ = ("row_ids", "next_offset")

    def __init__(self, message):
        self.row_ids = list(message.row_ids)
        self.next_offset = message.next_offset

    def __len__(self):
        return len(self.row_ids)


class WeightSample:
    """A batch drawn from a weight store (prioritized replay).

    Attributes:
      slots, keys: the drawn items.
      probabilities: P(item) = p_i^alpha / sum_j p_j^alpha for each draw (also without
        replacement: the probability of one draw, not of being in the batch).
      importance_weights: (N * P(i))^-beta / max_j (N * P(j))^-beta.
      priorities: the items' current priorities.
      seed: the seed the server drew with (pass it again to repeat the draw).
    """

    __slots__ = ("slots", "keys", "probabilities", "importance_weights", "priorities", "seed")

    def __init__(self, message):
        self.slots = list(message.slots)
        self.keys = list(message.keys)
        self.probabilities = list(message.probabilities)
        self.importance_weights = list(message.importance_weights)
        self.priorities = list(message.priorities)
        self.seed = message.seed

    def __len__(self):
        return len(self.slots)


class _Backoff:
    """The retry schedule of one call: exponential backoff on UNAVAILABLE, the server's
    RetryInfo delay on RESOURCE_EXHAUSTED, at most the client's max_attempts."""

    def __init__(self, client):
        self._client = client
        self.reset()

    def reset(self):
        self._attempt, self._delay = 1, self._client.initial_backoff

    def wait_or_raise(self, error):
        wait = self._client._wait_before_retry(error, self._attempt, self._delay)
        if wait is None:
            raise error
        time.sleep(wait)
        self._attempt += 1
        self._delay = min(self._client.max_backoff, self._delay * 2)


def _whole(owner, name, value, low, high):
    """`value` as an int in [low, high], or ValueError naming the argument."""
    whole = None
    if not isinstance(value, bool):
        try:
            whole = operator.index(value)  # ints, NumPy integers, integer 0-d tensors
        except TypeError:
            pass
    if whole is None or not low <= whole <= high:
        raise ValueError("%s: %s must be a whole number in [%d, %d], got %r"
                         % (owner, name, low, high, value))
    return whole


def _read(path):
    with open(path, "r", encoding="utf-8") as f:
        return f.read().strip()


class _RequestErrors:
    """gRPC replaces an exception raised while it reads a request iterator with its own
    "Exception iterating requests!"; this keeps the original, to raise it instead."""

    def __init__(self):
        self.error = None

    def wrap(self, iterator):
        try:
            yield from iterator
        except Exception as e:
            self.error = e
            raise

    def reraise(self, rpc_error):
        raise self.convert(rpc_error) from None

    def convert(self, rpc_error):
        """The original exception of the request iterator, else the urn.Error of the call."""
        return self.error if self.error is not None else errors.from_rpc_error(rpc_error)


# Codes with which urnd refuses an update (and acknowledged everything before it).
_REFUSALS = frozenset((grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.OUT_OF_RANGE,
                       grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION,
                       grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED,
                       grpc.StatusCode.RESOURCE_EXHAUSTED))


def _check_priorities(what, priorities):
    """ValueError naming the first priority that is not a finite number >= 0 (the server would
    refuse it and end an update stream, losing the updates sent after it)."""
    for i, p in enumerate(priorities):
        try:
            good = p >= 0 and math.isfinite(p)
        except TypeError:
            good = False
        if not good:
            raise ValueError("%s: priorities[%d] is %r; a priority is a finite number >= 0"
                             % (what, i, p))


def _check_key(what, i, key):
    """ValueError naming a key that is not str or bytes, a str UTF-8 cannot encode, or bytes
    that are not UTF-8 (a key is a protobuf string)."""
    if isinstance(key, bytes):
        try:
            key.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError("%s: keys[%d] is not valid UTF-8 (%s at byte %d)"
                             % (what, i, e.reason, e.start)) from None
        return
    if not isinstance(key, str):
        raise ValueError("%s: keys[%d] is %r; a key is a str or bytes" % (what, i, key))
    try:
        key.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError("%s: keys[%d] is not valid Unicode (%s)" % (what, i, e.reason)) from None


def _check_update_size(what, slots):
    if len(slots) > _MAX_MESSAGE_ENTRIES:
        raise ValueError("%s: %d priorities in one batch; a batch holds at most %d (split it)"
                         % (what, len(slots), _MAX_MESSAGE_ENTRIES))


def _check_update_bytes(what, request):
    """ValueError for an update message urnd would refuse for its size (which ends the stream):
    65,536 keys of more than ~50 bytes pass the entry limit but not the message limit."""
    size = request.ByteSize()
    if size > _MAX_UPDATE_MESSAGE_BYTES:
        raise ValueError("%s: this batch is %d bytes, over the %d an update message may hold "
                         "(long keys; split it)" % (what, size, _MAX_UPDATE_MESSAGE_BYTES))


def _sample_request(what, dataset, n, seed, *, uniform, replace, weight_column, bernoulli,
                    query, reservoir, columns=(), with_weight=False, batch_size=1024,
                    start_offset=0, compat=False, inorder=False):
    """The SampleRequest of Client.sample() and Client.sample_size(); ValueError names an
    argument out of range, or the specs when not exactly one is given."""
    n = _whole(what, "n", n, 0, 2**63 - 1)
    seed = _whole(what, "seed", seed, 0, 2**64 - 1)
    batch_size = _whole(what, "batch_size", batch_size, 0, 2**31 - 1)
    start_offset = _whole(what, "start_offset", start_offset, 0, 2**63 - 1)
    request = sampling_pb2.SampleRequest(
        dataset=dataset, n=n, seed=seed, columns=list(columns), with_weight=with_weight,
        batch_size=batch_size, start_offset=start_offset, compat=compat, inorder=inorder)
    chosen = [uniform, weight_column is not None, bernoulli is not None, query is not None,
              reservoir]
    if sum(bool(c) for c in chosen) != 1:
        raise ValueError(f"{what}: give exactly one of uniform, weight_column, bernoulli, "
                         "query, reservoir")
    if uniform:
        request.uniform.replace = replace
    elif weight_column is not None:
        request.weighted.weight_column = weight_column
        request.weighted.replace = replace
    elif bernoulli is not None:
        request.bernoulli.p = bernoulli
    elif query is not None:
        request.query = query
    else:
        request.reservoir.SetInParent()
    return request


class Client:
    """A connection to urnd.

    Args:
      server: HOST:PORT (default: $URN_SERVER, else 127.0.0.1:50051).
      key: API key. Without it: the file in key_file, else $URN_KEY, else the file in
        $URN_KEY_FILE (arguments beat the environment).
      key_file: a file holding the key (e.g. the data directory's admin.key).
      tls_ca: PEM CA file to verify the server (default $URN_TLS_CA); enables TLS.
      tls_cert, tls_key: PEM client certificate and key for mutual TLS.
      timeout: seconds each unary call may take; streams have no deadline unless
        ``stream_timeout`` is set. A sample or shuffle stream that delivered rows before
        stream_timeout passed continues from where it was on a new stream (so a long epoch
        is not cut); one that delivered nothing in that time raises DeadlineExceeded.
      max_attempts, initial_backoff, max_backoff: retries of calls that change nothing.
    """

    def __init__(self, server=None, key=None, key_file=None, tls_ca=None, tls_cert=None,
                 tls_key=None, timeout=30.0, stream_timeout=None, max_attempts=4,
                 initial_backoff=0.1, max_backoff=5.0):
        self.server = server or os.environ.get("URN_SERVER") or "127.0.0.1:50051"
        env_key_file = os.environ.get("URN_KEY_FILE")
        self._key = (key or (_read(key_file) if key_file else None) or os.environ.get("URN_KEY")
                     or (_read(env_key_file) if env_key_file else None))
        tls_ca = tls_ca or os.environ.get("URN_TLS_CA")
        self.timeout = timeout
        self.stream_timeout = stream_timeout
        self.max_attempts = max(1, int(max_attempts))
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        # Keepalive pings (as the C++ client's): a stream from a server that hangs or vanished
        # fails with UNAVAILABLE within a minute instead of waiting forever; urnd accepts a
        # ping every 10 s.
        options = [("grpc.max_receive_message_length", 256 << 20),
                   ("grpc.keepalive_time_ms", 30000),
                   ("grpc.keepalive_timeout_ms", 20000),
                   ("grpc.http2.max_pings_without_data", 0)]
        if bool(tls_cert) != bool(tls_key):
            # As the C++ client: a certificate or key alone must not fall back to plaintext.
            raise ValueError("tls_cert and tls_key go together (mutual TLS); got only %s"
                             % ("tls_cert" if tls_cert else "tls_key"))
        if tls_ca or tls_cert:
            def load(path):
                with open(path, "rb") as f:
                    return f.read()
            creds = grpc.ssl_channel_credentials(
                root_certificates=load(tls_ca) if tls_ca else None,
                private_key=load(tls_key) if tls_key else None,
                certificate_chain=load(tls_cert) if tls_cert else None)
            self._channel = grpc.secure_channel(self.server, creds, options)
        else:
            self._channel = grpc.insecure_channel(self.server, options)
        self._datasets = datasets_pb2_grpc.DatasetsStub(self._channel)
        self._sampling = sampling_pb2_grpc.SamplingStub(self._channel)
        self._stores = weight_stores_pb2_grpc.WeightStoresStub(self._channel)
        self._usage = usage_pb2_grpc.UsageStub(self._channel)
        self._admin = admin_pb2_grpc.AdminStub(self._channel)

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- plumbing ---------------------------------------------------------------------------

    def _metadata(self):
        return (("authorization", "Bearer " + self._key),) if self._key else ()

    def _call(self, method, request):
        """A unary call that changes state: one attempt."""
        try:
            return method(request, timeout=self.timeout, metadata=self._metadata())
        except grpc.RpcError as e:
            raise errors.from_rpc_error(e) from None

    def _wait_before_retry(self, error, attempt, backoff):
        """Seconds to wait before retrying after `error`, or None to give up."""
        if attempt >= self.max_attempts:
            return None
        if isinstance(error, errors.Unavailable):
            return backoff
        if isinstance(error, errors.QuotaExceeded) and error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.max_backoff else None
        return None

    def _read_call(self, method, request):
        """A unary call that changes nothing: retried (see the module's docstring)."""
        backoff = _Backoff(self)
        while True:
            try:
                return method(request, timeout=self.timeout, metadata=self._metadata())
            except grpc.RpcError as e:
                backoff.wait_or_raise(errors.from_rpc_error(e))

    def _all_pages(self, method, request_type, field):
        """Every item of a paged List call, following next_page_token."""
        out, token = [], ""
        while True:
            page = self._read_call(method, request_type(page_size=1000, page_token=token))
            out.extend(getattr(page, field))
            token = page.next_page_token
            if not token:
                return out

    def _resumable_stream(self, start, request, resume_offset):
        """Yields the messages of a server stream started by start(request); when it breaks with
        a retryable error, restarts it from request.start_offset = resume_offset(last message).
        (gRPC serializes the request when the call starts, so updating it in place is safe.)"""
        backoff = _Backoff(self)
        while True:
            progressed = False
            try:
                for message in start(request, timeout=self.stream_timeout,
                                     metadata=self._metadata()):
                    request.start_offset = resume_offset(message)
                    backoff.reset()
                    progressed = True
                    yield message
                return
            except grpc.RpcError as e:
                # stream_timeout bounds each stream, not a whole epoch: one that delivered rows
                # before its deadline continues where it was.
                if progressed and e.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                    continue
                backoff.wait_or_raise(errors.from_rpc_error(e))

    # -- datasets ---------------------------------------------------------------------------

    def create_dataset(self, name, source, format=None, has_header=True, delimiter=None,
                       list_delimiter=None, column_types=None, columns=None):
        """Uploads a dataset and returns its description (a urn.v1.Dataset message).

        Args:
          source: a file path (format from its extension: .tsv, .csv, .jsonl; or `format`),
            or an iterable of rows: dicts, or sequences with `columns` naming the fields.
            Rows of an iterable are sent as JSON lines, so any string survives.
          column_types: {column: "int64"|"double"|"string"|"bool"|"string_list"}.
        """
        header = datasets_pb2.CreateDatasetHeader(name=name, has_header=has_header)
        if isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
            fmt = format or os.path.splitext(path)[1].lstrip(".").lower() or "tsv"
            chunks = _file_chunks(path)
        else:
            fmt = "jsonl"
            if format not in (None, "jsonl"):
                raise ValueError("an iterable of rows is sent as jsonl, not " + str(format))
            chunks = _row_chunks(source, columns)
        if fmt not in _FORMATS:
            raise ValueError("format: must be tsv, csv or jsonl, not '%s'" % fmt)
        header.format = _FORMATS[fmt]
        if delimiter:
            header.delimiter = delimiter
        if list_delimiter:
            header.list_delimiter = list_delimiter
        for column, kind in (column_types or {}).items():
            if kind not in _TYPES:
                raise ValueError("column_types['%s']: unknown type '%s'" % (column, kind))
            header.column_types[column] = _TYPES[kind]

        def requests():
            yield datasets_pb2.CreateDatasetRequest(header=header)
            for chunk in chunks:
                yield datasets_pb2.CreateDatasetRequest(data=chunk)

        sent = _RequestErrors()
        try:
            return self._datasets.CreateDataset(sent.wrap(requests()),
                                                timeout=self.stream_timeout,
                                                metadata=self._metadata())
        except grpc.RpcError as e:
            sent.reraise(e)

    def get_dataset(self, name):
        return self._read_call(self._datasets.GetDataset, datasets_pb2.GetDatasetRequest(name=name))

    def list_datasets(self):
        """Your datasets (urn.v1.Dataset messages), every page."""
        return self._all_pages(self._datasets.ListDatasets, datasets_pb2.ListDatasetsRequest,
                               "datasets")

    def delete_dataset(self, name):
        self._call(self._datasets.DeleteDataset, datasets_pb2.DeleteDatasetRequest(name=name))

    # -- sampling ---------------------------------------------------------------------------

    def sample(self, dataset, n=0, seed=0, *, uniform=False, replace=False, weight_column=None,
               bernoulli=None, query=None, reservoir=False, columns=(), with_weight=False,
               batch_size=1024, start_offset=0, compat=False, inorder=False):
        """A generator of Batch: a sample of `dataset`, a pure function of its arguments.

        Exactly one spec: ``uniform=True`` (n rows; ``replace`` for draws with replacement),
        ``weight_column=`` (proportional to a column; ``replace`` for draws), ``bernoulli=p``,
        ``query=`` (TQL SAMPLE BY, U-SQL SAMPLE, DuckDB USING SAMPLE) or ``reservoir=True``.
        With ``bernoulli``, n > 0 keeps the first n rows of the sample (not with with_weight).
        ``start_offset`` skips that many rows of the sample (resuming a stream).
        """
        request = _sample_request(
            "sample", dataset, n, seed, uniform=uniform, replace=replace,
            weight_column=weight_column, bernoulli=bernoulli, query=query, reservoir=reservoir,
            columns=columns, with_weight=with_weight, batch_size=batch_size,
            start_offset=start_offset, compat=compat, inorder=inorder)

        def resume_offset(batch):
            return batch.offset + len(batch.row_ids)

        for message in self._resumable_stream(self._sampling.Sample, request, resume_offset):
            yield Batch(message)

    def sample_size(self, dataset, n=0, seed=0, *, uniform=False, replace=False,
                    weight_column=None, bernoulli=None, query=None, reservoir=False,
                    compat=False):
        """The number of rows sample() gives for the same arguments (e.g. a query's or a
        Bernoulli sample's size), without sending or charging any rows: urnd computes the
        sample and answers with its size only."""
        request = _sample_request(
            "sample_size", dataset, n, seed, uniform=uniform, replace=replace,
            weight_column=weight_column, bernoulli=bernoulli, query=query, reservoir=reservoir,
            compat=compat)
        request.count_only = True
        request.batch_size = 1  # an urnd older than count_only sends rows: then the fewest
        stream = self._resumable_stream(self._sampling.Sample, request,
                                        lambda batch: batch.offset)
        try:
            for message in stream:
                return message.total
        finally:
            stream.close()
        # Only an urnd older than count_only ends without a batch: when the sample is empty.
        return 0

    def shuffle(self, dataset=None, n=None, seed=0, epoch=0, rank=0, world_size=1,
                start_offset=0, batch_size=1024, drop_last=False):
        """A generator of ShuffleBatch: this rank's slice of an epoch's permutation of the
        dataset's rows (or of range(n)). Ranks of one (seed, epoch) get disjoint slices when
        world_size divides the rows or with drop_last; otherwise each slice is padded by
        wrapping to ceil(rows / world_size), so the first positions repeat. start_offset
        resumes within the slice in O(1). ValueError names an argument out of range."""
        if (dataset is None) == (n is None):
            raise ValueError("shuffle: give exactly one of dataset and n")
        if n is not None:
            n = _whole("shuffle", "n", n, 0, 2**63 - 1)
        seed = _whole("shuffle", "seed", seed, 0, 2**64 - 1)
        epoch = _whole("shuffle", "epoch", epoch, 0, 2**64 - 1)
        world_size = _whole("shuffle", "world_size", world_size, 1, 2**63 - 1)
        rank = _whole("shuffle", "rank", rank, 0, world_size - 1)
        start_offset = _whole("shuffle", "start_offset", start_offset, 0, 2**63 - 1)
        batch_size = _whole("shuffle", "batch_size", batch_size, 0, 2**31 - 1)
        request = sampling_pb2.ShuffleRequest(seed=seed, epoch=epoch, rank=rank,
                                              world_size=world_size, start_offset=start_offset,
                                              batch_size=batch_size, drop_last=drop_last)
        if dataset is not None:
            request.dataset = dataset
        else:
            request.n = n

        for message in self._resumable_stream(self._sampling.Shuffle, request,
                                              lambda batch: batch.next_offset):
            yield ShuffleBatch(message)

    # -- weight stores ----------------------------------------------------------------------

    def create_weight_store(self, name, capacity, alpha=None, new_item_priority="max_seen",
                            default_priority=0.0):
        if new_item_priority not in _NEW_ITEM_PRIORITY:
            raise ValueError("new_item_priority: must be max_seen or default")
        request = weight_stores_pb2.CreateWeightStoreRequest(
            name=name, capacity=capacity, new_item_priority=_NEW_ITEM_PRIORITY[new_item_priority],
            default_priority=default_priority)
        if alpha is not None:
            request.alpha = alpha
        return self._call(self._stores.CreateWeightStore, request)

    def get_weight_store(self, name):
        return self._read_call(self._stores.GetWeightStore,
                               weight_stores_pb2.GetWeightStoreRequest(name=name))

    def list_weight_stores(self):
        """Your weight stores (urn.v1.WeightStore messages), every page."""
        return self._all_pages(self._stores.ListWeightStores,
                               weight_stores_pb2.ListWeightStoresRequest, "weight_stores")

    def delete_weight_store(self, name):
        self._call(self._stores.DeleteWeightStore,
                   weight_stores_pb2.DeleteWeightStoreRequest(name=name))

    def insert(self, store, keys, priorities=None, batch_size=4096):
        """Adds items by key (a key already stored is AlreadyExists: change a stored item's
        priority with a PriorityUpdater, by key); returns their slots, in order. Keys go in
        messages of at most batch_size keys (and 65,536) and 2 MiB, each acknowledged once
        durable and applied whole or not at all. priorities=None uses the store's new-item rule.

        On an error, the messages before the failing one are stored: the raised urn.Error has
        ``stored_slots``, their slots (the keys keys[:len(stored_slots)]), and its message says
        where the failing message starts in `keys` (the server's indexes count from there)."""
        keys = list(keys)
        priorities = None if priorities is None else list(priorities)
        if priorities is not None and len(priorities) != len(keys):
            raise ValueError("insert: %d keys but %d priorities" % (len(keys), len(priorities)))
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError("insert: batch_size must be a whole number >= 1, got %r"
                             % (batch_size,))

        for i, key in enumerate(keys):
            _check_key("insert", i, key)
        if priorities is not None:
            _check_priorities("insert", priorities)
        # A key costs its UTF-8 bytes, its tag and length (3) and its priority (8).
        per_key = 3 + (0 if priorities is None else 8)
        costs = [len(k.encode("utf-8") if isinstance(k, str) else k) + per_key for k in keys]
        per_message = min(batch_size, _MAX_MESSAGE_ENTRIES)

        def requests():
            i = 0
            while i < len(keys):
                end, size = i, 0
                while end < len(keys) and end - i < per_message and (
                        end == i or size + costs[end] <= _MAX_MESSAGE_KEY_BYTES):
                    size += costs[end]
                    end += 1
                r = weight_stores_pb2.InsertRequest(weight_store=store, keys=keys[i:end])
                if priorities is not None:
                    r.priorities.extend(priorities[i:end])
                yield r
                i = end

        slots = []
        sent = _RequestErrors()
        try:
            for response in self._stores.Insert(sent.wrap(requests()),
                                                timeout=self.stream_timeout,
                                                metadata=self._metadata()):
                slots.extend(response.slots)
        except grpc.RpcError as e:
            error = sent.convert(e)
            if isinstance(error, errors.Error):
                error = type(error)(error.code, "%s (in the message from keys[%d]; the %d keys "
                                    "before it are stored)" % (error.message, len(slots),
                                                               len(slots)),
                                    error.retry_after, error.quota_subject,
                                    error.quota_description, error.reason, error.metadata)
                error.stored_slots = list(slots)
            raise error from None
        return slots

    def update_priorities(self, store, updates):
        """Streams priority updates and yields each acknowledged sequence number.

        `updates` is an iterable of (slots, priorities) pairs, or of (sequence, slots,
        priorities) triples; the server acknowledges a batch once it is durable, so a sequence
        yielded here survives a crash of urnd. Sequences count from 1 when not given."""

        def requests():
            for number, update in enumerate(updates, start=1):
                if len(update) == 3:
                    sequence, slots, priorities = update
                else:
                    sequence, (slots, priorities) = number, update
                slots = list(slots)
                _check_update_size("update_priorities", slots)
                yield weight_stores_pb2.UpdatePrioritiesRequest(
                    weight_store=store, sequence=sequence, slots=list(slots),
                    priorities=list(priorities))

        sent = _RequestErrors()
        try:
            for ack in self._stores.UpdatePriorities(sent.wrap(requests()),
                                                     timeout=self.stream_timeout,
                                                     metadata=self._metadata()):
                yield ack.acknowledged_sequence
        except grpc.RpcError as e:
            sent.reraise(e)

    def priority_updater(self, store):
        """A PriorityUpdater: one long-lived update stream for a training loop."""
        return PriorityUpdater(self, store)

    def set_priorities(self, store, slots, priorities):
        """Updates slots' priorities and returns once the server acknowledged them (durable).
        Sent in messages of at most 65,536 entries, each applied whole: on an error the
        messages before it are applied."""
        slots, priorities = list(slots), list(priorities)
        if len(slots) != len(priorities):
            raise ValueError("set_priorities: %d slots but %d priorities"
                             % (len(slots), len(priorities)))
        step = _MAX_MESSAGE_ENTRIES
        batches = [(slots[i:i + step], priorities[i:i + step])
                   for i in range(0, len(slots), step)] or [([], [])]
        for _ in self.update_priorities(store, batches):
            pass

    def sample_weights(self, store, batch_size, beta=None, seed=None, without_replacement=False,
                       stratified=False):
        """Draws a batch proportional to priority^alpha, with importance weights (WeightSample).
        With a seed the draw is repeatable; it is not retried (each call is charged)."""
        batch_size = _whole("sample_weights", "batch_size", batch_size, 1, 2**31 - 1)
        request = weight_stores_pb2.SampleWeightsRequest(
            weight_store=store, batch_size=batch_size, without_replacement=without_replacement,
            stratified=stratified)
        if beta is not None:
            request.beta = beta
        if seed is not None:
            request.seed = seed
        return WeightSample(self._call(self._stores.SampleWeights, request))

    def get_priorities(self, store, first_slot=0, count=None):
        """The priorities of slots [first_slot, first_slot + count) (default: to the end);
        ValueError when they are not all slots of the store."""
        capacity = self.get_weight_store(store).capacity
        first_slot = _whole("get_priorities", "first_slot", first_slot, 0, capacity)
        if count is None:
            count = capacity - first_slot
        count = _whole("get_priorities", "count", count, 0, capacity - first_slot)
        out = []
        while count > 0:
            page = self._read_call(self._stores.GetPriorities,
                                   weight_stores_pb2.GetPrioritiesRequest(
                                       weight_store=store, first_slot=first_slot,
                                       count=min(count, _MAX_SLOTS_PER_READ)))
            if not page.priorities:
                break
            out.extend(page.priorities)
            first_slot += len(page.priorities)
            count -= len(page.priorities)
        return out

    # -- usage and administration ------------------------------------------------------------

    def usage(self):
        """Your usage today and your plan's limits (a urn.v1.GetUsageResponse)."""
        return self._read_call(self._usage.GetUsage, usage_pb2.GetUsageRequest())

    def create_user(self, name, plan="free"):
        """Admin: creates a user and its first key (the response's `key`, shown once)."""
        return self._call(self._admin.CreateUser, admin_pb2.CreateUserRequest(name=name,
                                                                               plan=plan))

    def set_plan(self, name, plan):
        self._call(self._admin.SetPlan, admin_pb2.SetPlanRequest(name=name, plan=plan))

    def create_key(self, user):
        return self._call(self._admin.CreateKey, admin_pb2.CreateKeyRequest(user=user))

    def revoke_key(self, key_id):
        self._call(self._admin.RevokeKey, admin_pb2.RevokeKeyRequest(key_id=key_id))


class PriorityUpdater:
    """One UpdatePriorities stream kept open across many updates (an RL learner's loop).

        updater = client.priority_updater("replay")
        seq = updater.send(keys=batch.keys, priorities=p)   # returns at once
        updater.wait(seq)                       # returns once the server made it durable
        updater.close()                         # waits for every ack, then ends the stream

    Update items drawn earlier by key: a key the ring has evicted since (or never inserted) is
    skipped and counted in `skipped`, while an update by slot would change the priority of
    whatever item holds that slot now. Sequences count from 1. An error from the server (a bad
    slot or priority, a revoked key) ends the stream and is raised by the next send(), wait()
    or close().
    """

    _END = object()

    def __init__(self, client, store):
        self._store = store
        self._queue = queue.Queue()
        self._cond = threading.Condition()
        self._sent = 0
        self._acked = 0  # guarded by _cond
        self._skipped = 0  # guarded by _cond
        self._error = None  # guarded by _cond
        self._done = False  # guarded by _cond
        # close() began: a send() now would queue behind the end of the stream and never go
        # out, while a later wait() found nothing missing.
        self._closing = False  # guarded by _cond
        self._call = client._stores.UpdatePriorities(self._requests(), timeout=None,
                                                     metadata=client._metadata())
        self._reader = threading.Thread(target=self._read_acks, daemon=True)
        self._reader.start()

    def _requests(self):
        while True:
            item = self._queue.get()
            if item is self._END:
                return
            yield item

    def _read_acks(self):
        try:
            for ack in self._call:
                with self._cond:
                    self._acked = max(self._acked, ack.acknowledged_sequence)
                    self._skipped += len(ack.skipped)
                    self._cond.notify_all()
        except grpc.RpcError as e:
            with self._cond:
                if not (self._done and e.code() == grpc.StatusCode.CANCELLED):
                    # The stream ends at the refused update: it and every one sent after it
                    # were not applied, and the message says which.
                    error = errors.from_rpc_error(e)
                    if self._sent > self._acked:
                        lost = ("sequence %d" % self._sent if self._sent == self._acked + 1 else
                                "sequences %d to %d" % (self._acked + 1, self._sent))
                        if e.code() in _REFUSALS:
                            # urnd acknowledged every update before the refused one, and ended
                            # the stream there.
                            note = "; the update stream ended there, so %s %s not applied" % (
                                lost, "was" if " to " not in lost else "were")
                        else:  # a broken connection may have lost acknowledgements too
                            note = "; %s not acknowledged (applied or not)" % lost
                        error = error.amended(note)
                    self._error = error
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def _raise_if_failed(self):
        if self._error is not None:
            raise self._error

    def send(self, slots=None, priorities=None, keys=None):
        """Queues one batch (at most 65,536 entries, and 4 MiB with its keys) of priorities for
        slots, or for keys; returns its sequence number."""
        if (slots is None) == (keys is None) or priorities is None:
            raise ValueError("send: give priorities, and either slots or keys")
        entries = list(slots if keys is None else keys)
        priorities = list(priorities)
        if len(entries) != len(priorities):
            raise ValueError("send: %d %s but %d priorities"
                             % (len(entries), "slots" if keys is None else "keys",
                                len(priorities)))
        _check_update_size("send", entries)
        _check_priorities("send", priorities)
        if keys is not None:
            for i, key in enumerate(entries):
                _check_key("send", i, key)
        named = {"slots": entries} if keys is None else {"keys": entries}
        # Built before it takes a sequence number: a slot the message cannot hold raises here,
        # and no sequence is left that could never be acknowledged (wait() would hang).
        request = weight_stores_pb2.UpdatePrioritiesRequest(
            weight_store=self._store, priorities=priorities, **named)
        _check_update_bytes("send", request)
        with self._cond:
            self._raise_if_failed()
            if self._done or self._closing:
                raise errors.FailedPrecondition(grpc.StatusCode.FAILED_PRECONDITION,
                                                "the priority update stream is closed")
            self._sent += 1
            request.sequence = self._sent
            # Queued under the lock, so that sequences go out in order from any number of
            # threads (an acknowledgement of n covers every sequence up to n).
            self._queue.put(request)
            return request.sequence

    @property
    def skipped(self):
        """Keys sent that were not stored (evicted, or never inserted), so not updated."""
        with self._cond:
            return self._skipped

    @property
    def acknowledged(self):
        """The highest sequence the server acknowledged (durable)."""
        with self._cond:
            return self._acked

    def wait(self, sequence=None, timeout=None):
        """Blocks until `sequence` (default: every one sent) is acknowledged."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            target = self._sent if sequence is None else sequence
            if not 0 <= target <= self._sent:
                # A sequence not sent yet could only be acknowledged after another send() from
                # this very thread: waiting for it would block for ever.
                raise ValueError("wait: sequence %r was not sent (the last sent is %d)"
                                 % (target, self._sent))
            while self._acked < target:
                self._raise_if_failed()
                if self._done:
                    raise errors.FailedPrecondition(
                        grpc.StatusCode.FAILED_PRECONDITION,
                        "the update stream ended before sequence %d was acknowledged" % target)
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise errors.DeadlineExceeded(grpc.StatusCode.DEADLINE_EXCEEDED,
                                                  "sequence %d not acknowledged" % target)
                self._cond.wait(left)
            self._raise_if_failed()

    @property
    def closing(self):
        """close() has begun (send() now raises FailedPrecondition)."""
        with self._cond:
            return self._closing

    def close(self):
        """Waits for every acknowledgement, then ends the stream. A send() from another thread
        once close() has begun raises FailedPrecondition: its update would never go out."""
        with self._cond:
            self._closing = True
        try:
            self.wait()
        finally:
            self._queue.put(self._END)
            self._reader.join(timeout=30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _file_chunks(path):
    with open(path, "rb") as f:
        while True:
            chunk = f.read(_CHUNK)
            if not chunk:
                return
            yield chunk


def _json_scalar(value):
    """NumPy and PyTorch scalars (0-dimensional) as Python numbers, for json.dumps."""
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        return value.item()
    raise TypeError("a %s is not a value a dataset can hold" % type(value).__name__)


def _row_line(number, row):
    """A row as one JSON line; ValueError naming the row and column of a value JSON lacks."""
    for column in row:
        # An int name is written as its digits, as JSON does (pandas rows without a header).
        if isinstance(column, bool) or not isinstance(column, (str, int)):
            raise ValueError("row %d: column names must be strings (or ints), not %r"
                             % (number, column))
    try:
        line = json.dumps(row, ensure_ascii=False, allow_nan=False, default=_json_scalar)
    except (TypeError, ValueError):
        line = None
    if line is not None:
        try:
            line.encode("utf-8")
            return line
        except UnicodeEncodeError as e:
            raise ValueError("row %d: a string is not valid Unicode (%s)"
                             % (number, e.reason)) from None
    for column, value in row.items():
        try:
            json.dumps(value, allow_nan=False, default=_json_scalar)
        except TypeError as e:
            raise ValueError("row %d, column %r: %s" % (number, column, e)) from None
        except ValueError:
            raise ValueError("row %d, column %r: %r is not a value a dataset can hold "
                             "(None stands for a missing one)" % (number, column, value)) from None
    raise ValueError("row %d: not a value a dataset can hold" % number)


def _row_chunks(rows, columns):
    """JSON lines of `rows` in chunks of about 1 MiB."""
    buffer = []
    size = 0
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            if columns is None:
                raise ValueError("row %d: a sequence row needs columns=[...] naming its fields"
                                 % number)
            row = list(row)
            if len(row) != len(columns):
                raise ValueError("row %d: %d fields, but %d columns" % (number, len(row),
                                                                       len(columns)))
            row = dict(zip(columns, row))
        line = (_row_line(number, row) + "\n").encode("utf-8")
        buffer.append(line)
        size += len(line)
        if size >= _CHUNK:
            data = b"".join(buffer)
            for i in range(0, len(data), _CHUNK):
                yield data[i:i + _CHUNK]
            buffer, size = [], 0
    if buffer:
        yield b"".join(buffer)
