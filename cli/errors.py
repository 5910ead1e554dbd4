"""The CLI's one error type: printed as a single line, exit status 2."""


class CLIError(ValueError):
    """A user-facing error: bad input, a missing file, a failed run."""
