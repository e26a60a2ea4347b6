#!/usr/bin/python3
"""Helpers for center_e2e_test.sh: find key bytes, and scan files for them.

    center_secrets.py kek FILE            the 32-byte key in a `vmcrypt kmip call
                                          --show-secrets get` answer, as hex
    center_secrets.py home-dek VM_JSON KEK_HEX
                                          the VM home DEK, unwrapped (RFC 5649) from
                                          the key safe of vm.json with the KEK, as hex
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
     "scan": lambda: scan(args[0], args[1:])}[cmd]()
