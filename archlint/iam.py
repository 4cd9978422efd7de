"""An IAM policy model shared by every rule.

Policy documents become `Statement`s with their effect, principals (with
`NotPrincipal` kept as such), actions (`NotAction` too), resources resolved
through `values`, conditions and the line of the statement. Questions are
asked of statements and policies (`allows`, `grants`), never by walking the
raw document in a rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache

from archlint.data import managed_policies
from archlint.nodes import Map, Seq, line_of
from archlint.values import Lit, Resolver, Text, Unknown, Value, intrinsic_name

PRINCIPAL_KINDS = ("AWS", "Service", "Federated", "CanonicalUser")
# Intrinsics that build a policy document as a JSON string.
JSON_STRINGS = ("Fn::Sub", "Fn::Join", "Ref", "Fn::FindInMap")

# `arn:aws:iam::aws:policy/PATH/NAME` in any partition, also `${AWS::Partition}`.
_AWS_MANAGED_ARN = re.compile(
    r"^arn:(?:aws(?:-[a-z]+)*|\$\{AWS::Partition\}):iam::aws:policy/(?P<path>(?:[^/]*/)*)"
    r"(?P<name>[^/]+)$"
)
_PART = r"(?:\$\{[^}]*\}|[^:$])*"  # an ARN part, `${AWS::AccountId}` whole
_CUSTOMER_MANAGED_ARN = re.compile(rf"^arn:{_PART}:iam::{_PART}:policy/")


def action_matches(pattern: str, action: str) -> bool:
    """IAM's matching: case-insensitive, `*` any run of characters, `?` any one.

    The pieces between stars are anchored at both ends and found leftmost in
    between (an earlier match never leaves less room), each in time linear in
    the action whatever the pattern: no regex, no backtracking.
    """
    segments = _glob_segments(pattern)
    text = action.lower()
    if len(segments) == 1:
        return len(text) == len(segments[0]) and _fits_at(segments[0], text, 0)
    first, last = segments[0], segments[-1]
    end = len(text) - len(last)
    if end < len(first) or not _fits_at(first, text, 0) or not _fits_at(last, text, end):
        return False
    position = len(first)
    for segment in segments[1:-1]:
        if segment:
            found = _find(segment, text, position, end)
            if found < 0:
                return False
            position = found + len(segment)
    return True


@lru_cache(maxsize=8192)
def _glob_segments(pattern: str) -> tuple[str, ...]:
    return tuple(pattern.lower().split("*"))


def _fits_at(segment: str, text: str, start: int) -> bool:
    if "?" not in segment:
        return text.startswith(segment, start)
    if len(text) - start < len(segment):
        return False
    return all(c == "?" or c == text[start + i] for i, c in enumerate(segment))


def _find(segment: str, text: str, start: int, end: int) -> int:
    """Where `segment` (`?` for any character) first lies wholly in text[start:end], or -1."""
    if "?" not in segment:
        return text.find(segment, start, end)
    # Shift-And: bit i of `state` says segment[: i + 1] ends at the current character.
    masks, wild = _segment_masks(segment)
    goal = 1 << (len(segment) - 1)
    state = 0
    for index in range(start, end):
        state = ((state << 1) | 1) & (masks.get(text[index], 0) | wild)
        if state & goal:
            return index - len(segment) + 1
    return -1


@lru_cache(maxsize=1024)
def _segment_masks(segment: str) -> tuple[dict[str, int], int]:
    masks: dict[str, int] = {}
    wild = 0
    for index, char in enumerate(segment):
        if char == "?":
            wild |= 1 << index
        else:
            masks[char] = masks.get(char, 0) | 1 << index
    return masks, wild


@dataclass(frozen=True)
class Principal:
    kind: str  # "*", "AWS", "Service", "Federated", "CanonicalUser"
    value: Value

    @property
    def text(self) -> str:
        rendered = self.value.text() if self.kind != "*" else "*"
        return "*" if self.kind == "*" else f"{self.kind}: {rendered}"

    @property
    def is_everyone(self) -> bool:
        if self.kind == "*":
            return True
        return self.kind == "AWS" and isinstance(self.value, Lit) and self.value.value == "*"

    def is_service(self, service: str) -> bool:
        return self.kind == "Service" and self.value.text() == service


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[Value, ...]
    principals: tuple[Principal, ...] | None = None
    not_principal: bool = False
    not_action: bool = False
    not_resource: bool = False
    conditions: Map = field(default_factory=Map)
    line: int | None = None
    sid: str | None = None
    source: str = ""  # where the statement lives, e.g. "inline policy 'S3' of Role"
    unknown_actions: tuple[str, ...] = ()
    # A statement of a managed policy attached by ARN: that ARN, and the
    # statement's place in the policy (it has no line of its own).
    policy_arn: Value | None = None
    index: int | None = None

    @property
    def allow(self) -> bool:
        return self.effect == "Allow"

    def matches_action(self, action: str) -> bool:
        hit = any(action_matches(pattern, action) for pattern in self.actions)
        return not hit if self.not_action else hit

    def allows(self, action: str) -> bool:
        return self.allow and self.matches_action(action)

    def action_patterns_matching(self, prefix_pattern: str) -> list[str]:
        """The statement's own action patterns that a pattern like `s3:*` covers."""
        return [a for a in self.actions if action_matches(prefix_pattern, a)]

    @property
    def label(self) -> str:
        if self.sid:
            where = f"Sid '{self.sid}'"
        elif self.index is not None:
            where = f"statement {self.index + 1}"
        else:  # not from a policy document (parse_policy numbers those)
            where = "a statement"
        return f"{where} of {self.source}" if self.source else where

    @property
    def everyone(self) -> bool:
        """A grant to anybody: `Principal: "*"` / `{AWS: "*"}`."""
        return bool(self.principals) and any(p.is_everyone for p in self.principals or ())

    def condition_keys(self) -> set[str]:
        keys: set[str] = set()
        for operator in self.conditions.values():
            if isinstance(operator, dict):
                keys.update(str(k).lower() for k in operator)
        return keys

    def condition_entries(self, key: str) -> list[tuple[str, object]]:
        """(operator, raw value) pairs that test a condition key (case-insensitive)."""
        wanted = key.lower()
        out: list[tuple[str, object]] = []
        for operator, tests in self.conditions.items():
            if isinstance(tests, dict):
                for test_key, value in tests.items():
                    if str(test_key).lower() == wanted:
                        out.append((str(operator), value))
        return out


