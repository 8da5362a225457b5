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


class IndexDamaged(NewsdexError):
    """A file of the live index is missing, cut short, altered or unreadable: names it and what to do."""

    ADVICE = "run `newsdex rollback` to serve the previous index, or `newsdex reindex`"

    def __init__(self, path, problem: str):
        super().__init__(f"the index is damaged: {path} {problem}; {self.ADVICE}")
        self.path = path
        self.problem = problem
