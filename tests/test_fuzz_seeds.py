"""The fuzz target's seeds, and mutations of them, go through the pipeline cleanly."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fuzz"))

from fuzz_loader import check_one_input  # noqa: E402

SEEDS = sorted((ROOT / "fuzz" / "seeds").iterdir())


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name)
def test_seed_and_its_mutations(seed):
    data = seed.read_bytes()
    check_one_input(data)
    rng = random.Random(seed.name)
    for _ in range(150):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            position = rng.randrange(len(mutated) + 1)
            choice = rng.random()
            if choice < 0.4 and mutated:
                del mutated[position % len(mutated)]
            elif choice < 0.8:
                mutated.insert(position, rng.choice(b"{}[]:-!&*'\"\t\n #,|>%@`\\\x00\xff"))
            else:
                start = rng.randrange(len(data) or 1)
                mutated[position:position] = data[start : start + rng.randint(1, 40)]
        check_one_input(bytes(mutated))
