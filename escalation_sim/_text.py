"""Values quoted in error messages, shortened before they are formatted.

A message that quotes what it was given must cost little whatever it was given: a YAML alias
bomb or a huge list formatted in full with ``repr`` takes seconds and gigabytes before anything
could cut it short. ``show`` works on a bounded part of the value only. Every package quotes
values through it, so it sits at the bottom and imports nothing of the project.
"""

from __future__ import annotations

import reprlib

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = _REPR.maxfrozenset = _REPR.maxdeque = 4
_REPR.maxarray = 4
_REPR.maxlevel = 2


def show(value) -> str:
    """``repr(value)`` cut to about 60 characters per item, at most 4 items and 2 levels deep.

    Only the items shown are formatted, so the work is bounded for nested lists, tuples, dicts
    and sets however large (or however shared, as YAML aliases make them).
    """
    return _REPR.repr(value)