@dataclass
class Policy:
    """The statements of one policy document."""

    source: str
    statements: list[Statement]
    line: int | None = None
    # The resource whose text holds the statements (a role, or an attached
    # AWS::IAM::Policy): where a user goes to fix them.
    owner: str | None = None

    def allow_statements(self, action: str | None = None) -> Iterator[Statement]:
        for statement in self.statements:
            if statement.allow and (action is None or statement.matches_action(action)):
                yield statement


def parse_policy(
    resolver: Resolver,
    document: object,
    source: str,
    line: int | None = None,
    owner: str | None = None,
) -> Policy:
    """A policy document (possibly with intrinsics anywhere) as statements."""
    statements: list[Statement] = []
    candidates: list[object] = []
    line = line_of(document, line)
    for candidate in resolver.expand(document):
        if isinstance(candidate, dict) and intrinsic_name(candidate) == "Fn::Transform":
            statements.append(_transformed(resolver, candidate, source, line))
        elif isinstance(candidate, dict) and intrinsic_name(candidate) == "Fn::ToJsonString":
            candidates.extend(resolver.expand(candidate["Fn::ToJsonString"]))
        elif isinstance(candidate, str) or intrinsic_name(candidate) in JSON_STRINGS:
            candidates.extend(resolver.json_documents(candidate, line))
        else:
            candidates.append(candidate)
    for candidate in candidates:
        if isinstance(candidate, Unknown):
            statements.append(
                Statement(
                    "Allow",
                    (),
                    (),
                    line=line,
                    source=source,
                    unknown_actions=(f"policy document given as a string: {candidate.reason}",),
                )
            )
            continue
        for statement_list in resolver.get(candidate, "Statement"):
            for index, raw, stmt_line in _numbered(resolver, statement_list):
                if isinstance(raw, dict):
                    statements.extend(
                        replace(statement, index=index)
                        for statement in _statements(resolver, raw, stmt_line, source)
                    )
    return Policy(source, statements, line_of(document, line), owner)


