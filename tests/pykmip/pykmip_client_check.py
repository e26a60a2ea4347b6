#!/usr/bin/python3
"""Smoke check for the PyKMIP test fixture, using PyKMIP's own client.

    /usr/bin/python3 tests/pykmip/pykmip_server.py start --dir DIR
    /usr/bin/python3 tests/pykmip/pykmip_client_check.py --dir DIR [--wire]
    /usr/bin/python3 tests/pykmip/pykmip_server.py stop --dir DIR

Reads DIR/port, DIR/ca.crt, DIR/client.crt, DIR/client.key (written by `start`).
Runs Discover Versions, Query, Create (AES-256 with a Name), Get, Get Attributes,
Get Attribute List, Locate by name, Activate, Destroy-while-active (expected to fail),
Revoke, Destroy, Get-after-destroy (expected to fail), and prints every result.
Then probes, with hand-encoded TTLV, which protocol versions the server accepts in the
request header (with --wire it also prints the request/response bytes).
Exit 0 if every step behaved as expected, 1 otherwise.
"""

import argparse
import enum
import logging
import os
import socket
import ssl
import struct
import sys
import time
import uuid

try:
    from kmip.core import enums
    from kmip.core.factories import attributes as attribute_factory
    from kmip.core import attributes as core_attributes
    from kmip.pie import client as pie_client
    from kmip.pie import exceptions as pie_exceptions
    from kmip.core.messages.contents import ProtocolVersion
except ImportError:
    sys.stderr.write("pykmip_client_check.py: python3-pykmip is not installed (Debian package "
                     "python3-pykmip); run this with /usr/bin/python3\n")
    sys.exit(1)

HOST = "127.0.0.1"
failures = []


def step(title, fn, expect_error=False):
    """Run fn(); print its result (or error).  Record a failure on unexpected outcome."""
    t0 = time.monotonic()
    try:
        result = fn()
    except Exception as e:  # KmipOperationFailure carries status/reason/message
        ms = (time.monotonic() - t0) * 1000
        detail = "%s: %s" % (type(e).__name__, e)
        if isinstance(e, pie_exceptions.KmipOperationFailure):
            detail = "KmipOperationFailure status=%s reason=%s message=%r" % (
                e.status.name, e.reason.name, e.message)
        tag = "EXPECTED ERROR" if expect_error else "ERROR"
        print("[%s] %s (%.1f ms): %s" % (tag, title, ms, detail))
        if not expect_error:
            failures.append(title)
        return None
    ms = (time.monotonic() - t0) * 1000
    if expect_error:
        print("[UNEXPECTED SUCCESS] %s (%.1f ms): %r" % (title, ms, result))
        failures.append(title)
    else:
        print("[ok] %s (%.1f ms): %s" % (title, ms, fmt(result)))
    return result


def fmt(value):
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], list):
        uid, attrs = value
        lines = ["uid=%r, %d attributes:" % (uid, len(attrs))]
        for a in attrs:
            idx = "" if a.attribute_index is None else "[%s]" % a.attribute_index.value
            lines.append("      %s%s = %s" % (a.attribute_name.value, idx,
                                              fmt_attr_value(a.attribute_value)))
        return "\n".join(lines)
    if type(value).__module__ == "kmip.services.results":
        return type(value).__name__
    return repr(value)


def fmt_attr_value(v):
    if isinstance(v, core_attributes.Name):
        return "Name(NameValue=%r, NameType=%s)" % (v.name_value.value, v.name_type.value.name)
    inner = getattr(v, "value", v)
    if isinstance(inner, enum.Enum):
        return "%s (0x%x)" % (inner.name, inner.value)
    if type(v).__name__ == "CryptographicUsageMask":
        return "0x%08x" % inner
    return repr(inner)


# ------------------------------------------------------------------ hand-encoded TTLV

T_STRUCT, T_INT, T_LONG, T_BIGINT, T_ENUM, T_BOOL, T_TEXT, T_BYTES, T_DATE, T_INTERVAL = \
    range(1, 11)


