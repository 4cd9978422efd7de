"""Which resources exist in which deployment: a template's conditions under its parameters.

A deployment picks a value for each parameter: its default, or any of its
`AllowedValues`. `Scenarios(template)` enumerates those choices for the
parameters the `Conditions` section tests and evaluates every condition
under each, in three-valued logic: `True`, `False`, or `None` when the
answer depends on something archlint cannot know (a pseudo parameter such
as `AWS::Region`, a parameter without default or allowed values, an
imported value). The default scenario is the stack created with every
parameter at its default.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from archlint.nodes import Map
from archlint.template import Resource, Template

# More parameter combinations than this are not enumerated: the default
# scenario and one scenario per single parameter change stand for the rest.
MAX_SCENARIOS = 64
_UNKNOWN = object()


@dataclass(frozen=True)
class Scenario:
    """One deployment: parameter values and the truth of each condition."""

    values: dict[str, object]
    truth: dict[str, bool | None] = field(default_factory=dict)
    default: bool = False

    def label(self) -> str:
        shown = [f"{k}={v}" for k, v in sorted(self.values.items()) if v is not _UNKNOWN]
        return ", ".join(shown) or "any parameter values"

    def holds(self, conditions: Iterable[str], unknown: bool) -> bool:
        """Whether all `conditions` hold; `unknown` is what an undecidable one counts as."""
        for name in conditions:
            value = self.truth.get(name)
            if value is None:
                value = unknown
            if not value:
                return False
        return True


class Scenarios:
    """The deployments a template's parameters allow, with every condition evaluated."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self.conditions = template.conditions
        tested = sorted(_parameters_in(self.conditions, template))
        choices = {name: _choices(template.parameters.get(name)) for name in tested}
        defaults = {name: _default(template.parameters.get(name)) for name in tested}
        self.default = self._scenario(defaults, default=True)
        self.all: list[Scenario] = [self.default]
        combinations = 1
        for options in choices.values():
            combinations *= max(1, len(options))
        if combinations <= MAX_SCENARIOS:
            assignments: Iterator[dict[str, object]] = (
                dict(zip(tested, values, strict=True))
                for values in itertools.product(*(choices[n] for n in tested))
            )
        else:  # one parameter away from the defaults at a time
            assignments = ({**defaults, name: value} for name in tested for value in choices[name])
        seen = {tuple(sorted(defaults.items(), key=lambda kv: kv[0]))}
        for values in assignments:
            key = tuple(sorted(values.items(), key=lambda kv: kv[0]))
            if key not in seen:
                seen.add(key)
                self.all.append(self._scenario(values))

    def _scenario(self, values: dict[str, object], default: bool = False) -> Scenario:
        truth: dict[str, bool | None] = {}
        for name in self.conditions:
            truth[str(name)] = _Evaluator(self.template, values).condition(str(name))
        return Scenario(values, truth, default)


def resource_conditions(resource: Resource) -> tuple[str, ...]:
    """The conditions that must hold for a resource to exist (its own and its stack's)."""
    own = (resource.condition,) if resource.condition else ()
    return (*resource.inherited_conditions, *own)


class _Evaluator:
    def __init__(self, template: Template, values: dict[str, object]) -> None:
        self.template = template
        self.values = values
        self.visiting: set[str] = set()

    def condition(self, name: str) -> bool | None:
        node = self.template.conditions.get(name)
        if node is None or name in self.visiting:
            return None  # undefined, or a cycle (reported elsewhere): undecidable
        self.visiting.add(name)
        try:
            return self.boolean(node)
        finally:
            self.visiting.discard(name)

    def boolean(self, node: object) -> bool | None:
        if isinstance(node, bool):
            return node
        if not isinstance(node, dict) or len(node) != 1:
            return None
        ((key, args),) = node.items()
        if key == "Condition" and isinstance(args, str):
            return self.condition(args)
        if key == "Fn::Not" and isinstance(args, list) and len(args) == 1:
            inner = self.boolean(args[0])
            return None if inner is None else not inner
        if key in ("Fn::And", "Fn::Or") and isinstance(args, list) and args:
            results = [self.boolean(a) for a in args]
            decisive = key == "Fn::Or"  # Or: any True decides; And: any False decides
            if decisive in results:
                return decisive
            return None if None in results else not decisive
        if key == "Fn::Equals" and isinstance(args, list) and len(args) == 2:
            left, right = self.scalar(args[0]), self.scalar(args[1])
            if left is _UNKNOWN or right is _UNKNOWN:
                return None
            return _text(left) == _text(right)
        return None

    def scalar(self, node: object) -> object:
        if isinstance(node, (str, int, float, bool)):
            return node
        if not isinstance(node, dict) or len(node) != 1:
            return _UNKNOWN
        ((key, args),) = node.items()
        if key == "Ref" and isinstance(args, str):
            return self.values.get(args, _UNKNOWN)
        if key == "Fn::FindInMap" and isinstance(args, list) and len(args) >= 3:
            current: object = self.template.mappings
            for part in args[:3]:
                name = self.scalar(part)
                if name is _UNKNOWN or not isinstance(current, dict):
                    return _UNKNOWN
                current = current.get(_text(name))
            return current if isinstance(current, (str, int, float, bool)) else _UNKNOWN
        return _UNKNOWN


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _parameters_in(conditions: Map, template: Template) -> set[str]:
    """Template parameters that the conditions test (by Ref)."""
    found: set[str] = set()
    stack: list[object] = list(conditions.values())
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("Ref") if len(node) == 1 else None
            if isinstance(ref, str) and ref in template.parameters:
                found.add(ref)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _default(parameter: object) -> object:
    if isinstance(parameter, dict) and isinstance(parameter.get("Default"), (str, int, float)):
        return _text(parameter["Default"])
    return _UNKNOWN


def _choices(parameter: object) -> list[object]:
    """Every value a deployment can give a parameter: its default and allowed values."""
    if not isinstance(parameter, dict):
        return [_UNKNOWN]
    values: list[object] = []
    if isinstance(parameter.get("Default"), (str, int, float)):
        values.append(parameter["Default"])
    allowed = parameter.get("AllowedValues")
    if isinstance(allowed, list):
        values.extend(v for v in allowed if isinstance(v, (str, int, float, bool)))
    unique = list(dict.fromkeys(_text(v) for v in values))
    return unique or [_UNKNOWN]