def _numbered(resolver: Resolver, node: object) -> list[tuple[int, object, int | None]]:
    """`resolver.items` of a Statement list, with each item's place in it: what names
    a statement without a Sid (1-based in its label), whatever line it moves to.
    Both branches of an `Fn::If` item are the statement at its place."""
    out: list[tuple[int, object, int | None]] = []
    for candidate in resolver.expand(node):
        if isinstance(candidate, list):
            for index, item in enumerate(candidate):
                line = candidate.line_of(index) if isinstance(candidate, Seq) else None
                out.extend((index, each, line_of(each, line)) for each in resolver.expand(item))
        elif candidate is not None:  # a single statement, not in a list
            out.append((0, candidate, line_of(candidate, line_of(node))))
    return out


def _transformed(resolver: Resolver, node: dict, source: str, line: int | None) -> Statement:
    """A policy document an `Fn::Transform` (AWS::Include, a macro) makes at deploy time.

    Its statements cannot be seen: an AL006 note says so, and a statement
    with unknown actions stands for them.
    """
    args = node["Fn::Transform"]
    name = args.get("Name") if isinstance(args, dict) else None
    parameters = args.get("Parameters") if isinstance(args, dict) else None
    location = parameters.get("Location") if isinstance(parameters, dict) else None
    shown = str(name) if isinstance(name, str) else "a transform"
    if isinstance(location, str):
        shown += f" of {location}"
    reason = f"the policy document of {source} comes from {shown} at deploy time"
    resolver.note(f"{reason}; its statements are not checked", line)
    return Statement("Allow", (), (), line=line, source=source, unknown_actions=(reason,))


def _statements(
    resolver: Resolver, raw: dict, line: int | None, source: str
) -> Iterator[Statement]:
    effects = {v.value for v in _values(resolver, raw, "Effect") if isinstance(v, Lit)}
    effect = "Allow" if "Allow" in effects or not effects else "Deny"
    not_action = "NotAction" in raw
    actions, unknown = _strings(resolver, raw, "NotAction" if not_action else "Action")
    not_resource = "NotResource" in raw
    resources = tuple(_values(resolver, raw, "NotResource" if not_resource else "Resource"))
    not_principal = "NotPrincipal" in raw
    principal_key = "NotPrincipal" if not_principal else "Principal"
    principals = (
        tuple(_principals(resolver, raw.get(principal_key))) if principal_key in raw else None
    )
    conditions = Map()
    for candidate in resolver.get(raw, "Condition"):
        if isinstance(candidate, dict):
            conditions.update(candidate)
    sids = [v.value for v in _values(resolver, raw, "Sid") if isinstance(v, Lit)]
    yield Statement(
        effect,
        tuple(actions),
        resources,
        principals,
        not_principal,
        not_action,
        not_resource,
        conditions,
        line_of(raw, line),
        str(sids[0]) if sids else None,
        source,
        tuple(unknown),
    )


def _values(resolver: Resolver, raw: dict, key: str) -> list[Value]:
    out: list[Value] = []
    for node in resolver.get(raw, key):
        if isinstance(node, list):
            for item, item_line in resolver.items(node):
                out.extend(resolver.values(item, item_line))
        else:
            out.extend(resolver.values(node))
    return out


def _strings(resolver: Resolver, raw: dict, key: str) -> tuple[list[str], list[str]]:
    strings: list[str] = []
    unknown: list[str] = []
    for value in _values(resolver, raw, key):
        text = value.text() if isinstance(value, Lit) else None
        if isinstance(text, str):
            strings.append(text)
        else:
            unknown.append(value.text() if not isinstance(value, Unknown) else value.reason)
    return strings, unknown


