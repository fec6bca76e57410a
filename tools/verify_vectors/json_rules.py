"""RFC 8259 as the format reads it: one JSON text, syntax only, and no NaN or Infinity."""

from __future__ import annotations

import re


# RFC 8259 tokens. A string: no unescaped quote, backslash or U+0000..U+001F; escapes as listed.
_JSON_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_JSON_WS = " \t\n\r"


def json_text_depth(text: str) -> int:
    """Checks that `text` is exactly one JSON text (RFC 8259 section 2: optional whitespace, one
    value, optional whitespace), syntax only, without recursion; returns its nesting depth (the
    most arrays and objects that enclose one another). Raises ValueError."""
    n = len(text)
    pos = 0
    stack: list[str] = []
    deepest = 0

    def ws() -> None:
        nonlocal pos
        while pos < n and text[pos] in _JSON_WS:
            pos += 1

    def member_name() -> None:
        nonlocal pos
        m = _JSON_STRING.match(text, pos)
        if not m:
            raise ValueError("member name")
        pos = m.end()
        ws()
        if pos >= n or text[pos] != ":":
            raise ValueError("':'")
        pos += 1
        ws()

    ws()
    expect_value = True
    while True:
        if expect_value:
            c = text[pos] if pos < n else ""
            if c in ("[", "{"):
                stack.append(c)
                deepest = max(deepest, len(stack))
                pos += 1
                ws()
                close = "]" if c == "[" else "}"
                if pos < n and text[pos] == close:
                    pos += 1
                    stack.pop()
                    expect_value = False
                elif c == "{":
                    member_name()
                continue
            if c == '"':
                m = _JSON_STRING.match(text, pos)
            elif c and c in "-0123456789":
                m = _JSON_NUMBER.match(text, pos)
            else:
                m = None
            if m:
                pos = m.end()
            else:
                for literal in ("true", "false", "null"):
                    if text.startswith(literal, pos):
                        pos += len(literal)
                        break
                else:
                    raise ValueError("value expected")
            expect_value = False
            continue
        ws()
        if not stack:
            break
        c = text[pos] if pos < n else ""
        if c == ",":
            pos += 1
            ws()
            if stack[-1] == "{":
                member_name()
            expect_value = True
        elif c == ("]" if stack[-1] == "[" else "}"):
            pos += 1
            stack.pop()
        else:
            raise ValueError("',' or the end of the container expected")
    if pos != n:
        raise ValueError("text after the value")
    return deepest


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")
