"""Exceptions raised by the urn client.

Every failed call raises an ``urn.Error`` (or a subclass named for its gRPC status code). The
message reads as a sentence, as the ``urn`` command line prints it::

    quota exceeded: rows per day (1,000,000 on plan free); retry after 3h12m

and the exception carries the structured details the server attached (google.rpc.QuotaFailure,
RetryInfo and ErrorInfo), so training code can back off without parsing text::

    try:
        ...
    except urn.QuotaExceeded as e:
        time.sleep(e.retry_after or 60)
"""

import grpc

from urn.rpc import google_rpc_pb2

_DETAILS_KEY = "grpc-status-details-bin"


class Error(Exception):
    """A failed urn call.

    Attributes:
      code: the ``grpc.StatusCode``.
      message: the server's message (field and reason for bad input).
      retry_after: seconds the server asked to wait (RetryInfo), or None.
      quota_subject, quota_description: the first QuotaFailure violation, or None.
      reason: ErrorInfo.reason (e.g. "ROWS_PER_DAY"), or None.
      metadata: ErrorInfo.metadata as a dict (e.g. {"plan": "free", "limit": "1000000"}).
    """

    def __init__(self, code, message, retry_after=None, quota_subject=None,
                 quota_description=None, reason=None, metadata=None):
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.quota_subject = quota_subject
        self.quota_description = quota_description
        self.reason = reason
        self.metadata = dict(metadata or {})
        super().__init__(self.sentence())

    def __reduce__(self):
        # Pickled by its fields (args holds only the sentence), so that an error crosses
        # processes (multiprocessing, DataLoader workers) and copy.copy works.
        return (self.__class__, (self.code, self.message, self.retry_after, self.quota_subject,
                                 self.quota_description, self.reason, self.metadata))

    def amended(self, note):
        """The same error with `note` appended to its message."""
        return self.__class__(self.code, self.message + note, self.retry_after,
                              self.quota_subject, self.quota_description, self.reason,
                              self.metadata)

    def sentence(self):
        """The error as one sentence, as ``urn`` prints it."""
        if self.code == grpc.StatusCode.RESOURCE_EXHAUSTED and not _is_quota(self):
            return "resource exhausted: " + self.message
        if self.code == grpc.StatusCode.RESOURCE_EXHAUSTED:
            text = "quota exceeded: " + (self.quota_description or self.message)
            if self.retry_after is not None:
                text += "; retry after " + _human(self.retry_after)
            return text
        prefix = {
            grpc.StatusCode.UNAUTHENTICATED: "not authenticated: ",
            grpc.StatusCode.PERMISSION_DENIED: "permission denied: ",
            grpc.StatusCode.UNAVAILABLE: "server unavailable: ",
            grpc.StatusCode.DEADLINE_EXCEEDED: "timed out: ",
        }.get(self.code, "")
        return prefix + self.message


class InvalidArgument(Error):
    """INVALID_ARGUMENT: a request field is wrong; the message names it."""


class NotFound(Error):
    """NOT_FOUND: no such dataset, weight store, user or key."""


class AlreadyExists(Error):
    """ALREADY_EXISTS: the name is taken."""


class Unauthenticated(Error):
    """UNAUTHENTICATED: no key, or a key that is revoked or unknown."""


class PermissionDenied(Error):
    """PERMISSION_DENIED: the plan lacks the feature, or the call needs the admin key."""


class ResourceExhausted(Error):
    """RESOURCE_EXHAUSTED without a plan's QuotaFailure: a limit of the transport (a message
    larger than the receiver takes, say), not of the plan; retrying the same call fails again."""


class QuotaExceeded(ResourceExhausted):
    """RESOURCE_EXHAUSTED from a plan limit; see retry_after and quota_description."""


class FailedPrecondition(Error):
    """FAILED_PRECONDITION: the resource is not in a state that allows the call."""


class Aborted(Error):
    """ABORTED: another call was changing the same resource (a delete under way); try again."""


class Unavailable(Error):
    """UNAVAILABLE: the server cannot be reached or is shutting down."""


class DeadlineExceeded(Error):
    """DEADLINE_EXCEEDED: the call's timeout passed."""


_BY_CODE = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.OUT_OF_RANGE: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.RESOURCE_EXHAUSTED: QuotaExceeded,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.ABORTED: Aborted,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
}


def _is_quota(error):
    """urnd's plan limits carry a QuotaFailure (status_details.h); gRPC's own do not."""
    return error.quota_subject is not None or error.quota_description is not None


def from_rpc_error(error):
    """Converts a ``grpc.RpcError`` into the matching ``urn.Error``."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = error.details() if hasattr(error, "details") else str(error)
    fields = {}
    trailers = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    for key, value in trailers or ():
        if key == _DETAILS_KEY:
            fields = _parse_details(value)
    cls = _BY_CODE.get(code, Error)
    if cls is QuotaExceeded and not (fields.get("quota_subject") or
                                     fields.get("quota_description")):
        cls = ResourceExhausted
    return cls(code, message or "", **fields)


def _parse_details(blob):
    status = google_rpc_pb2.Status()
    try:
        status.ParseFromString(blob)
    except Exception:  # A damaged trailer loses the details, never the error.
        return {}
    fields = {}
    for any_detail in status.details:
        retry = google_rpc_pb2.RetryInfo()
        quota = google_rpc_pb2.QuotaFailure()
        info = google_rpc_pb2.ErrorInfo()
        if any_detail.Is(retry.DESCRIPTOR) and any_detail.Unpack(retry):
            delay = retry.retry_delay
            fields["retry_after"] = delay.seconds + delay.nanos / 1e9
        elif any_detail.Is(quota.DESCRIPTOR) and any_detail.Unpack(quota):
            if quota.violations:
                fields["quota_subject"] = quota.violations[0].subject
                fields["quota_description"] = quota.violations[0].description
        elif any_detail.Is(info.DESCRIPTOR) and any_detail.Unpack(info):
            fields["reason"] = info.reason
            fields["metadata"] = dict(info.metadata)
    return fields


def _human(seconds):
    """3h12m, 41s, 250ms: the two largest units, as the command line prints them."""
    ms = int(round(seconds * 1000))
    if ms < 1000:
        return "%dms" % ms
    s = (ms + 999) // 1000
    if s < 60:
        return "%ds" % s
    if s < 3600:
        return "%dm" % (s // 60) + ("%ds" % (s % 60) if s % 60 else "")
    return "%dh" % (s // 3600) + ("%dm" % ((s % 3600) // 60) if (s % 3600) // 60 else "")
