"""Read the values of a solution printed by MiniZinc in dzn form (``--output-mode dzn``).

Most parts print their values as MiniZinc's own JSON, in the plan's values section (see
plan/write.py, values_section). Parts that print dzn have no such section, and this reader turns
their text back into values: plans split with ``output_mode="dzn"`` (`minizinc --output-mode
dzn` prints only the dzn, no other output section), models without an output item split with
MiniZinc 2.8 or later (where an output section silences the default output), and the parts of a
CP-SAT model file (workers/cpsat/standalone.py prints dzn). Its values are close to MiniZinc's
JSON, not equal: arrays of several dimensions come flat (the plan's ``info.reshape`` nests those
of splittable variables), enum values are ``{"e": name}`` (``{"e": "C(3)"}`` for a constructor),
sets are ``{"set": [[lo, hi], ...]}``.
"""

from __future__ import annotations

import re

_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<float>-?\d+\.\d+(?:[eE][-+]?\d+)?|-?\d+[eE][-+]?\d+)
      | (?P<range>\.\.)
      | (?P<int>-?\d+)
      | (?P<str>"(?:[^"\\]|\\.)*")
      | (?P<absent><>)
      | (?P<open2>\[\|)
      | (?P<close2>\|\])
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<punct>[\[\]{}(),:;|=])
    )""",
    re.VERBOSE,
)


class DznSyntaxError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise DznSyntaxError(f"cannot read dzn near {text[pos : pos + 30]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, k: int = 0) -> tuple[str, str]:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else ("eof", "")

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if value is not None and tok[1] != value:
            raise DznSyntaxError(f"expected {value!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def assignments(self) -> dict:
        out = {}
        while self.peek()[0] != "eof":
            name = self.take()[1]
            self.take("=")
            out[name] = self.value()
            self.take(";")
        return out

    def scalar(self):
        kind, text = self.take()
        if kind == "int":
            if self.peek()[0] == "range":
                self.take()
                hi = int(self.take()[1])
                return {"set": [[int(text), hi]]}
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "absent":
            return None
        if kind == "str":
            return text[1:-1]
        if kind == "ident":
            if text in ("true", "false"):
                return text == "true"
            if self.peek()[1] == "(":  # enum constructor such as C(3), or arrayNd(...)
                args = self._call_args()
                if text.startswith("array"):
                    return args[-1]
                return {"e": f"{text}({', '.join(map(str, args))})"}
            return {"e": text}
        raise DznSyntaxError(f"unexpected {text!r}")

    def _call_args(self) -> list:
        self.take("(")
        args = []
        while self.peek()[1] != ")":
            args.append(self.value())
            if self.peek()[1] == ",":
                self.take()
        self.take(")")
        return args

    def value(self):
        kind, text = self.peek()
        if kind == "open2":
            return self._array2d()
        if text == "[":
            return self._array()
        if text == "{":
            return self._set()
        return self.scalar()

    def _element(self):
        v = self.value()
        if self.peek()[1] == ":":  # an index label: `0: -1`
            self.take()
            v = self.value()
        return v

    def _array(self) -> list:
        self.take("[")
        items = []
        while self.peek()[1] != "]":
            items.append(self._element())
            if self.peek()[1] == ",":
                self.take()
        self.take("]")
        return items

    def _array2d(self) -> list:
        self.take()  # [|
        items: list = []
        while self.peek()[0] != "close2":
            tok = self.peek()
            if tok[1] in ("|", ","):
                self.take()
                continue
            v = self.value()
            if self.peek()[1] == ":":  # a row or column label
                self.take()
                continue
            items.append(v)
        self.take()
        return items

    def _set(self) -> dict:
        self.take("{")
        values = []
        while self.peek()[1] != "}":
            v = self.scalar()
            values.append(v)
            if self.peek()[1] == ",":
                self.take()
        self.take("}")
        return {"set": [[v, v] for v in values]}


def parse_solution(text: str) -> dict:
    """Values of a dzn solution text such as ``x = [1, 2];\\nc = Red;\\n``."""
    return _Parser(text).assignments()
