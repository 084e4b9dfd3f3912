"""The one error of the timeline package."""

from __future__ import annotations


class TimelineError(ValueError):
    """A timeline that cannot be used: names the file, the line and the field.

    ``line`` counts lines of the file from 1 (a CSV's header is line 1); ``field`` is a column
    name, or a key such as ``levels`` when the timeline does not come from a file.
    """

    def __init__(self, file: str | None, line: int | None, field: str | None, detail: str):
        self.file, self.line, self.field, self.detail = file, line, field, detail
        where = ":".join(str(p) for p in (file, line) if p is not None)
        head = ": ".join(p for p in (where, field) if p)
        super().__init__(f"{head}: {detail}" if head else detail)
