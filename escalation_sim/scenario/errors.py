#: The longest key path and detail a message quotes; longer ones are cut, so that a message
#: stays a line whatever the input (a huge value or key cannot make a huge message).
KEY_LIMIT = 120
DETAIL_LIMIT = 400


class ScenarioError(ValueError):
    """A scenario file or mapping is invalid.

    The message reads ``file: key.path: what was expected``, one line per problem when there
    are several; the first problem's parts are kept as ``file``, ``key`` and ``detail``, and
    every problem as ``errors``, a list of ``(key, detail)``.
    """

    def __init__(self, file: str, key: str, detail: str, *, errors=None):
        file, key, detail = _cut(str(file), KEY_LIMIT * 2), _cut(str(key), KEY_LIMIT), _cut(str(detail), DETAIL_LIMIT)
        self.file, self.key, self.detail = file, key, detail
        self.errors = [(key, detail)] if errors is None else [(_cut(k, KEY_LIMIT), _cut(d, DETAIL_LIMIT)) for k, d in errors]
        super().__init__("\n".join(_line(file, k, d) for k, d in self.errors))

    @classmethod
    def many(cls, file: str, errors) -> "ScenarioError":
        """One error naming every problem in ``errors`` (a non-empty list of ``(key, detail)``)."""
        key, detail = errors[0]
        return cls(file, key, detail, errors=errors)


def _line(file: str, key: str, detail: str) -> str:
    return f"{file}: {key}: {detail}" if key else f"{file}: {detail}"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
