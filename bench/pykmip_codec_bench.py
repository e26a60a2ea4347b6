#!/usr/bin/python3
"""Times PyKMIP's TTLV codec on bench/messages.hex: decode (read) and encode
(write) of each message. Prints one JSON object: {"decode": [ns...], "encode": [ns...]}
with nanoseconds per operation, in the order of the file."""
import json
import os
import time

from kmip.core import utils
from kmip.core.messages import messages

HERE = os.path.dirname(os.path.abspath(__file__))


def per_op_ns(fn, min_seconds=0.5):
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds and n >= 10:
            return elapsed * 1e9 / n


def main():
    lines = [l.strip() for l in open(os.path.join(HERE, "messages.hex")) if l.strip() and not l.startswith("#")]
    decode, encode = [], []
    for i, line in enumerate(lines):
        data = bytes.fromhex(line)
        cls = messages.RequestMessage if i == 0 else messages.ResponseMessage

        def read():
            m = cls()
            m.read(utils.BytearrayStream(data))
            return m

        msg = read()

        def write():
            s = utils.BytearrayStream()
            msg.write(s)
            return s

        assert len(msg.batch_items) == 1, "PyKMIP could not read message %d" % i
        decode.append(per_op_ns(read))
        encode.append(per_op_ns(write))
    print(json.dumps({"decode": decode, "encode": encode}))


if __name__ == "__main__":
    main()
