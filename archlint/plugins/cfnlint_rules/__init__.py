"""cfn-lint rules for archlint: `cfn-lint --append-rules archlint.plugins.cfnlint_rules`.

cfn-lint 1.x accepts a module path for `--append-rules` and instantiates every
CloudFormationLintRule subclass it finds among the module's members, so this
package re-exports the rule classes of `archlint_cfnlint`. The directory
itself works too (`archlint cfn-lint-rules-dir`): cfn-lint then loads the
`.py` files here by file name, skipping this `__init__.py`.
"""

from archlint.plugins.cfnlint_rules.archlint_cfnlint import RULE_CLASSES

globals().update(RULE_CLASSES)

__all__ = sorted(RULE_CLASSES)
