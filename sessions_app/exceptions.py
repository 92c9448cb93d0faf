"""Domain errors that are not field validation errors."""


class StaleVersionError(Exception):
    """The caller edited an older version of the session than the one stored."""

    def __init__(self, *, expected: int, current: int) -> None:
        self.expected = expected
        self.current = current
        super().__init__(
            f"The session was changed by someone else (you had version {expected}, "
            f"it is now at version {current}). Reload it and make your change again."
        )