def _principals(resolver: Resolver, node: object) -> Iterator[Principal]:
    for candidate in resolver.expand(node):
        if isinstance(candidate, dict):
            for kind in PRINCIPAL_KINDS:
                for item in resolver.get(candidate, kind):
                    items = resolver.items(item) if isinstance(item, list) else [(item, None)]
                    for entry, entry_line in items:
                        for value in resolver.values(entry, entry_line):
                            yield Principal(kind, value)
        else:
            for value in resolver.values(candidate):
                if isinstance(value, Lit) and value.value == "*":
                    yield Principal("*", value)
                else:
                    yield Principal("AWS", value)


def managed_policy_arn(name: str) -> str | None:
    """The ARN of the AWS managed policy NAME, with its path (`arn:aws:` partition)."""
    policy = managed_policies()["policies"].get(name)
    return str(policy["arn"]) if policy else None


def managed_policy_statements(arn_values: Iterable[Value], source: str) -> list[Statement]:
    """The statements of the managed policies attached by these ARNs to `source` (a role).

    An AWS managed policy (any partition) gives the statements of its default
    version. Any other ARN (customer managed, a policy of the template, a value
    known only at deploy time) gives one statement without actions whose
    `unknown_actions` says why, and whose `policy_arn` is the value, so that a
    rule can tell a policy of the template (judged by its own statements).
    """
    out: list[Statement] = []
    for value in arn_values:
        text = value.text() if isinstance(value, (Lit, Text)) else None
        match = _AWS_MANAGED_ARN.match(text) if isinstance(text, str) else None
        if match is None:
            out.append(_unknown_policy(value, source, _why_unknown(value, text)))
            continue
        name = match["name"]
        policy = managed_policies()["policies"].get(name)
        if "${" in name:
            why = "the policy name is known only at deploy time"
        elif policy is None:
            data = managed_policies()
            why = f"no AWS managed policy is named {name} in {data['source']}@{data['version']}"
        elif policy["arn"].split(":policy/", 1)[1] != match["path"] + name:
            why = f"AWS has no managed policy at this path; {name} is {policy['arn']}"
        else:
            out.extend(_aws_managed_statements(name, policy["statements"], value, source))
            continue
        out.append(_unknown_policy(value, source, why))
    return out


def _aws_managed_statements(
    name: str, raw_statements: list[dict], value: Value, source: str
) -> Iterator[Statement]:
    for index, raw in enumerate(raw_statements):
        not_action = "NotAction" in raw
        not_resource = "NotResource" in raw
        resources = raw.get("NotResource" if not_resource else "Resource")
        conditions = Map()
        conditions.update(raw.get("Condition") or {})
        yield Statement(
            str(raw.get("Effect", "Allow")),
            _as_strings(raw.get("NotAction" if not_action else "Action")),
            tuple(Lit(r, value.line) for r in _as_strings(resources)),
            not_action=not_action,
            not_resource=not_resource,
            conditions=conditions,
            line=value.line,
            source=f"AWS managed policy {name} of {source}",
            policy_arn=value,
            index=index,
        )


def _as_strings(node: object) -> tuple[str, ...]:
    items = node if isinstance(node, list) else [] if node is None else [node]
    return tuple(str(item) for item in items)


def _unknown_policy(value: Value, source: str, why: str) -> Statement:
    shown = value.text() if not isinstance(value, Unknown) else "given by an unresolved value"
    where = f"managed policy {shown} of {source}"
    return Statement(
        "Allow", (), (), line=value.line, source=where, unknown_actions=(why,), policy_arn=value
    )


def _why_unknown(value: Value, text: str | None) -> str:
    if isinstance(value, Unknown):
        return value.reason
    if text and _CUSTOMER_MANAGED_ARN.match(text):
        return "it is a customer managed policy that is not in the template"
    return f"{value.text()} is not the ARN of a managed policy archlint knows"
