"""newsdex's own errors share one base (NewsdexError), each still the built-in kind callers caught before."""
import index.errors
from index.entities import AliasError
from index.errors import NewsdexError
from index.stories import StoriesFileError
from search import QueryError, UnknownEntity


def test_newsdex_errors_share_one_base():
    for error in (AliasError, QueryError, UnknownEntity, StoriesFileError, index.errors.IndexMissing,
                  index.errors.IndexDamaged, index.errors.DiskError):
        assert issubclass(error, NewsdexError), error
    assert issubclass(QueryError, ValueError) and issubclass(AliasError, ValueError)


def test_no_error_class_is_left_unraised():
    assert not hasattr(index.errors, "ReadError")   # unreadable files are Failures in the report, not errors
