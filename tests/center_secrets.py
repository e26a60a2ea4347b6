#!/usr/bin/python3
"""Helpers for center_e2e_test.sh: find key bytes, and scan files for them.

    center_secrets.py kek FILE            the 32-byte key in a `vmcrypt kmip call
                                          --show-secrets get` answer, as hex
    center_secrets.py home-dek VM_JSON KEK_HEX
                                          the VM home DEK, unwrapped (RFC 5649) from
                                          the key safe of vm.json with the KEK, as hex
    center_secrets.py disk-deks DISK KEK_HEX
                                          the DEKs in an encrypted disk's header
                                          (FILE, or FILE.hdr when detached; format in
                                          docs/disk-format.md), unwrapped with the KEK,
                                          one hex line each
    center_secrets.py scan DIR HEX...     exit 1 (naming the file) if any file under
                                          DIR holds one of the secrets raw, as hex
                                          (either case) or as base64
"""
import base64
import json
import os
import re
import sys


def kek(path):
    found = re.findall(r'KeyMaterial type="ByteString" value="([0-9a-f]{64})"', open(path).read())
    if not found:
        sys.exit("no key material in " + path)
    print(found[0])


def home_dek(vm_json, kek_hex):
    from cryptography.hazmat.primitives.keywrap import aes_key_unwrap_with_padding
    safe = json.load(open(vm_json))["key_safe"]
    dek = aes_key_unwrap_with_padding(bytes.fromhex(kek_hex), base64.b64decode(safe["wrapped_dek"]))
    print(dek.hex())


def disk_deks(disk, kek_hex):
    import os.path
    import struct
    from cryptography.hazmat.primitives.keywrap import aes_key_unwrap_with_padding
    path = disk + ".hdr" if os.path.exists(disk + ".hdr") else disk
    data = open(path, "rb").read(8192)
    found = set()
    for base in (0, 4096):  # the two header copies
        h = data[base:base + 4096]
        if h[:8] != b"VMCRYPTD":
            continue
        (count,) = struct.unpack(">H", h[62:64])
        off = 136
        for _ in range(count):
            off += 2  # role, wrap algorithm
            (plen,) = struct.unpack(">H", h[off:off + 2]); off += 2 + plen
            (klen,) = struct.unpack(">H", h[off:off + 2]); off += 2 + klen
            (wlen,) = struct.unpack(">H", h[off:off + 2]); off += 2
            wrapped = h[off:off + wlen]; off += wlen
            try:
                found.add(aes_key_unwrap_with_padding(bytes.fromhex(kek_hex), wrapped).hex())
            except Exception:
                pass  # a stale copy under an older KEK
    if not found:
        sys.exit("no DEK unwrapped from " + path)
    print("\n".join(sorted(found)))


def scan(root, hexes):
    secrets = [bytes.fromhex(h) for h in hexes]
    for s in secrets:
        if len(s) < 16:
            sys.exit("refusing to scan for a secret shorter than 16 bytes")
    for d, _, files in os.walk(root):
        for f in files:
            path = os.path.join(d, f)
            data = open(path, "rb").read()
            for s in secrets:
                for needle in (s, s.hex().encode(), s.hex().upper().encode(), base64.b64encode(s)):
                    if needle in data:
                        sys.exit("secret bytes found in " + path)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"kek": lambda: kek(*args), "home-dek": lambda: home_dek(*args),
     "disk-deks": lambda: disk_deks(*args),
     "scan": lambda: scan(args[0], args[1:])}[cmd]()
