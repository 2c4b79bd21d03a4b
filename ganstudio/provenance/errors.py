"""The one exception of the provenance tools."""

from ..errors import InvalidParameterError


class ProvenanceError(InvalidParameterError):
    """An upload, manifest, key or ledger that cannot be used, with a message a person can act on.

    It is an InvalidParameterError, so the UI shows it as an error and the CLI exits 2.
    """
