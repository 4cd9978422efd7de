"""archlint inside other tools: checkov external checks and cfn-lint rules.

Users already run checkov or cfn-lint in their pipelines; these plugins bring
archlint's findings into those reports instead of asking for one more step.
`bridge` is the one place that turns a template path into archlint findings
for both plugins.
"""
