"""moto's server with DynamoDB's conditional writes made atomic, as they are in DynamoDB.

moto_server answers requests on threads, and moto's DynamoDB backend reads an item, evaluates the condition
and writes the item in separate steps without a lock. Under load the interpreter switches threads between
them, and two conditional writes on one key can both succeed (seen: two runners both taking one collection
lease, in CI). Here every public method of the DynamoDB backend holds one lock for its whole call, so each
request is applied whole before the next, as DynamoDB serialises writes to an item. Other services are untouched.

Usage: python3 atomic_moto_server.py [moto_server arguments], e.g. -H 127.0.0.1 -p 4566.
"""

import functools
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_LOCK = threading.RLock()


def _serialised(method):
    @functools.wraps(method)
    def call(*args, **kwargs):
        with _LOCK:
            return method(*args, **kwargs)

    return call


for _name, _value in list(vars(DynamoDBBackend).items()):
    if not _name.startswith("_") and callable(_value):
        setattr(DynamoDBBackend, _name, _serialised(_value))

# Marks the patched backend, so a test can check that the stack runs this server.
DynamoDBBackend.ingest_replica_atomic = True

if __name__ == "__main__":
    main(sys.argv[1:])
