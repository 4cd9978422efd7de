"""The catalogue's rules, one module per concern, installed as `archlint.rules`.

Each rule is a plain function decorated with `@rule(...)`: it reads the
resource graph and yields `Violation`s. See `../shared/spec/architectures.md`
for the requirements they implement.
"""
