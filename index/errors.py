"""Errors the indexer raises; each says what happened and what to do."""


class NewsdexError(Exception):
    """Base of newsdex's own errors."""


class ReadError(NewsdexError):
    """A file or record could not be turned into an article."""


class IndexMissing(NewsdexError):
    """No index at the given place."""

    def __init__(self, path):
        super().__init__(f"no newsdex index at {path}: build one with `newsdex reindex PATH --index {path}`")
        self.path = path


class IndexBusy(NewsdexError):
    """Another process is writing the index."""

    def __init__(self, path, pid=None):
        who = f" (pid {pid})" if pid else ""
        super().__init__(f"another indexing run is in progress{who} on {path}; wait for it to finish, "
                         f"or stop it, then run this again")
        self.path = path
        self.pid = pid


class RebuildRefused(NewsdexError):
    """A rebuild that would replace the live index by accident (a missing path, nothing read, too few articles)."""

    def __init__(self, message: str, report=None):
        super().__init__(message)
        self.report = report   # what the refused run read (its failures say why nothing was), when it ran


class NoPrevious(NewsdexError):
    """A rollback with no previous generation to go back to."""
