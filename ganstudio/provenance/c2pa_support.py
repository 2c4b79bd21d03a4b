"""C2PA manifests for PNG and WAV, through c2pa-python when it is installed.

The claim says: created, digital source type "trained algorithmic media", made by GAN Studio,
and carries the studio's own signed envelope as an assertion. It is signed with a local
certificate chain (a CA and a signing certificate) made on first use in the studio data
directory; no public trust list knows that CA, so C2PA readers report the signer as unknown
while still checking that the file was not changed. Without c2pa-python everything else works
and `status` says "C2PA unavailable".
"""

from __future__ import annotations

import datetime
import io
import json
import threading

from .errors import ProvenanceError
from .home import studio_home, write_private_once

SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
MEDIA = {"png": "image/png", "wav": "audio/wav"}
UNAVAILABLE = "C2PA unavailable (install c2pa-python to add C2PA manifests)"
_lock = threading.Lock()


def _library():
    try:
        import c2pa

        return c2pa
    except Exception:  # ImportError, or a native library that fails to load
        return None


def available() -> bool:
    return _library() is not None


def _certificates() -> tuple[bytes, bytes]:
    """(certificate chain PEM, signing key PEM), made on first use."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder = studio_home() / "c2pa"
    path = folder / "signer.pem"  # the signing key, then its certificate and the CA's: one file, written at once
    with _lock:
        if not path.exists():
            folder.mkdir(mode=0o700, exist_ok=True)
            now = datetime.datetime.now(datetime.timezone.utc)

            def name(cn):
                return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "GAN Studio (local)")])

            def cert(subject, key, issuer, issuer_key, ca):
                usage = dict(digital_signature=not ca, content_commitment=False, key_encipherment=False, data_encipherment=False,
                             key_agreement=False, key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False)
                b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
                     .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=3650))
                     .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
                     .add_extension(x509.KeyUsage(**usage), critical=True)
                     .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                     .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False))
                if not ca:
                    b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
                return b.sign(issuer_key, hashes.SHA256())

            ca_key, signer_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
            ca = cert(name("GAN Studio local CA"), ca_key, name("GAN Studio local CA"), ca_key, True)
            leaf = cert(name("GAN Studio signer"), signer_key, ca.subject, ca_key, False)
            pem = serialization.Encoding.PEM
            key_pem = signer_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            write_private_once(path, key_pem + leaf.public_bytes(pem) + ca.public_bytes(pem))
        text = path.read_bytes()
    at = text.find(b"-----BEGIN CERTIFICATE-----")
    if at <= 0:
        raise ProvenanceError("c2pa/signer.pem in the studio data directory is damaged; remove it to make a new one")
    return text[at:], text[:at]


def add_manifest(data: bytes, fmt: str, envelope: str, title: str) -> bytes:
    """`data` with a C2PA manifest; unchanged when C2PA is unavailable or fmt has none."""
    c2pa = _library()
    if c2pa is None or fmt not in MEDIA:
        return data
    from .. import __version__

    manifest = {
        "claim_generator_info": [{"name": "GAN Studio", "version": __version__}],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": SOURCE_TYPE,
                                                            "softwareAgent": {"name": "GAN Studio", "version": __version__}}]}},
            {"label": "org.ganstudio.provenance", "data": json.loads(envelope)},
        ],
    }
    chain, key = _certificates()
    try:
        signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain, key, None))
        out = io.BytesIO()
        c2pa.Builder(json.dumps(manifest)).sign(signer, MEDIA[fmt], io.BytesIO(data), out)
    except Exception as e:  # the native library reports its own error types
        raise ProvenanceError(f"C2PA signing failed: {e}") from None
    return out.getvalue()


def status(data: bytes, fmt: str) -> str:
    """One line: what a C2PA reader says about `data`."""
    if fmt not in MEDIA:
        return f"C2PA does not apply to {fmt} files"
    c2pa = _library()
    if c2pa is None:
        return UNAVAILABLE
    try:
        reader = c2pa.Reader(MEDIA[fmt], io.BytesIO(data))
        state = reader.get_validation_state()
    except Exception as e:  # no manifest, or an unreadable one
        text = str(e)
        return "no C2PA manifest" if "ManifestNotFound" in text or "JumbfNotFound" in text else f"C2PA manifest unreadable: {text[:200]}"
    return f"C2PA manifest present, {state} (signed by a local certificate not on any public trust list)"