def ttlv(tag, typ, value):
    if typ == T_STRUCT:
        body = b"".join(value)
    elif typ in (T_INT, T_ENUM, T_INTERVAL):
        body = struct.pack(">i" if typ == T_INT else ">I", value)
    elif typ in (T_LONG, T_DATE):
        body = struct.pack(">q", value)
    elif typ == T_TEXT:
        body = value.encode()
    else:
        body = bytes(value)
    pad = (8 - len(body) % 8) % 8
    return tag.to_bytes(3, "big") + bytes([typ]) + struct.pack(">I", len(body)) + body + b"\0" * pad


def request(major, minor, operation, payload_items=()):
    header = ttlv(0x420077, T_STRUCT, [
        ttlv(0x420069, T_STRUCT, [ttlv(0x42006A, T_INT, major), ttlv(0x42006B, T_INT, minor)]),
        ttlv(0x42000D, T_INT, 1)])
    item = ttlv(0x42000F, T_STRUCT, [ttlv(0x42005C, T_ENUM, operation),
                                     ttlv(0x420079, T_STRUCT, list(payload_items))])
    return ttlv(0x420078, T_STRUCT, [header, item])


def decode(buf, off=0, end=None, depth=0, out=None):
    """Decode TTLV into a list of (depth, tag, type, value) rows."""
    out = [] if out is None else out
    end = len(buf) if end is None else end
    while off + 8 <= end:
        tag = int.from_bytes(buf[off:off + 3], "big")
        typ = buf[off + 3]
        length = struct.unpack(">I", buf[off + 4:off + 8])[0]
        body = buf[off + 8:off + 8 + length]
        if typ == T_STRUCT:
            out.append((depth, tag, typ, None))
            decode(buf, off + 8, off + 8 + length, depth + 1, out)
        elif typ in (T_INT, T_ENUM, T_INTERVAL):
            out.append((depth, tag, typ, struct.unpack(">i" if typ == T_INT else ">I", body)[0]))
        elif typ in (T_LONG, T_DATE):
            out.append((depth, tag, typ, struct.unpack(">q", body)[0]))
        elif typ == T_TEXT:
            out.append((depth, tag, typ, body.decode(errors="replace")))
        else:
            out.append((depth, tag, typ, body.hex()))
        off += 8 + length + ((8 - length % 8) % 8 if typ != T_STRUCT else 0)
    return out


def tag_name(tag):
    try:
        return enums.Tags(tag).name
    except ValueError:
        return "0x%06x" % tag


def rows_text(rows):
    lines = []
    for depth, tag, typ, value in rows:
        lines.append("    %s%s%s" % ("  " * depth, tag_name(tag),
                                     "" if value is None else " = %r" % (value,)))
    return "\n".join(lines)


def summarize(rows):
    """Protocol version of the response header + per batch item status/reason/message."""
    major = minor = None
    results = []
    for _, tag, _, value in rows:
        if tag == 0x42006A and major is None:
            major = value
        elif tag == 0x42006B and minor is None:
            minor = value
        elif tag == 0x42007F:
            results.append(["status=%s" % enums.ResultStatus(value).name])
        elif tag == 0x42007E and results:
            results[-1].append("reason=%s" % enums.ResultReason(value).name)
        elif tag == 0x42007D and results:
            results[-1].append("message=%r" % value)
    versions = []
    in_payload = False
    for i, (depth, tag, _, value) in enumerate(rows):
        if tag == 0x42007C:
            in_payload = True
        elif in_payload and tag == 0x42006A:
            versions.append("%d.%d" % (value, rows[i + 1][3]))
    s = "response header %s.%s; %s" % (major, minor, "; ".join(" ".join(r) for r in results))
    if versions:
        s += "; listed versions: %s" % ", ".join(versions)
    return s


