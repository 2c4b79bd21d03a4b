"""Provenance for every output: signed manifests, embedded labels, a ledger, verification.

    >>> from ganstudio.provenance import export, verify_bytes
    >>> signed = export(ImagePipeline.from_pretrained("checkpoints/mnist-cdcgan")(seed=1), "grid-marked")
    >>> verify_bytes(signed.data).status
    'trusted'

See docs/provenance.md for what goes where and how to check it.
"""

from .artefacts import Regeneration, artefact_bytes, export, export_many, regenerate
from .errors import ProvenanceError
from .keys import fingerprint, public_key, trust, trusted_keys
from .ledger import LedgerReport, verify_ledger
from .sign import Signed, sign_and_embed
from .verify import ALTERED, EXIT_CODES, NONE, TRUSTED, UNKNOWN_KEY, Verification, verify_bytes

__all__ = [
    "ALTERED", "EXIT_CODES", "NONE", "TRUSTED", "UNKNOWN_KEY", "LedgerReport", "ProvenanceError", "Regeneration", "Signed",
    "Verification", "artefact_bytes", "export", "export_many", "fingerprint", "public_key", "regenerate", "sign_and_embed", "trust",
    "trusted_keys", "verify_bytes", "verify_ledger",
]
