"""Errors the indexer raises; each says what happened and what to do."""
import errno


class NewsdexError(Exception):
    """Base of newsdex's own errors: these here, `AliasError` (index/entities.py), `StoriesFileError`
    (index/stories.py) and the search layer's `QueryError` (search/model.py). A file or record that cannot be read
    is not an error but a `Failure` (index/model.py) in the run's report."""


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


class IndexOutdated(NewsdexError):
    """An index made by an older newsdex that an update cannot safely change (it needs a rebuild)."""


class RebuildRefused(NewsdexError):
    """A rebuild that would replace the live index by accident (a missing path, nothing read, too few articles)."""

    def __init__(self, message: str, report=None):
        super().__init__(message)
        self.report = report   # what the refused run read (its failures say why nothing was), when it ran


class NoPrevious(NewsdexError):
    """A rollback with no previous generation to go back to."""


class DiskError(NewsdexError):
    """The operating system refused a write to the index (disk full, read-only, permission denied)."""

    def __init__(self, path, exc: OSError, outcome: str = ""):
        name = errno.errorcode.get(exc.errno or 0, "")
        reason = f"{exc.strerror or exc}" + (f" [{name}]" if name else "")
        hint = _DISK_HINTS.get(name, "")
        super().__init__(f"cannot write {path}: {reason}" + (f"; {hint}" if hint else "")
                         + (f"; {outcome}" if outcome else ""))
        self.path, self.errno = path, exc.errno


_DISK_HINTS = {
    "ENOSPC": "free some space (or use --index on another disk) and run this again",
    "EDQUOT": "free some space (or use --index on another disk) and run this again",
    "EROFS": "the file system is read-only: use --index on a writable disk",
    "EACCES": "check the folder's permissions (or use --index elsewhere)",
    "EPERM": "check the folder's permissions (or use --index elsewhere)",
}


class IndexDamaged(NewsdexError):
    """A file of the live index is missing, cut short, altered or unreadable: names it and what to do."""

    ADVICE = "run `newsdex rollback` to serve the previous index, or `newsdex reindex`"

    def __init__(self, path, problem: str):
        super().__init__(f"the index is damaged: {path} {problem}; {self.ADVICE}")
        self.path = path
        self.problem = problem
