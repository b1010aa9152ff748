"""The one exception type data loaders raise, so callers can print it and exit."""


class DataError(RuntimeError):
    """A dataset is missing, corrupt or unreachable. The message says what to do."""
