"""Reading and writing scenario files (YAML, safe loading only), bundled scenarios by name, and
overrides by key path."""

from __future__ import annotations

import copy
import difflib
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import yaml

from .errors import ScenarioError
from .model import Scenario
from .validate import build_scenario
from .._text import show

BUNDLE = "escalation_sim.bundled"
#: The largest scenario file read, in bytes (the largest bundled one is under 10 kB).
MAX_FILE_BYTES = 1 << 20
#: The most alias uses (``*name``) a file may make: enough to share a few policies, too few
#: for an alias bomb (each alias may repeat a structure of other aliases, so the work grows
#: exponentially with their number).
MAX_ALIASES = 64


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe loading that refuses a key given twice (YAML would keep the last silently) and
    more than ``MAX_ALIASES`` aliases."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.n_aliases = getattr(self, "n_aliases", 0) + 1
            if self.n_aliases > MAX_ALIASES:
                raise yaml.composer.ComposerError(
                    None, None, f"more than {MAX_ALIASES} aliases (*name); write the values out",
                    self.peek_event().start_mark)
        return super().compose_node(parent, index)


def _mapping_without_duplicates(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # "<<: *anchor" merges a mapping; construct_mapping resolves it
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            continue  # construct_mapping reports an unhashable key with its line
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {show(key)} is given twice", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def _construct_object(loader, node, deep=False):
    """PyYAML raises plain ValueError, KeyError... for scalars such as ``2020-02-30`` or
    ``!!int x``; give them the node's line like every other YAML error."""
    try:
        return yaml.SafeLoader.construct_object(loader, node, deep)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        value = node.value if isinstance(node.value, str) else "a collection"
        value = value if len(value) <= 40 else value[:40] + "..."
        raise yaml.constructor.ConstructorError(
            None, None, f"cannot read {show(value)} as {node.tag}: {str(exc)[:200]}", node.start_mark) from None


_UniqueKeyLoader.construct_object = _construct_object


def _bundle_dir():
    return resources.files(BUNDLE)


def list_scenarios() -> list[str]:
    """Names of the bundled scenarios, for ``load_scenario(name)``."""
    return sorted(p.name[:-5] for p in _bundle_dir().iterdir() if p.name.endswith(".yaml"))


def parse_yaml(text: str, file: str) -> Any:
    """Parse YAML text safely; a syntax error becomes a ``ScenarioError`` with its line.

    More than ``MAX_ALIASES`` aliases and text longer than ``MAX_FILE_BYTES`` are refused, so
    that parsing takes time and memory in proportion to the text.
    """
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError(file, "", f"larger than {MAX_FILE_BYTES // 1024} KiB; a scenario is smaller")
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except RecursionError:
        raise ScenarioError(file, "", "invalid YAML: nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or "cannot be read"
        raise ScenarioError(file, "", f"{where}invalid YAML: {problem}") from None


def is_bundled_name(spec: str | os.PathLike) -> bool:
    """Whether ``spec`` is written as a bundled scenario's name (no folder separator, no
    suffix) rather than as a path: ``us_iran_2020`` is the bundled scenario even where a
    file or folder of that name exists; ``./us_iran_2020`` is the path."""
    name = os.fspath(spec)
    return isinstance(name, str) and name in list_scenarios() and os.sep not in name and "/" not in name


def load_scenario(path_or_name: str | os.PathLike) -> Scenario:
    """Load and validate a scenario from a YAML file, or a bundled scenario by name.

    Parameters
    ----------
    path_or_name : str or path-like
        The name of a bundled scenario (see ``list_scenarios()``), or a file path. A bundled
        name is the bundled scenario even where a file of that name exists: write such a file
        as a path (``./us_iran_2020``).

    Raises
    ------
    ScenarioError
        If the file is missing, empty, larger than ``MAX_FILE_BYTES``, not text, not valid
        YAML (or has more than ``MAX_ALIASES`` aliases) or not a valid scenario. The message
        names the file, the key path and what was expected (every problem of the file).
    """
    path = Path(path_or_name)
    name = os.fspath(path_or_name)
    if is_bundled_name(name):
        text = (_bundle_dir() / f"{name}.yaml").read_text(encoding="utf-8")
        return build_scenario(parse_yaml(text, f"{name}.yaml"), file=f"{name}.yaml")
    if not path.exists() and path.suffix == "" and os.sep not in name and "/" not in name:
        raise ScenarioError(name, "", f"no such file, and not a bundled scenario{_did_you_mean(name)} "
                                      f"(bundled: {', '.join(list_scenarios())})")
    if not path.is_file():
        raise ScenarioError(name, "", "no such file" if not path.exists() else "not a file")
    return build_scenario(parse_yaml(_read_text(path, name), name), file=name)


def as_scenario(scenario: Scenario | str | os.PathLike) -> Scenario:
    """The scenario a public function's ``scenario`` argument names: a ``Scenario`` as it is, a
    bundled name or a file path loaded by ``load_scenario``.

    Raises
    ------
    TypeError
        If ``scenario`` is none of these (the message names the type given).
    ScenarioError
        From ``load_scenario``, for a name or path that is not a valid scenario.
    """
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, (str, os.PathLike)):
        return load_scenario(scenario)
    raise TypeError(f"scenario must be a Scenario, a bundled scenario's name or a path to a YAML file, "
                    f"got {type(scenario).__name__} {str(scenario)[:40]!r}")


def _read_text(path: Path, name: str) -> str:
    """The file's text; a file too large or not UTF-8 text is refused without quoting it."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(name, "", f"cannot read the file ({exc.strerror or type(exc).__name__})") from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(name, "", f"larger than {MAX_FILE_BYTES // 1024} KiB; a scenario file is smaller")
    if b"\0" in data:
        raise ScenarioError(name, "", "not a text file (it holds NUL bytes); expected a YAML scenario")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(name, "", "not UTF-8 text; expected a YAML scenario") from None


def _did_you_mean(name: str) -> str:
    """``"; did you mean us_iran_2020?"`` for the closest bundled scenario name, if any is close."""
    close = difflib.get_close_matches(name, list_scenarios(), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def dump_yaml(data: Mapping[str, Any], path) -> None:
    text = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=100)
    Path(path).write_text(text, encoding="utf-8")


#: A number in exponent form without a decimal point (``1e-3``): text to YAML 1.1, which wants
#: ``1.0e-3``, but a number to every reader of a command line (and to ``--grid``).
_EXPONENT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``"key.path=value"``; the value is read as YAML (``1.5``, ``true``, ``[1, 2]``),
    and ``1e-3`` as the number it is, as ``--grid`` reads it."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ScenarioError("--set", "", f"{show(text[:60])} is not of the form key.path=value")
    if _EXPONENT.fullmatch(value.strip()):
        return key.strip(), float(value)
    return key.strip(), parse_yaml(value, f"--set {key.strip()}") if value.strip() else None


def with_overrides(scenario: Scenario | str | os.PathLike, overrides: Mapping[str, Any]) -> Scenario:
    """A new scenario with values replaced by key path, validated like a file.

    ``with_overrides(s, {"actors.USA.policy.ratio": 1.5, "noise.execution": 0.1})``.
    A path may end one level deeper than the file has (a new policy parameter); every other
    part must exist. List items are addressed by index (``events.0.level``). NumPy scalars
    and arrays are taken as the Python numbers and lists they hold.

    Parameters
    ----------
    scenario : Scenario, or a bundled name or path for ``load_scenario``
    overrides : mapping of str to value
        ``{key path: new value}``.

    Raises
    ------
    ScenarioError
        If a key is not a string key path, a path does not exist, or the result is invalid.
    TypeError
        If ``scenario`` is not a Scenario, a name or a path.
    """
    scenario = as_scenario(scenario)
    data = copy.deepcopy(scenario.to_dict())
    file = scenario.path or f"{scenario.name}.yaml"
    for key, value in overrides.items():
        if not isinstance(key, str) or not key:
            raise ScenarioError(file, "", f"an override's key must be a key path such as 'noise.execution', "
                                          f"got {type(key).__name__} {show(str(key)[:40])}")
        _set_path(data, key, _plain(value), file)
    return build_scenario(data, file=f"{file} (with overrides)")


def _plain(value):
    """NumPy scalars and arrays as the Python values they hold (lists, tuples, mappings too)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _set_path(data, key: str, value, file: str) -> None:
    parts = key.split(".")
    node = data
    for depth, part in enumerate(parts[:-1]):
        node = _child(node, part, ".".join(parts[: depth + 1]), file)
    last = parts[-1]
    if isinstance(node, list):
        _index(node, last, key, file)
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ScenarioError(file, key, f"cannot set a key inside a {type(node).__name__}")


def _child(node, part, path, file):
    if isinstance(node, list):
        _index(node, part, path, file)
        return node[int(part)]
    if isinstance(node, dict):
        if part not in node:
            raise ScenarioError(file, path, f"no such key (known here: {', '.join(map(str, node))[:300]})")
        return node[part]
    raise ScenarioError(file, path, f"cannot go inside a {type(node).__name__}")


def _index(node: list, part: str, path: str, file: str) -> None:
    if not part.isdecimal() or int(part) >= len(node):
        raise ScenarioError(file, path, f"expected an index 0..{len(node) - 1}" if node else "the list is empty")
