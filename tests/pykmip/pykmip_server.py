#!/usr/bin/python3
"""Test fixture: run a real PyKMIP server (Debian python3-pykmip 0.10) on loopback.

Standard library + the `openssl` command line only.  Run it with /usr/bin/python3.

    /usr/bin/python3 tests/pykmip/pykmip_server.py start --dir DIR
        Creates DIR (if needed), a throwaway EC P-256 test CA, a server certificate
        (SAN IP:127.0.0.1, DNS:localhost; EKU serverAuth+clientAuth), a client certificate
        (CN=vmcrypt-test, EKU clientAuth), DIR/server.conf and an empty DIR/policies, picks a
        free port on 127.0.0.1, starts /usr/bin/pykmip-server detached (own session), waits
        until it completes a real TLS 1.2 handshake with the client certificate, then prints
        ONE line of JSON on stdout:
            {"host":"127.0.0.1","port":N,"ca":"...","cert":"...","key":"...","pid":N}
        Files written: ca.crt ca.key server.crt server.key client.crt client.key (keys 0600),
        server.conf, port, server.pid, server.json (the JSON line), server.log, server.out,
        pykmip.db (removed at every start: each start begins with an empty key store).
        Exit 0 on success; on failure a one-line error on stderr, everything started is
        killed, exit 1.

    /usr/bin/python3 tests/pykmip/pykmip_server.py stop --dir DIR
        SIGTERM the server recorded in DIR/server.pid, wake its accept loop so it notices,
        wait up to 15 s, then SIGKILL its whole process group.  Exit 0 also when nothing
        is running.

Options: --timeout SECONDS (start: readiness deadline, default 30; stop: grace period
before SIGKILL, default 15).
"""

import argparse
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time

PYKMIP_SERVER = "/usr/bin/pykmip-server"
SYSTEM_PYTHON = "/usr/bin/python3"
HOST = "127.0.0.1"
CLIENT_CN = "vmcrypt-test"
CERT_DAYS = "30"
PROG = "pykmip_server.py"
MISSING_PYKMIP = "python3-pykmip is not installed (Debian package python3-pykmip)"


class FixtureError(Exception):
    pass


# ----------------------------------------------------------------------------- helpers

def _paths(d):
    d = os.path.abspath(d)
    j = lambda name: os.path.join(d, name)  # noqa: E731
    return {
        "dir": d,
        "ca": j("ca.crt"), "ca_key": j("ca.key"),
        "server_cert": j("server.crt"), "server_key": j("server.key"),
        "cert": j("client.crt"), "key": j("client.key"),
        "conf": j("server.conf"), "policies": j("policies"), "db": j("pykmip.db"),
        "log": j("server.log"), "out": j("server.out"), "pid": j("server.pid"),
        "port": j("port"), "json": j("server.json"), "ossl_cnf": j("openssl.cnf"),
    }


