"""checkov external checks for archlint: `checkov --external-checks-dir $(archlint checkov-dir)`.

checkov imports the Python files of an external checks directory only when it
holds an `__init__.py`, and reads every `.yaml`/`.json` file there as a graph
policy: so this directory holds this file and one Python module, nothing else.
"""
