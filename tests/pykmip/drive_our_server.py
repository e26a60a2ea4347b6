#!/usr/bin/python3
"""Drives a vmcrypt KMS with PyKMIP's own client (kmip.pie.client.ProxyKmipClient):
software nobody here wrote. Each step checks the answer; prints one line per
step and exits non-zero on the first failure.

    /usr/bin/python3 tests/pykmip/drive_our_server.py --port P --ca CA --cert CRT --key KEY
"""
import argparse
import os
import sys
import tempfile

from kmip import enums
from kmip.pie import client as pie_client
from kmip.pie import objects
from kmip.core.factories import attributes as attr_factory


def asymmetric_and_derive(c, check):
    """Create Key Pair, Sign / Signature Verify and Derive Key (KMIP 1.4 §4.2,
    §4.31, §4.32, §4.6) through PyKMIP 0.10's client; signatures are checked
    with python3-cryptography as well, and the derived key with hashlib."""
    import hashlib
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    pub_uid, priv_uid = c.create_key_pair(
        enums.CryptographicAlgorithm.RSA, 2048,
        public_name="pykmip-pub", public_usage_mask=[enums.CryptographicUsageMask.VERIFY],
        private_name="pykmip-priv", private_usage_mask=[enums.CryptographicUsageMask.SIGN])
    check(pub_uid and priv_uid and pub_uid != priv_uid,
          "create_key_pair RSA-2048 -> %s / %s" % (pub_uid, priv_uid))
    pub = c.get(pub_uid)
    check(isinstance(pub, objects.PublicKey) and pub.cryptographic_length == 2048
          and pub.key_format_type == enums.KeyFormatType.PKCS_1, "get public key (PKCS#1)")
    priv = c.get(priv_uid)
    check(isinstance(priv, objects.PrivateKey) and priv.cryptographic_algorithm
          == enums.CryptographicAlgorithm.RSA, "get private key")
    c.activate(pub_uid)
    c.activate(priv_uid)
    params = {"cryptographic_algorithm": enums.CryptographicAlgorithm.RSA,
              "hashing_algorithm": enums.HashingAlgorithm.SHA_256,
              "padding_method": enums.PaddingMethod.PSS}
    msg = b"signed through PyKMIP"
    sig = c.sign(msg, uid=priv_uid, cryptographic_parameters=params)
    check(isinstance(sig, bytes) and len(sig) == 256, "sign RSA-PSS-SHA256: 256 bytes")
    key = serialization.load_der_public_key(pub.value)
    try:
        key.verify(sig, msg, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                         salt_length=padding.PSS.AUTO), hashes.SHA256())
        ok = True
    except InvalidSignature:
        ok = False
    check(ok, "the signature verifies with python3-cryptography")
    v = c.signature_verify(msg, sig, uid=pub_uid, cryptographic_parameters=params)
    check(v == enums.ValidityIndicator.VALID, "signature_verify: Valid")
    v = c.signature_verify(msg + b"!", sig, uid=pub_uid, cryptographic_parameters=params)
    check(v == enums.ValidityIndicator.INVALID, "signature_verify of changed data: Invalid")
    try:
        c.sign(msg, uid=pub_uid, cryptographic_parameters=params)
        check(False, "sign with the public key fails")
    except Exception as e:
        check("PERMISSION_DENIED" in str(e) or "Permission Denied" in str(e),
              "sign with the public key (no Sign in its mask): Permission Denied")

    # PBKDF2 from a registered password (Secret Data with Derive Key).
    password = b"pykmip password"
    sid = c.register(objects.SecretData(password, enums.SecretDataType.PASSWORD,
                                        masks=[enums.CryptographicUsageMask.DERIVE_KEY]))
    c.activate(sid)
    did = c.derive_key(enums.ObjectType.SYMMETRIC_KEY, [sid], enums.DerivationMethod.PBKDF2,
                       {"cryptographic_parameters": {
                           "hashing_algorithm": enums.HashingAlgorithm.SHA_256},
                        "salt": b"pykmip-salt", "iteration_count": 1000},
                       cryptographic_algorithm=enums.CryptographicAlgorithm.AES,
                       cryptographic_length=256)
    derived = c.get(did)
    check(derived.value == hashlib.pbkdf2_hmac("sha256", password, b"pykmip-salt", 1000, 32),
          "derive_key PBKDF2-SHA256 matches hashlib")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    a = ap.parse_args()

    conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    conf.write("[client]\n")
    conf.close()
    steps = 0

    def check(cond, what):
        nonlocal steps
        if not cond:
            print("FAIL: " + what)
            sys.exit(1)
        steps += 1
        print("ok: " + what)

    try:
        with pie_client.ProxyKmipClient(hostname=a.host, port=a.port, cert=a.cert, key=a.key,
                                        ca=a.ca, ssl_version="PROTOCOL_TLSv1_2",
                                        config_file=conf.name) as c:
            uid = c.create(enums.CryptographicAlgorithm.AES, 256, name="pykmip-made",
                           cryptographic_usage_mask=[enums.CryptographicUsageMask.ENCRYPT,
                                                     enums.CryptographicUsageMask.DECRYPT])
            check(isinstance(uid, str) and len(uid) > 0, "create AES-256 -> %s" % uid)

            key = c.get(uid)
            check(isinstance(key, objects.SymmetricKey) and len(key.value) == 32,
                  "get returns a 32-byte symmetric key")
            check(key.cryptographic_algorithm == enums.CryptographicAlgorithm.AES,
                  "get: algorithm AES")

            material = bytes(range(16))
            reg = objects.SymmetricKey(enums.CryptographicAlgorithm.AES, 128, material,
                                       name="pykmip-registered")
            rid = c.register(reg)
            check(isinstance(rid, str) and rid != uid, "register AES-128 -> %s" % rid)
            back = c.get(rid)
            check(back.value == material, "get of the registered key returns its bytes")

            _, attrs = c.get_attributes(uid, ["State", "Cryptographic Length", "Name"])
            by_name = {x.attribute_name.value: x.attribute_value for x in attrs}
            check(by_name["State"].value == enums.State.PRE_ACTIVE, "get_attributes: Pre-Active")
            check(by_name["Cryptographic Length"].value == 256, "get_attributes: length 256")
            check(by_name["Name"].name_value.value == "pykmip-made", "get_attributes: name")

            names = c.get_attribute_list(uid)
            check("State" in names and "Unique Identifier" in names and "Name" in names,
                  "get_attribute_list lists State, Unique Identifier, Name")

            f = attr_factory.AttributeFactory()
            found = c.locate(attributes=[f.create_attribute(enums.AttributeType.NAME, "pykmip-made")])
            check(found == [uid], "locate by name finds exactly the key")

            c.activate(uid)
            _, attrs = c.get_attributes(uid, ["State"])
            check(attrs[0].attribute_value.value == enums.State.ACTIVE, "activate -> Active")

            # Encrypt / Decrypt (KMIP 1.4 §4.29, §4.30): AES-CBC with PKCS5
            # padding, the server making the IV; then ECB with the client's.
            cbc = {"block_cipher_mode": enums.BlockCipherMode.CBC,
                   "padding_method": enums.PaddingMethod.PKCS5,
                   "cryptographic_algorithm": enums.CryptographicAlgorithm.AES,
                   "random_iv": True}
            plain = b"attack at dawn, 20+ bytes"
            ct, iv = c.encrypt(plain, uid=uid, cryptographic_parameters=cbc)
            check(len(ct) == 32 and iv is not None and len(iv) == 16 and ct[:len(plain)] != plain,
                  "encrypt AES-CBC-PKCS5 with a server-made IV")
            cbc.pop("random_iv")
            back = c.decrypt(ct, uid=uid, cryptographic_parameters=cbc, iv_counter_nonce=iv)
            check(back == plain, "decrypt AES-CBC-PKCS5 returns the plaintext")
            ecb = {"block_cipher_mode": enums.BlockCipherMode.ECB,
                   "padding_method": enums.PaddingMethod.NONE}
            ct, _ = c.encrypt(bytes(16), uid=uid, cryptographic_parameters=ecb)
            check(len(ct) == 16 and c.decrypt(ct, uid=uid, cryptographic_parameters=ecb)
                  == bytes(16), "encrypt/decrypt AES-ECB round trip")

            c.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, uid)
            _, attrs = c.get_attributes(uid, ["State"])
            check(attrs[0].attribute_value.value == enums.State.DEACTIVATED, "revoke -> Deactivated")

            c.destroy(uid)
            _, attrs = c.get_attributes(uid, ["State"])
            check(attrs[0].attribute_value.value == enums.State.DESTROYED, "destroy -> Destroyed")
            try:
                c.get(uid)
                check(False, "get of a destroyed key fails")
            except Exception as e:  # PyKMIP raises KmipOperationFailure
                check("Key Value Not Present" in str(e) or "KEY_VALUE_NOT_PRESENT" in str(e),
                      "get of a destroyed key fails: Key Value Not Present")
            try:
                c.get("no-such-id")
                check(False, "get of an unknown id fails")
            except Exception as e:
                check("ITEM_NOT_FOUND" in str(e) or "Item Not Found" in str(e),
                      "get of an unknown id fails: Item Not Found")
            asymmetric_and_derive(c, check)
    finally:
        os.unlink(conf.name)
    print("%d passed, 0 failed" % steps)


if __name__ == "__main__":
    main()
