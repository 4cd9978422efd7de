"""Coverage-guided fuzz target for the loader and the whole check pipeline.

    pip install atheris && python fuzz/fuzz_loader.py -max_total_time=300 CORPUS_DIR fuzz/seeds

(libFuzzer writes new inputs into the first directory: use a scratch copy.)

Any exception escaping `check_bytes`, or a rule reporting an internal error,
is a bug. `tests/test_fuzz_seeds.py` replays the seeds through the same entry
point on every test run, without atheris.
"""

from __future__ import annotations

import sys

from archlint.engine import Checker, Options
from archlint.registry import load_rules

CHECKER = Checker(load_rules(plugins=False), Options())


def check_one_input(data: bytes) -> None:
    for name in ("fuzz.yaml", "fuzz.json"):
        findings = CHECKER.check_bytes(name, data, explicit=True) or []
        crashed = [f.message for f in findings if f.rule_id == "AL000"]
        if crashed:
            raise AssertionError(crashed)


def main() -> None:
    import atheris

    # archlint is imported above (the tests reuse check_one_input without
    # atheris): instrument its loaded code for coverage now.
    atheris.instrument_all()
    atheris.Setup(sys.argv, check_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
