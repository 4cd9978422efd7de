"""Project configuration: `.archlint.yaml`, `--config FILE` or `[tool.archlint]`.

Validated against `schemas/config.schema.json`; a wrong key or value is a
usage error that names it. The command line outranks every setting, and a
configuration cannot silence the findings that a template could not be read
or checked (`engine.UNSILENCEABLE_BY_CONFIG`).
"""

from __future__ import annotations

import json
import os
from importlib import resources

import yaml

DEFAULT_FILE = ".archlint.yaml"


class ConfigError(Exception):
    """A configuration file that is missing, unreadable or invalid."""


def load_config(path: str | None, *, isolated: bool = False) -> tuple[dict, str | None]:
    """The configuration and where it came from (None: no configuration).

    `isolated` (`--isolated`) reads no configuration file at all: on a pull
    request the repository's config is the author's, and its `rules-dirs` run
    the author's Python.
    """
    if isolated:
        return {}, None
    if path is not None:
        return _validated(_read_yaml(path), path), path
    if os.path.isfile(DEFAULT_FILE):
        return _validated(_read_yaml(DEFAULT_FILE), DEFAULT_FILE), DEFAULT_FILE
    if os.path.isfile("pyproject.toml"):
        table = _read_pyproject("pyproject.toml")
        if table is not None:
            return _validated(table, "pyproject.toml [tool.archlint]"), "pyproject.toml"
    return {}, None


def _read_yaml(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as error:
        raise ConfigError(f"cannot read config {path}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ConfigError(f"config {path} is not valid YAML: {error}") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a mapping of settings")
    return data


def _read_pyproject(path: str) -> dict | None:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            return None
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from error
    table = data.get("tool", {}).get("archlint")
    return table if isinstance(table, dict) else None


def _validated(data: dict, source: str) -> dict:
    import jsonschema  # only when a configuration exists: it is slow to import

    schema = json.loads(
        resources.files("archlint").joinpath("schemas/config.schema.json").read_text("utf-8")
    )
    errors = sorted(
        jsonschema.Draft7Validator(schema).iter_errors(data), key=lambda e: list(e.path)
    )
    if errors:
        error = errors[0]
        if error.validator == "additionalProperties":
            known = ", ".join(sorted(schema["properties"]))
            raise ConfigError(f"{source}: {error.message} (known keys: {known})")
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ConfigError(f"{source}: {where}: {error.message}")
    return data
