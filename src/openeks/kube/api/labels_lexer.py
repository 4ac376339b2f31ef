"""The label selector lexer, token for token as `labels.Lexer` in selector.go.

Identifiers run until whitespace or a special symbol (`=!(),><`); special symbols are
read greedily into the longest operator (`!=`, `==`); `in` and `notin` are keywords only
where the parser expects an operator.
"""

from __future__ import annotations

# -- tokens -----------------------------------------------------------------------------------
(
    TOK_ERROR,
    TOK_END,
    TOK_CLOSE,
    TOK_COMMA,
    TOK_NOT,
    TOK_DEQ,
    TOK_EQ,
    TOK_GT,
    TOK_IDENT,
    TOK_IN,
    TOK_LT,
    TOK_NEQ,
    TOK_NOTIN,
    TOK_OPEN,
) = range(14)
_STRING_TO_TOKEN = {
    ")": TOK_CLOSE,
    ",": TOK_COMMA,
    "!": TOK_NOT,
    "==": TOK_DEQ,
    "=": TOK_EQ,
    ">": TOK_GT,
    "in": TOK_IN,
    "<": TOK_LT,
    "!=": TOK_NEQ,
    "notin": TOK_NOTIN,
    "(": TOK_OPEN,
}
_SPECIAL = set("=!(),><")
_WHITESPACE = set(" \t\r\n")


class Lexer:
    def __init__(self, text: str) -> None:
        self.s = text
        self.pos = 0

    def read(self) -> str:
        if self.pos < len(self.s):
            ch = self.s[self.pos]
            self.pos += 1
            return ch
        return ""

    def unread(self) -> None:
        self.pos -= 1

    def scan_id_or_keyword(self) -> tuple[int, str]:
        buf = []
        while True:
            ch = self.read()
            if ch == "":
                break
            if ch in _SPECIAL or ch in _WHITESPACE:
                self.unread()
                break
            buf.append(ch)
        text = "".join(buf)
        return _STRING_TO_TOKEN.get(text, TOK_IDENT), text

    def scan_special_symbol(self) -> tuple[int, str]:
        last: tuple[int, str] | None = None
        buf = ""
        while True:
            ch = self.read()
            if ch == "":
                break
            if ch in _SPECIAL:
                buf += ch
                if buf in _STRING_TO_TOKEN:
                    last = (_STRING_TO_TOKEN[buf], buf)
                elif last is not None:
                    self.unread()
                    break
            else:
                self.unread()
                break
        if last is None:
            return TOK_ERROR, f"error expected: keyword found '{buf}'"
        return last

    def lex(self) -> tuple[int, str]:
        ch = self.read()
        while ch in _WHITESPACE and ch != "":
            ch = self.read()
        if ch == "":
            return TOK_END, ""
        self.unread()
        if ch in _SPECIAL:
            return self.scan_special_symbol()
        return self.scan_id_or_keyword()
