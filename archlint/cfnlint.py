"""`cfn-lint --append-rules archlint.cfnlint`: archlint's rules inside cfn-lint, by a short name.

The rules live in `archlint.plugins.cfnlint_rules` (see its docstring); cfn-lint
instantiates the rule classes it finds among a module's members, so this
module re-exports them. Importing it imports cfn-lint: only cfn-lint does.
"""

from archlint.plugins.cfnlint_rules.archlint_cfnlint import RULE_CLASSES

globals().update(RULE_CLASSES)

__all__ = sorted(RULE_CLASSES)
