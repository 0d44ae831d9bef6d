"""Units of work: the only place that builds queries. They flush, never commit."""


class ValidationFailed(Exception):
    """Input refused by a service: messages per field name (``""`` for the form as a whole)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k or 'form'}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class EditConflict(ValidationFailed):
    """A form was saved over a version of the row newer than the one it was opened on."""

    def __init__(self, errors: dict[str, list[str]], current_version: int):
        super().__init__(errors)
        self.current_version = current_version
