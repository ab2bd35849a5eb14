"""The errors Newsdesk raises on purpose; every one carries a message fit for a user."""


class NewsdeskError(Exception):
    """Base of every error the project raises deliberately."""


class ArticleError(NewsdeskError):
    """An article file (or one line of it) could not be read."""

    def __init__(self, origin: str, reason: str, line: int | None = None):
        self.origin = origin
        self.line = line
        self.reason = reason
        where = f"{origin}:{line}" if line is not None else origin
        super().__init__(f"{where}: {reason}")


class ModelMismatchError(NewsdeskError):
    """The index was built with another embedding model than the one configured."""


class StoreUnavailableError(NewsdeskError):
    """The vector store (an embedded Chroma or a Chroma server) cannot be reached."""


class QuestionError(NewsdeskError):
    """A question that cannot be asked: empty, too long, or otherwise unusable."""


class NotFoundError(NewsdeskError):
    """Something asked for by id (an article) is not in the index."""


class DateError(NewsdeskError):
    """A date given by a user could not be understood."""


class IndexBusyError(NewsdeskError):
    """An indexing run is already in progress."""


class LLMUnavailableError(NewsdeskError):
    """The LLM did not answer in time, could not be reached, or answered with an error."""


class FeedError(NewsdeskError):
    """A feed (or a page it links to) could not be fetched, read or followed."""
