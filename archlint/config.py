"""Project configuration: `.archlint.yaml`, `--config FILE` or `[tool.archlint]`.

Found in the nearest directory from the working directory up to the
repository root; its relative paths start from its own directory.

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

from archlint import tree

DEFAULT_FILE = ".archlint.yaml"


class ConfigError(Exception):
    """A configuration file that is missing, unreadable or invalid."""


def load_config(
    path: str | None, *, isolated: bool = False, start: str | None = None
) -> tuple[dict, str | None]:
    """The configuration and where it came from (None: no configuration).

    Without `path` (`--config`), the nearest `.archlint.yaml` or `pyproject.toml`
    with a `[tool.archlint]` table from `start` (the working directory) up to
    the repository root (the nearest directory with a `.git`); outside a
    repository only `start` itself, so that no stray file above it runs
    `rules-dirs`. `isolated` (`--isolated`) reads no configuration file at
    all: on a pull request the repository's config is the author's, and its
    `rules-dirs` run the author's Python.
    """
    if isolated:
        return {}, None
    if path is not None:
        return _validated(_read_yaml(path), path), path
    here = os.path.realpath(start or os.getcwd())
    stop = tree.repository_root(here) or here
    directory = here
    while True:
        found = _config_in(directory)
        if found is not None:
            config, name = found
            # Every user (check, the checkov and cfn-lint bridges) gets the rules
            # directories as seen from here; `exclude` patterns keep their base.
            if "rules-dirs" in config:
                base = base_directory(name, given=False)
                config["rules-dirs"] = [relative_to(base, d) for d in config["rules-dirs"]]
            return config, name
        if directory == stop or not tree.inside(directory, stop):
            return {}, None
        directory = os.path.dirname(directory)


def _config_in(directory: str) -> tuple[dict, str] | None:
    """The configuration kept in `directory`, named as seen from here (None: none)."""
    yaml_file = os.path.join(directory, DEFAULT_FILE)
    if os.path.isfile(yaml_file):
        name = os.path.relpath(yaml_file)
        return _validated(_read_yaml(name), name), name
    pyproject = os.path.join(directory, "pyproject.toml")
    if os.path.isfile(pyproject):
        name = os.path.relpath(pyproject)
        table = _read_pyproject(name)
        if table is not None:
            return _validated(table, f"{name} [tool.archlint]"), name
    return None


def base_directory(source: str | None, *, given: bool) -> str:
    """The directory a configuration's relative paths (rules-dirs, exclude) start from.

    A found configuration's own directory; for `--config FILE` (`given`) or no
    configuration, the working directory, as in ruff.
    """
    if source is None or given:
        return os.getcwd()
    return os.path.dirname(os.path.abspath(source))


def relative_to(base: str, path: str) -> str:
    """A configuration's relative path as seen from the working directory."""
    if os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(os.path.relpath(base), path))


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