def raw_exchange(ctx, port, data):
    with socket.create_connection((HOST, port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=HOST) as tls:
            tls.sendall(data)
            hdr = b""
            while len(hdr) < 8:
                chunk = tls.recv(8 - len(hdr))
                if not chunk:
                    raise ConnectionError("server closed the connection without a response")
                hdr += chunk
            need = struct.unpack(">I", hdr[4:8])[0]
            body = b""
            while len(body) < need:
                chunk = tls.recv(need - len(body))
                if not chunk:
                    raise ConnectionError("short response")
                body += chunk
            return hdr + body


def version_probe(d, port, wire):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(os.path.join(d, "ca.crt"))
    ctx.load_cert_chain(os.path.join(d, "client.crt"), os.path.join(d, "client.key"))
    print("\n== Protocol versions accepted in the request header (hand-encoded TTLV) ==")
    DISCOVER, QUERY = 0x1E, 0x18
    qf = ttlv(0x420074, T_ENUM, 3)  # Query Function: Query Server Information
    for major, minor in ((1, 0), (1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (2, 0), (2, 1),
                         (3, 0)):
        for opname, op, items in (("DiscoverVersions", DISCOVER, ()), ("Query", QUERY, (qf,))):
            try:
                resp = raw_exchange(ctx, port, request(major, minor, op, items))
                print("  %d.%d %-16s -> %s" % (major, minor, opname, summarize(decode(resp))))
            except Exception as e:
                print("  %d.%d %-16s -> no response: %s: %s" % (major, minor, opname,
                                                             type(e).__name__, e))
    if wire:
        req = request(1, 2, DISCOVER)
        resp = raw_exchange(ctx, port, req)
        print("\n== Wire bytes: Discover Versions, protocol 1.2, empty payload ==")
        print("  request  (%d bytes): %s" % (len(req), req.hex()))
        print(rows_text(decode(req)))
        print("  response (%d bytes): %s" % (len(resp), resp.hex()))
        print(rows_text(decode(resp)))


# ------------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--wire", action="store_true", help="print raw request/response bytes")
    args = ap.parse_args()
    d = os.path.abspath(args.dir)
    try:
        with open(os.path.join(d, "port")) as f:
            port = int(f.read().strip())
    except (OSError, ValueError) as e:
        sys.stderr.write("pykmip_client_check.py: cannot read %s/port (is the server started?): "
                         "%s\n" % (d, e))
        return 1
    conf = os.path.join(d, "client.conf")  # the client insists that config_file exists
    if not os.path.exists(conf):
        with open(conf, "w") as f:
            f.write("[client]\n")
    logging.basicConfig(level=logging.ERROR)

    client = pie_client.ProxyKmipClient(
        hostname=HOST, port=port,
        cert=os.path.join(d, "client.crt"), key=os.path.join(d, "client.key"),
        ca=os.path.join(d, "ca.crt"), ssl_version="PROTOCOL_TLSv1_2", config_file=conf)
    # ProxyKmipClient defaults to KMIP 1.2 in the request header.
    name = "vmcrypt-check-" + uuid.uuid4().hex[:8]
    t0 = time.monotonic()
    try:
        client.open()
    except Exception as e:
        sys.stderr.write("pykmip_client_check.py: cannot connect to %s:%d: %s: %s\n"
                         % (HOST, port, type(e).__name__, e))
        return 1
    print("connected to %s:%d in %.1f ms (client KMIP version %s)"
          % (HOST, port, (time.monotonic() - t0) * 1000, client.kmip_version.name))
    f = attribute_factory.AttributeFactory()
    try:
        print("\n== Server discovery ==")
        dv = step("DiscoverVersions (empty list)", lambda: client.proxy.discover_versions())
        if dv is not None:
            print("      versions:", ", ".join("%d.%d" % (v.major, v.minor)
                                            for v in dv.protocol_versions))
        dv = step("DiscoverVersions [1.4, 2.1, 1.0]", lambda: client.proxy.discover_versions(
            protocol_versions=[ProtocolVersion(1, 4), ProtocolVersion(2, 1),
                               ProtocolVersion(1, 0)]))
        if dv is not None:
            print("      versions:", ", ".join("%d.%d" % (v.major, v.minor)
                                            for v in dv.protocol_versions))
        q = step("Query(operations, server information)", lambda: client.proxy.query(
            query_functions=[enums.QueryFunction.QUERY_OPERATIONS,
                             enums.QueryFunction.QUERY_SERVER_INFORMATION]))
        if q is not None:
            print("      operations:", ", ".join(o.name for o in q.operations))
            print("      vendor:", q.vendor_identification)

        print("\n== Key life cycle (name %r) ==" % name)
        uid = step("Create AES-256 with Name", lambda: client.create(
            enums.CryptographicAlgorithm.AES, 256, name=name,
            cryptographic_usage_mask=[enums.CryptographicUsageMask.ENCRYPT,
                                      enums.CryptographicUsageMask.DECRYPT]))
        if uid is None:
            return 1
        key = step("Get", lambda: client.get(uid))
        if key is not None:
            print("      %s alg=%s len=%s format=%s value=%d bytes" % (
                type(key).__name__, key.cryptographic_algorithm.name, key.cryptographic_length,
                key.key_format_type.name, len(key.value)))
            if len(key.value) != 32:
                failures.append("Get: key value is not 32 bytes")
        step("GetAttributes (no names = all)", lambda: client.get_attributes(uid))
        step("GetAttributes [State, Name]", lambda: client.get_attributes(uid, ["State", "Name"]))
        step("GetAttributeList", lambda: client.get_attribute_list(uid))

        name_attr = f.create_attribute(enums.AttributeType.NAME, name)
        found = step("Locate by Name (NameType=UninterpretedTextString)",
                     lambda: client.locate(attributes=[name_attr]))
        if found is not None and found != [uid]:
            failures.append("Locate by Name did not return exactly the new key")
        uri_attr = f.create_attribute(enums.AttributeType.NAME, core_attributes.Name.create(
            name, enums.NameType.URI))
        step("Locate by Name (same value, NameType=URI)",
             lambda: client.locate(attributes=[uri_attr]))
        step("Locate by Name (unknown value)", lambda: client.locate(
            attributes=[f.create_attribute(enums.AttributeType.NAME, name + "-nope")]))

        step("Activate", lambda: client.activate(uid))
        step("Activate again", lambda: client.activate(uid), expect_error=True)
        step("GetAttributes [State]", lambda: client.get_attributes(uid, ["State"]))
        step("Destroy while Active", lambda: client.destroy(uid), expect_error=True)
        step("Revoke (CessationOfOperation)", lambda: client.revoke(
            enums.RevocationReasonCode.CESSATION_OF_OPERATION, uid,
            revocation_message="vmcrypt smoke test"))
        step("GetAttributes [State]", lambda: client.get_attributes(uid, ["State"]))
        step("Destroy", lambda: client.destroy(uid))
        step("Get after Destroy", lambda: client.get(uid), expect_error=True)
        step("Locate by Name after Destroy", lambda: client.locate(attributes=[name_attr]))

        print("\n== Revoke variants on a second key ==")
        uid2 = step("Create AES-256", lambda: client.create(
            enums.CryptographicAlgorithm.AES, 256, name=name + "-2"))
        if uid2 is not None:
            step("Revoke pre-active key (CessationOfOperation)", lambda: client.revoke(
                enums.RevocationReasonCode.CESSATION_OF_OPERATION, uid2), expect_error=True)
            step("Revoke pre-active key (KeyCompromise)", lambda: client.revoke(
                enums.RevocationReasonCode.KEY_COMPROMISE, uid2))
            step("GetAttributes [State]", lambda: client.get_attributes(uid2, ["State"]))
            step("Destroy compromised key", lambda: client.destroy(uid2))
    finally:
        client.close()

    version_probe(d, port, args.wire)

    print()
    if failures:
        print("FAILED steps: %s" % "; ".join(failures))
        return 1
    print("all steps behaved as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
