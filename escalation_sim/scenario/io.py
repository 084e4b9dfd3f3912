"""Reading and writing scenario files (YAML, safe loading only), bundled scenarios by name, and
overrides by key path."""

from __future__ import annotations

import copy
import difflib
import os
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import yaml

from .errors import ScenarioError
from .model import Scenario
from .validate import build_scenario

BUNDLE = "escalation_sim.bundled"


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe loading that refuses a key given twice (YAML would keep the last silently)."""


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
                None, None, f"the key {key!r} is given twice", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def _construct_object(loader, node, deep=False):
    """PyYAML raises plain ValueError, KeyError... for scalars such as ``2020-02-30`` or
    ``!!int x``; give them the node's line like every other YAML error."""
    try:
        return yaml.SafeLoader.construct_object(loader, node, deep)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"cannot read {node.value!r} as {node.tag}: {exc}", node.start_mark) from None


_UniqueKeyLoader.construct_object = _construct_object


def _bundle_dir():
    return resources.files(BUNDLE)


def list_scenarios() -> list[str]:
    """Names of the bundled scenarios, for ``load_scenario(name)``."""
    return sorted(p.name[:-5] for p in _bundle_dir().iterdir() if p.name.endswith(".yaml"))


def parse_yaml(text: str, file: str) -> Any:
    """Parse YAML text safely; a syntax error becomes a ``ScenarioError`` with its line."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except RecursionError:
        raise ScenarioError(file, "", "invalid YAML: nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(file, "", f"{where}invalid YAML: {problem}") from None


def load_scenario(path_or_name: str | os.PathLike) -> Scenario:
    """Load and validate a scenario from a YAML file, or a bundled scenario by name.

    Parameters
    ----------
    path_or_name : str or path-like
        A file path, or the name of a bundled scenario (see ``list_scenarios()``).

    Raises
    ------
    ScenarioError
        If the file is missing, empty, not valid YAML or not a valid scenario. The message
        names the file, the key path and what was expected.
    """
    path = Path(path_or_name)
    name = str(path_or_name)
    if not path.exists() and path.suffix == "" and os.sep not in name and "/" not in name:
        if name in list_scenarios():
            text = (_bundle_dir() / f"{name}.yaml").read_text(encoding="utf-8")
            return build_scenario(parse_yaml(text, f"{name}.yaml"), file=f"{name}.yaml")
        raise ScenarioError(name, "", f"no such file, and not a bundled scenario{_did_you_mean(name)} "
                                      f"(bundled: {', '.join(list_scenarios())})")
    if not path.is_file():
        raise ScenarioError(name, "", "no such file" if not path.exists() else "not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(name, "", f"cannot read the file: {exc}") from None
    return build_scenario(parse_yaml(text, name), file=name)


def _did_you_mean(name: str) -> str:
    """``"; did you mean us_iran_2020?"`` for the closest bundled scenario name, if any is close."""
    close = difflib.get_close_matches(name, list_scenarios(), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def dump_yaml(data: Mapping[str, Any], path) -> None:
    text = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=100)
    Path(path).write_text(text, encoding="utf-8")


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``"key.path=value"``; the value is read as YAML (``1.5``, ``true``, ``[1, 2]``)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ScenarioError("--set", "", f"{text!r} is not of the form key.path=value")
    return key.strip(), parse_yaml(value, f"--set {key.strip()}") if value.strip() else None


def with_overrides(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """A new scenario with values replaced by key path, validated like a file.

    ``with_overrides(s, {"actors.USA.policy.ratio": 1.5, "noise.execution": 0.1})``.
    A path may end one level deeper than the file has (a new policy parameter); every other
    part must exist. List items are addressed by index (``events.0.level``).
    """
    data = copy.deepcopy(scenario.to_dict())
    file = scenario.path or f"{scenario.name}.yaml"
    for key, value in overrides.items():
        _set_path(data, key, value, file)
    return build_scenario(data, file=f"{file} (with overrides)")


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
        raise ScenarioError(file, key, f"cannot set a key inside {node!r}")


def _child(node, part, path, file):
    if isinstance(node, list):
        _index(node, part, path, file)
        return node[int(part)]
    if isinstance(node, dict):
        if part not in node:
            raise ScenarioError(file, path, f"no such key (known here: {', '.join(map(str, node))})")
        return node[part]
    raise ScenarioError(file, path, f"cannot go inside {node!r}")


def _index(node: list, part: str, path: str, file: str) -> None:
    if not part.isdecimal() or int(part) >= len(node):
        raise ScenarioError(file, path, f"expected an index 0..{len(node) - 1}" if node else "the list is empty")
