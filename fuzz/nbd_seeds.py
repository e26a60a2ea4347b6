#!/usr/bin/env python3
"""Writes NBD client sessions as seeds for nbd_server_fuzzer into OUT.

Each file is what a client sends (proto.md "Option haggling", then
"Transmission" requests) to a server exporting "disk" (256 KiB).
Usage: nbd_seeds.py OUT
"""
import struct
import sys

IHAVEOPT = 0x49484156454F5054
REQUEST_MAGIC = 0x25609513
READ, WRITE, DISC, FLUSH, TRIM, CACHE, WRITE_ZEROES, BLOCK_STATUS = range(8)
EXPORT_NAME, ABORT, LIST, INFO, GO, STRUCTURED_REPLY, LIST_META = 1, 2, 3, 6, 7, 8, 9


def opt(o, data=b""):
    return struct.pack(">QII", IHAVEOPT, o, len(data)) + data


def name(n, infos=()):
    return (struct.pack(">I", len(n)) + n + struct.pack(">H", len(infos)) +
            b"".join(struct.pack(">H", i) for i in infos))


def req(t, off=0, length=0, flags=0, payload=b"", handle=1):
    return struct.pack(">IHHQQI", REQUEST_MAGIC, flags, t, handle, off, length) + payload


def main():
    out = sys.argv[1]
    full = (struct.pack(">I", 3) + opt(STRUCTURED_REPLY) + opt(LIST) +
            opt(INFO, name(b"disk", (0, 1, 2, 3))) + opt(LIST_META) +
            opt(GO, name(b"disk", (3,))) +
            req(WRITE, 8192, 4096, 1, bytes(range(256)) * 16) +
            req(READ, 8192, 4096, handle=2) + req(FLUSH, handle=3) +
            req(TRIM, 0, 4096, handle=4) + req(WRITE_ZEROES, 4096, 8192, 2, handle=5) +
            req(CACHE, 0, 4096, handle=6) + req(BLOCK_STATUS, 0, 4096, handle=7) +
            req(READ, 262144 - 100, 4096, handle=8) +
            req(WRITE, 262140, 8, payload=b"x" * 8, handle=9) + req(DISC))
    seeds = {
        "go_session.bin": full,
        "export_name.bin": struct.pack(">I", 1) + opt(EXPORT_NAME, b"disk") +
                           req(READ, 0, 512) + req(DISC),
        "default_export.bin": struct.pack(">I", 3) + opt(GO, name(b"")) +
                              req(WRITE, 0, 16, payload=b"A" * 16) + req(DISC),
        "bad_options.bin": struct.pack(">I", 3) + opt(GO, name(b"nosuch")) +
                           opt(INFO, b"\x00") + opt(99, b"zz") + opt(ABORT),
    }
    for n, b in seeds.items():
        with open(f"{out}/{n}", "wb") as f:
            f.write(b)


if __name__ == "__main__":
    main()
