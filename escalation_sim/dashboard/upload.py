"""A scenario file dropped on the page, read by ``load_scenario`` like a file on the command
line, so that a bad file gets the same message, naming the file by the name it was dropped with."""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..scenario import Scenario, ScenarioError, load_scenario


def read_upload(name: str, data: bytes) -> Scenario:
    """The scenario in ``data``, the bytes of a YAML file called ``name``.

    Raises
    ------
    ScenarioError
        If the file is not valid YAML or not a valid scenario: the message is what
        ``escalation-sim validate NAME`` prints, ``NAME: key.path: what was expected``.
    """
    name = Path(name).name or "scenario.yaml"
    with tempfile.TemporaryDirectory(prefix="escalation-sim-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            scenario = load_scenario(path)
        except ScenarioError as exc:  # name the file as the user knows it, not the copy
            raise ScenarioError(name, exc.key, exc.detail) from None
    return Scenario.from_dict(scenario.to_dict(), file=name)
