"""Finding rules: the catalogue in `archlint.rules`, `--rules-dir` folders, entry points.

A rule is any module-level function carrying `__archlint_rule__` (set by
`@rule`). Importing a rule module has no side effect beyond defining it.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from archlint.builtin import ENGINE_RULES
from archlint.rule import Rule

ENTRY_POINT_GROUP = "archlint.rules"


class RuleLoadError(Exception):
    """A rules directory or plugin that cannot be loaded (a usage error)."""


def rules_in(module: ModuleType) -> list[Rule]:
    found = []
    for value in vars(module).values():
        meta = getattr(value, "__archlint_rule__", None)
        if isinstance(meta, Rule) and getattr(value, "__module__", None) == module.__name__:
            found.append(meta)
    return found


def _package_rules() -> list[Rule]:
    import archlint.rules as package

    found: list[Rule] = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found.extend(rules_in(module))
    return found


def _directory_rules(directory: str) -> list[Rule]:
    path = Path(directory)
    if not path.is_dir():
        raise RuleLoadError(f"--rules-dir {directory}: not a directory")
    found: list[Rule] = []
    for file in sorted(path.glob("*.py")):
        name = f"archlint_user_rules_{abs(hash(str(file.resolve())))}_{file.stem}"
        spec = importlib.util.spec_from_file_location(name, file)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as error:  # a user's rule file: report, do not crash
            raise RuleLoadError(f"cannot load rules from {file}: {error}") from error
        found.extend(rules_in(module))
    return found


def _entry_point_rules() -> list[Rule]:
    from importlib.metadata import entry_points

    found: list[Rule] = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            module = entry.load()
        except Exception as error:
            raise RuleLoadError(f"cannot load rule plugin {entry.name}: {error}") from error
        if isinstance(module, ModuleType):
            found.extend(rules_in(module))
    return found


def load_rules(rule_dirs: Iterable[str] = (), plugins: bool = True) -> list[Rule]:
    """Every rule, sorted by code; codes and names must be unique."""
    rules = list(ENGINE_RULES) + _package_rules()
    for directory in rule_dirs:
        rules.extend(_directory_rules(directory))
    if plugins:
        rules.extend(_entry_point_rules())
    by_code: dict[str, Rule] = {}
    by_name: dict[str, Rule] = {}
    for rule in rules:
        for index, key in ((by_code, rule.code), (by_name, rule.name)):
            other = index.get(key)
            if other is not None and other is not rule:
                first, second = other.check or other.code, rule.check or rule.code
                raise RuleLoadError(f"two rules share {key}: {first} and {second}")
            index[key] = rule
    return sorted(by_code.values(), key=lambda r: r.code)


def find_rule(rules: Iterable[Rule], ident: str) -> Rule | None:
    """A rule by code (AL101, case-insensitive) or name."""
    wanted = ident.strip()
    for rule in rules:
        if rule.code.lower() == wanted.lower() or rule.name == wanted:
            return rule
    return None
