"""The two exception types a caller of ganstudio needs to know."""


class InvalidParameterError(ValueError):
    """A generation parameter is out of range or malformed.

    The message is written for a person: it names the parameter, what was given and what
    is accepted. The UI shows it as an error, the CLI prints it and exits 2.
    """


class CheckpointError(RuntimeError):
    """A checkpoint directory is missing, incomplete, tampered with or of an unknown format."""
