"""The timelines bundled with the package, beside the bundled scenarios."""

from __future__ import annotations

from importlib.resources import files

from .._text import show

#: Bundled timeline name -> (file under scenarios/timelines/, the scenario it belongs to).
BUNDLED = {
    "us_iran_2020_record": ("us_iran_2020_record.csv", "us_iran_2020_record"),
    "us_iran_2020_document": ("us_iran_2020_document.csv", "us_iran_2020"),
    "us_iran_2020_record_gdelt": ("us_iran_2020_record.gdelt2.tsv", "us_iran_2020_record"),
    "us_iran_2020_record_gdelt1": ("us_iran_2020_record.gdelt1.tsv", "us_iran_2020_record"),
    "us_iran_2020_record_icews": ("us_iran_2020_record.icews.tab", "us_iran_2020_record"),
}


def list_timelines() -> list[str]:
    """Names of the bundled timelines."""
    return sorted(BUNDLED)


def bundled_timeline(name: str) -> str:
    """Path of a bundled timeline file, by name (see ``list_timelines()``).

    ``us_iran_2020_record``: the public record of 27 December 2019 to 12 March 2020, for the
    scenario ``us_iran_2020_record``. ``us_iran_2020_document``: the seed document's own story,
    for ``us_iran_2020``. ``us_iran_2020_record_gdelt``, ``..._gdelt1`` and ``..._icews``: the
    record's acts written by hand in the layouts of GDELT 2.0, GDELT 1.0 and ICEWS (samples of
    those formats: identifiers, counts and URLs are illustrative, not records of those datasets).

    Raises
    ------
    KeyError
        If no bundled timeline has that name.
    """
    if name not in BUNDLED:
        raise KeyError(f"{show(name)} is not a bundled timeline (known: {', '.join(list_timelines())})")
    return str(files("escalation_sim.bundled.timelines").joinpath(BUNDLED[name][0]))


def timeline_scenario(name: str) -> str:
    """The bundled scenario a bundled timeline belongs to."""
    return BUNDLED[name][1]
