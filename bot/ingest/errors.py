"""Exceptions that ingestion callers can act on."""


class Rejected(ValueError):
    """The input cannot become a bulletin; `reason` says why in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
