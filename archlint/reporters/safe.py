"""Template-derived text made safe for line-oriented output (text and github formats).

A template's values, logical ids and file names are the pull request author's.
Printed raw, a newline in a value starts a line of its own (`::error
file=x::pwned` to GitHub Actions) and an ESC sequence drives the terminal. Every
control character (C0, DEL, C1), the Unicode line and paragraph separators and
the bidirectional controls (Trojan Source) become visible escapes: `\\n`,
`\\x1b`, `\\u202e`.
"""

from __future__ import annotations

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))


def _table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in (*range(0x20), *range(0x7F, 0xA0)):
        char = chr(code)
        table[code] = _NAMED.get(char, f"\\x{code:02x}")
    for code in (0x2028, 0x2029, *_BIDI):
        table[code] = f"\\u{code:04x}"
    return table


_TABLE = _table()


def visible(text: object) -> str:
    """`text` on one line, with every control character written as an escape."""
    return str(text).translate(_TABLE)
