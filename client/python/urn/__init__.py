"""urn: the Python client of the urn sampling service (urnd).

    import urn
    client = urn.Client("127.0.0.1:50051", key_file="urn-data/admin.key")

See urn.client for the calls, urn.errors for the exceptions, and urn.torch for PyTorch
samplers (UrnSampler, PrioritizedReplay; importing urn does not import torch).
"""

from urn._version import __version__
from urn.client import Batch, Client, PriorityUpdater, ShuffleBatch, WeightSample
from urn.errors import (Aborted, AlreadyExists, DeadlineExceeded, Error, FailedPrecondition,
                        InvalidArgument, NotFound, PermissionDenied, QuotaExceeded,
                        ResourceExhausted, Unauthenticated, Unavailable)

__all__ = [
    "Aborted", "AlreadyExists", "Batch", "Client", "DeadlineExceeded", "Error", "FailedPrecondition",
    "InvalidArgument", "NotFound", "PermissionDenied", "PriorityUpdater", "QuotaExceeded",
    "ResourceExhausted", "ShuffleBatch", "Unauthenticated", "Unavailable", "WeightSample", "__version__",
]