def _write(path, text, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def _read_int(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def _one_line(text, limit=300):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."


def _read_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _last_line(path):
    try:
        with open(path, errors="replace") as f:
            lines = [l.strip() for l in f.read().splitlines() if l.strip()]
        return lines[-1] if lines else ""
    except OSError:
        return ""


def _pid_state(pid):
    """'alive', 'zombie' or 'gone'."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        state = stat[stat.rindex(")") + 2:].split()[0]
        return "zombie" if state in ("Z", "X") else "alive"
    except (OSError, ValueError, IndexError):
        return "gone"


def _is_pykmip_server(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return b"pykmip-server" in f.read()
    except OSError:
        return False


def _group_members(pgid):
    """Live (non-zombie) pykmip-server processes whose process group is pgid (the
    server's helpers are forks of it and carry the same command line)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X") \
                    and _is_pykmip_server(int(entry)):
                members.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return members


def _openssl(args, what):
    try:
        r = subprocess.run(["openssl"] + args, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    except FileNotFoundError:
        raise FixtureError("the `openssl` command line tool is not installed")
    except subprocess.TimeoutExpired:
        raise FixtureError("openssl timed out while %s" % what)
    if r.returncode != 0:
        raise FixtureError("openssl failed while %s: %s"
                           % (what, _one_line(r.stderr.decode(errors="replace"))))


def _check_pykmip():
    if not (os.path.isfile(PYKMIP_SERVER) and os.access(PYKMIP_SERVER, os.X_OK)):
        raise FixtureError(MISSING_PYKMIP)
    if os.path.realpath(sys.executable) == os.path.realpath(SYSTEM_PYTHON):
        import importlib.util
        ok = importlib.util.find_spec("kmip") is not None
    else:
        ok = subprocess.run([SYSTEM_PYTHON, "-c", "import kmip"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    if not ok:
        raise FixtureError(MISSING_PYKMIP)


# ------------------------------------------------------------------------ certificates

OPENSSL_CNF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyAgreement
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyAgreement
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def _make_key(path, what):
    _openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-out", path], "generating the %s key" % what)
    os.chmod(path, 0o600)


def _make_certs(p):
    _write(p["ossl_cnf"], OPENSSL_CNF)
    cnf = p["ossl_cnf"]
    _make_key(p["ca_key"], "CA")
    _openssl(["req", "-new", "-x509", "-config", cnf, "-extensions", "v3_ca",
              "-key", p["ca_key"], "-subj", "/CN=vmcrypt-test-ca", "-days", CERT_DAYS,
              "-sha256", "-set_serial", "0x" + secrets.token_hex(8), "-out", p["ca"]],
             "creating the test CA certificate")
    for cert, key, cn, ext, what in (
            (p["server_cert"], p["server_key"], "127.0.0.1", "v3_server", "server"),
            (p["cert"], p["key"], CLIENT_CN, "v3_client", "client")):
        _make_key(key, what)
        csr = cert + ".csr"
        _openssl(["req", "-new", "-config", cnf, "-key", key, "-subj", "/CN=" + cn,
                  "-out", csr], "creating the %s certificate request" % what)
        _openssl(["x509", "-req", "-in", csr, "-CA", p["ca"], "-CAkey", p["ca_key"],
                  "-set_serial", "0x" + secrets.token_hex(8), "-days", CERT_DAYS, "-sha256",
                  "-extfile", cnf, "-extensions", ext, "-out", cert],
                 "signing the %s certificate" % what)
        os.unlink(csr)
    for f in (p["ca"], p["server_cert"], p["cert"]):
        os.chmod(f, 0o644)


# ------------------------------------------------------------------------------ server

SERVER_CONF = """\
[server]
hostname={host}
port={port}
certificate_path={server_cert}
key_path={server_key}
ca_path={ca}
auth_suite=TLS1.2
enable_tls_client_auth=True
tls_cipher_suites=
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
policy_path={policies}
logging_level={log_level}
database_path={db}
"""


def _free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((HOST, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def _client_context(p):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(cafile=p["ca"])
    ctx.load_cert_chain(certfile=p["cert"], keyfile=p["key"])
    ctx.check_hostname = True
    return ctx


def _handshake(ctx, port, timeout=3.0):
    """Full TLS 1.2 handshake with the client certificate.  Raises on failure."""
    with socket.create_connection((HOST, port), timeout=timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname=HOST) as tls:
            if tls.version() != "TLSv1.2":
                raise FixtureError("negotiated %s instead of TLSv1.2" % tls.version())


def _kill_group(proc_or_pid):
    pid = proc_or_pid.pid if hasattr(proc_or_pid, "pid") else proc_or_pid
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if hasattr(proc_or_pid, "wait"):
        try:
            proc_or_pid.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def _launch(p, port, log_level):
    fields = dict(p, host=HOST, port=port, log_level=log_level)
    _write(p["conf"], SERVER_CONF.format(**fields))
    out = open(p["out"], "ab")
    out_offset = out.seek(0, os.SEEK_END)
    try:
        proc = subprocess.Popen(
            [PYKMIP_SERVER, "-f", p["conf"], "-l", p["log"]],
            cwd=p["dir"], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True)
    except OSError as e:
        raise FixtureError("could not execute %s: %s" % (PYKMIP_SERVER, e))
    finally:
        out.close()
    _write(p["pid"], "%d\n" % proc.pid)
    return proc, out_offset


def _wait_ready(p, proc, out_offset, port, deadline):
    """None when ready, else (kind, detail) with kind exited/bind/crashed/timeout."""
    ctx = _client_context(p)
    last_err = "no attempt made"
    while True:
        if proc.poll() is not None:
            return ("exited", proc.returncode)
        # A failed start (e.g. "Server failed to bind socket handler") does not make
        # pykmip-server exit: its multiprocessing helpers keep it alive.  Watch its output.
        # A traceback through /usr/bin/pykmip-server is the main thread's (tracebacks
        # of session threads start in threading.py).
        out = _read_text(p["out"])[out_offset:]
        if 'File "%s"' % PYKMIP_SERVER in out:
            last = [l.strip() for l in out.splitlines() if l.strip()][-1]
            if "failed to bind socket" in out:
                return ("bind", last)
            return ("crashed", last)
        try:
            _handshake(ctx, port)
            return None
        except ssl.SSLCertVerificationError as e:
            # The certificates we just made do not verify: waiting will not help.
            raise FixtureError("TLS handshake with 127.0.0.1:%d failed certificate "
                               "verification: %s" % (port, _one_line(e)))
        except (OSError, ssl.SSLError, FixtureError) as e:
            last_err = _one_line("%s: %s" % (type(e).__name__, e), 160)
        if time.monotonic() >= deadline:
            return ("timeout", last_err)
        time.sleep(0.1)


class _Terminated(BaseException):
    pass


def _on_sigterm(signum, frame):
    raise _Terminated()


def cmd_start(args):
    p = _paths(args.dir)
    proc = None
    owns_state = False  # never touch the files of a server we did not start
    # A test runner that times out kills us with SIGTERM: clean up like on Ctrl-C.
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        _check_pykmip()
        os.makedirs(p["dir"], exist_ok=True)
        os.makedirs(p["policies"], exist_ok=True)

        old = _read_int(p["pid"])
        if old and _pid_state(old) == "alive" and _is_pykmip_server(old):
            raise FixtureError("a PyKMIP server is already running for %s (pid %d); "
                               "run `stop --dir %s` first" % (p["dir"], old, p["dir"]))

        # Fresh state for every start.
        owns_state = True
        for f in (p["pid"], p["port"], p["json"], p["db"], p["out"], p["log"]):
            if os.path.exists(f):
                os.unlink(f)
        for i in range(1, 6):
            if os.path.exists("%s.%d" % (p["log"], i)):
                os.unlink("%s.%d" % (p["log"], i))

        _make_certs(p)

        deadline = time.monotonic() + args.timeout
        attempts = 0
        while True:
            attempts += 1
            port = _free_port()
            proc, out_offset = _launch(p, port, args.log_level)
            result = _wait_ready(p, proc, out_offset, port, deadline)
            if result is None:
                break
            kind, detail = result
            if kind in ("bind", "crashed", "exited"):
                _kill_group(proc)
                proc = None
            if kind == "bind" and attempts < 3 and time.monotonic() < deadline:
                # Somebody took the port between our probe and the server's bind.
                with open(p["out"], "ab") as f:
                    f.write(b"\n[pykmip_server.py] port %d was taken; retrying\n" % port)
                continue
            if kind == "bind":
                raise FixtureError("pykmip-server could not bind 127.0.0.1:%d (%s); see %s"
                                   % (port, _one_line(detail, 200), p["out"]))
            if kind in ("crashed", "exited"):
                what = ("exited with status %s" % detail if kind == "exited"
                        else "failed (%s)" % _one_line(detail, 200))
                last = _last_line(p["out"]) if kind == "exited" else ""
                raise FixtureError(
                    "pykmip-server %s before accepting connections%s; see %s and %s"
                    % (what, " (last output: %s)" % _one_line(last, 200) if last else "",
                       p["out"], p["log"]))
            raise FixtureError(
                "pykmip-server (pid %d) did not complete a TLS 1.2 handshake on %s:%d within "
                "%g s (last error: %s); see %s" % (proc.pid, HOST, port, args.timeout,
                                                    detail, p["log"]))

        _write(p["port"], "%d\n" % port)
        info = {"host": HOST, "port": port, "ca": p["ca"], "cert": p["cert"],
                "key": p["key"], "pid": proc.pid}
        line = json.dumps(info, separators=(",", ":"))
        _write(p["json"], line + "\n")
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        return 0
    except BaseException as e:  # includes KeyboardInterrupt: never leave a server behind
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if proc is not None:
            _kill_group(proc)
        elif owns_state:
            # Interrupted between the launch and `proc` being assigned?
            pid = _read_int(p["pid"])
            if pid and _pid_state(pid) == "alive" and _is_pykmip_server(pid):
                _kill_group(pid)
        if owns_state:
            for f in (p["pid"], p["port"], p["json"]):
                try:
                    os.unlink(f)
                except OSError:
                    pass
        if isinstance(e, FixtureError):
            msg = str(e)
        elif isinstance(e, (KeyboardInterrupt, _Terminated)):
            msg = "interrupted by a signal"
        else:
            msg = "%s: %s" % (type(e).__name__, e)
        sys.stderr.write("%s: start failed: %s\n" % (PROG, _one_line(msg, 1000)))
        return 1


def cmd_stop(args):
    p = _paths(args.dir)
    pid = _read_int(p["pid"])
    port = _read_int(p["port"])
    if pid is None:
        return 0

    def cleanup_files():
        for f in (p["pid"], p["port"], p["json"]):
            try:
                os.unlink(f)
            except OSError:
                pass

    def kill_members():
        for member in _group_members(pid):
            try:
                os.kill(member, signal.SIGKILL)
            except ProcessLookupError:
                pass

    if _pid_state(pid) != "alive" or not _is_pykmip_server(pid):
        # Main process already gone; make sure no helper of its group survived.
        kill_members()
        cleanup_files()
        return 0

    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    # PyKMIP notices SIGTERM only when accept() returns (it has a 10 s timeout); a
    # plain TCP connection makes it return at once.
    if port:
        try:
            socket.create_connection((HOST, port), timeout=1).close()
        except OSError:
            pass

    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline and _pid_state(pid) == "alive":
        time.sleep(0.05)
    # Helpers (multiprocessing manager, policy monitor) exit right after the main
    # process; give them a moment, then SIGKILL whatever is left in the group.
    grace = time.monotonic() + 2
    while _group_members(pid) and time.monotonic() < grace and _pid_state(pid) != "alive":
        time.sleep(0.05)
    if _group_members(pid):
        kill_members()
        kill_deadline = time.monotonic() + 5
        while _group_members(pid) and time.monotonic() < kill_deadline:
            time.sleep(0.05)
    # Nobody here can reap the detached server: give its new parent (init or a
    # subreaper) a moment, so that `pgrep pykmip-server` is clean when we return.
    reap = time.monotonic() + 2
    while _pid_state(pid) == "zombie" and time.monotonic() < reap:
        time.sleep(0.05)
    left = _group_members(pid)
    cleanup_files()
    if left:
        sys.stderr.write("%s: stop: processes %s of the PyKMIP server group survived SIGKILL\n"
                         % (PROG, left))
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start", help="start a PyKMIP server for DIR")
    s.add_argument("--dir", required=True)
    s.add_argument("--timeout", type=float, default=30.0,
                   help="seconds to wait for the server to be ready (default 30)")
    s.add_argument("--log-level", default="DEBUG",
                   help="PyKMIP logging_level (default DEBUG: logs request/response hex)")
    t = sub.add_parser("stop", help="stop the PyKMIP server for DIR")
    t.add_argument("--dir", required=True)
    t.add_argument("--timeout", type=float, default=15.0,
                   help="seconds to wait after SIGTERM before SIGKILL (default 15)")
    args = ap.parse_args()
    return cmd_start(args) if args.cmd == "start" else cmd_stop(args)


if __name__ == "__main__":
    sys.exit(main())
