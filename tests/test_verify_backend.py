"""verify.check_signatures_serial: the libsodium fast path (when PyNaCl is importable) gives OpenSSL's verdicts.

Vectors:
- RFC 8032 §7.1 TEST 1-3 (https://www.rfc-editor.org/rfc/rfc8032#section-7.1), as printed in the RFC.
- ed25519-speccheck cases.json (https://github.com/novifinancial/ed25519-speccheck, file cases.json,
  commit 336651ba7f1c1ae90b7deac7d175290863a00b66): edge cases (small-order keys and R, mixed-order
  points, S >= L) on which Ed25519 libraries disagree. The expected verdicts are not taken from the paper:
  the reference is ``cryptography`` (OpenSSL) itself, and the fast path must agree with it on every case.
"""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sunshine import verify

RFC8032 = [
    ("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
]

# (message, pub_key, signature) of ed25519-speccheck cases.json, in file order (cases 0-9)
SPECCHECK = [
    ("8c93255d71dcab10e8f379c26200f3c7bd5f09d9bc3068d3ef4edeb4853022b6",
     "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
     "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a0000000000000000000000000000000000000000000000000000000000000000"),
    ("9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
     "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
     "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04"),
    ("aebf3f2601a0c8c5d39cc7d8911642f740b78168218da8471772b35f9d35b9ab",
     "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
     "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa8c4bd45aecaca5b24fb97bc10ac27ac8751a7dfe1baff8b953ec9f5833ca260e"),
    ("9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
     "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
     "9046a64750444938de19f227bb80485e92b83fdb4b6506c160484c016cc1852f87909e14428a7a1d62e9f22f3d3ad7802db02eb2e688b6c52fcd6648a98bd009"),
    ("e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
     "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
     "160a1cb0dc9c0258cd0a7d23e94d8fa878bcb1925f2c64246b2dee1796bed5125ec6bc982a269b723e0668e540911a9a6a58921d6925e434ab10aa7940551a09"),
    ("e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
     "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
     "21122a84e0b5fca4052f5b1235c80a537878b38f3142356b2c2384ebad4668b7e40bc836dac0f71076f9abe3a53f9c03c1ceeeddb658d0030494ace586687405"),
    ("85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
     "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
     "e96f66be976d82e60150baecff9906684aebb1ef181f67a7189ac78ea23b6c0e547f7690a0e2ddcd04d87dbc3490dc19b3b3052f7ff0538cb68afb369ba3a514"),
    ("85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
     "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
     "8ce5b96c8f26d0ab6c47958c9e68b937104cd36e13c33566acd2fe8d38aa19427e71f98a473474f2f13f06f97c20d58cc3f54b8bd0d272f42b695dd7e89a8c22"),
    ("fdaebc429f4a735932a160da1301080c13280eea8bc280d1b392c6b9e6ba3a5a",
     "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
     "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f454d370c8d9fc323a41450f8d513eafeb5b0697390c1e505a0d4ddc71f566607"),
    ("84b698d39be126ff55fe45079e6c8bf64a0d7db6994560b4e96b7021eb39c1a1",
     "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
     "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f084d5b99c2a9463d9c8bd5026916996984eeec87ddf1d3be329006ace1b37b09"),
]


def openssl(msg: bytes, sig: bytes, pub: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)
    except InvalidSignature:
        return False
    return True


def batch():
    out = []
    for pub, msg, sig in RFC8032:
        out.append((bytes.fromhex(msg), bytes.fromhex(sig), bytes.fromhex(pub)))
    for msg, pub, sig in SPECCHECK:
        out.append((bytes.fromhex(msg), bytes.fromhex(sig), bytes.fromhex(pub)))
    # tampered: flipped message bit, flipped signature bit, S + L (malleable form), other key
    m, s, p = out[0]
    L = 2**252 + 27742317777372353535851937790883648493
    s_plus_l = s[:32] + (int.from_bytes(s[32:], "little") + L).to_bytes(32, "little")
    out += [(m + b"x", s, p), (m, bytes([s[0] ^ 1]) + s[1:], p), (m, s_plus_l, p), (m, s, out[1][2])]
    return out


def test_rfc8032_vectors_verify():
    assert verify.check_signatures_serial(batch()[:3]) == [True, True, True]


def test_verdicts_are_openssls_on_every_edge_case():
    b = batch()
    expected = [openssl(*t) for t in b]
    assert verify.check_signatures_serial(b) == expected
    assert verify._check_signatures_openssl(b) == expected
    assert expected[-4:] == [False] * 4
    # the edge cases really exercise both outcomes (some speccheck cases pass OpenSSL, some do not)
    spec = expected[3:3 + len(SPECCHECK)]
    assert True in spec and False in spec


def test_libsodium_is_stricter_where_they_differ():
    """Cases libsodium rejects but OpenSSL accepts are re-checked, so the batch verdict is OpenSSL's."""
    nacl_bindings = pytest.importorskip("nacl.bindings")
    from nacl.exceptions import CryptoError

    b = batch()
    differ = 0
    for msg, sig, pub in b:
        try:
            nacl_bindings.crypto_sign_open(sig + msg, pub)
            sodium = True
        except CryptoError:
            sodium = False
        assert not (sodium and not openssl(msg, sig, pub)), "libsodium accepted what OpenSSL rejects"
        differ += sodium != openssl(msg, sig, pub)
    assert differ >= 1  # speccheck cases 0-2 (small-order points): OpenSSL accepts, libsodium rejects


def test_wrong_lengths_are_left_to_openssl():
    m, s, p = batch()[0]
    with pytest.raises(ValueError):
        verify.check_signatures_serial([(m, s, p[:31])])
    # a 63-byte signature must not be re-split against the message
    assert verify.check_signatures_serial([(s[63:] + m, s[:63], p)]) == [False]
