"""Products of choices in bounded time: every choice counts, even past the cap.

A string built from parts that each have several values (`Fn::If`
branches, a parameter's allowed values, the rows a `Fn::FindInMap` can
reach) has as many values as the product of the parts' counts. Up to a cap
every combination is produced. Past it, the product is over-approximated:
the first combination, then the combinations that change one part at a
time from it, so each value of each part appears in at least one
combination; callers add a value standing for "any other mix" (a `Text`
with an `Unknown` piece) and say that they over-approximated.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

# Past this many part copies, even the one-at-a-time variations are not
# built: the first combination and the "any other mix" value stand for all.
MAX_VARIATION_WORK = 200_000


def product(choices: Sequence[Sequence[T]], limit: int) -> tuple[list[tuple[T, ...]], bool]:
    """The combinations of one choice per part, and whether they were over-approximated."""
    total = 1
    for options in choices:
        total *= len(options)
        if total == 0:
            return [], False
        if total > limit:
            break
    if total <= limit and all(choices):
        return list(itertools.product(*choices)), False
    for options in choices:  # an empty part means no combination at all
        if not options:
            return [], False
    first = tuple(options[0] for options in choices)
    out = [first]
    variations = sum(len(options) - 1 for options in choices)
    if variations * max(1, len(choices)) > MAX_VARIATION_WORK:
        return out, True
    for index, options in enumerate(choices):
        for option in options[1:]:
            out.append((*first[:index], option, *first[index + 1 :]))
    return out, True


def smallest(choices: Sequence[Sequence[T | None]]) -> tuple[T | None, ...]:
    """The combination that leaves out (None) every part that can be left out."""
    return tuple(None if None in options else options[0] for options in choices)
