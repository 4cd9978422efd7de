"""JSON templates with a line for every mapping, key and list item.

json's own scanner (C string scanning) with object and array builders that
record lines: several times faster than composing the same text as YAML,
which matters for synthesized (CDK) templates. Duplicate keys are kept and
reported, as in YAML.
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import json.scanner
import re

from archlint.nodes import (
    MAX_DEPTH,
    MAX_NUMBER_CHARS,
    Loaded,
    LoadProblem,
    Map,
    Seq,
    TooDeep,
    too_deep,
)


def load_json(text: str) -> Loaded:
    """Parse JSON with line marks.

    JSON is parsed by json's own scanner (C string scanning) with object and
    array builders that record lines: several times faster than composing
    the same text as YAML, which matters for synthesized (CDK) templates.
    """
    parser = _JsonParser(text)
    try:
        root = parser.parse()
    except TooDeep as error:
        return Loaded(None, [error.problem], text)
    except json.JSONDecodeError as error:
        problem = LoadProblem("syntax", f"not valid JSON: {error.msg}", error.lineno)
        return Loaded(None, [problem], text)
    return Loaded(root, parser.problems, text)


class _JsonParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.problems: list[LoadProblem] = []
        self._newlines = [m.start() for m in re.finditer("\n", text)]
        self._depth = 0
        decoder = json.JSONDecoder()
        decoder.parse_object = self._object  # type: ignore[assignment]
        decoder.parse_array = self._array  # type: ignore[assignment]
        decoder.memo = {}
        decoder.parse_int = _parse_int  # type: ignore[assignment]
        self._scan_once = json.scanner.py_make_scanner(decoder)

    def line(self, index: int) -> int:
        return bisect.bisect_left(self._newlines, index) + 1

    def parse(self) -> object:
        text = self.text
        start = _JSON_WS.match(text, 0).end()
        try:
            value, end = self._scan_once(text, start)
        except StopIteration as stop:
            raise json.JSONDecodeError("Expecting value", text, stop.value) from None
        end = _JSON_WS.match(text, end).end()
        if end != len(text):
            raise json.JSONDecodeError("Extra data", text, end)
        return value

    def _enter(self, index: int) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise TooDeep(too_deep(self.line(index)))

    def _object(self, s_and_end, strict, scan_once, object_hook, pairs_hook, memo=None):
        text, end = s_and_end
        self._enter(end)
        mapping = Map(self.line(end - 1))
        end = _JSON_WS.match(text, end).end()
        if text[end : end + 1] == "}":
            self._depth -= 1
            return mapping, end + 1
        while True:
            if text[end : end + 1] != '"':
                raise json.JSONDecodeError(
                    "Expecting property name enclosed in double quotes", text, end
                )
            key_line = self.line(end)
            key, end = _scanstring(text, end + 1, strict)
            end = _JSON_WS.match(text, end).end()
            if text[end : end + 1] != ":":
                raise json.JSONDecodeError("Expecting ':' delimiter", text, end)
            end = _JSON_WS.match(text, end + 1).end()
            try:
                value, end = scan_once(text, end)
            except StopIteration as stop:
                raise json.JSONDecodeError("Expecting value", text, stop.value) from None
            if key in mapping:
                self.problems.append(
                    LoadProblem(
                        "duplicate-key",
                        f"duplicate key '{key}' (first defined at line "
                        f"{mapping.key_lines.get(key)}); JSON parsers keep only one of them",
                        key_line,
                    )
                )
                mapping.duplicates.append((key, value, key_line))
            else:
                mapping[key] = value
                mapping.key_lines[key] = key_line
            end = _JSON_WS.match(text, end).end()
            nextchar = text[end : end + 1]
            end = _JSON_WS.match(text, end + 1).end()
            if nextchar == "}":
                break
            if nextchar != ",":
                raise json.JSONDecodeError("Expecting ',' delimiter", text, end - 1)
        self._depth -= 1
        return mapping, end

    def _array(self, s_and_end, scan_once):
        text, end = s_and_end
        self._enter(end)
        seq = Seq(self.line(end - 1))
        end = _JSON_WS.match(text, end).end()
        if text[end : end + 1] == "]":
            self._depth -= 1
            return seq, end + 1
        while True:
            item_line = self.line(end)
            try:
                value, end = scan_once(text, end)
            except StopIteration as stop:
                raise json.JSONDecodeError("Expecting value", text, stop.value) from None
            seq.append(value)
            seq.item_lines.append(item_line)
            end = _JSON_WS.match(text, end).end()
            nextchar = text[end : end + 1]
            end = _JSON_WS.match(text, end + 1).end()
            if nextchar == "]":
                break
            if nextchar != ",":
                raise json.JSONDecodeError("Expecting ',' delimiter", text, end - 1)
        self._depth -= 1
        return seq, end


_JSON_WS = re.compile(r"[ \t\n\r]*")
_scanstring = json.decoder.scanstring


def _parse_int(text: str) -> int | str:
    return int(text) if len(text) <= MAX_NUMBER_CHARS else text
