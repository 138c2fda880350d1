"""A reader for FlatZinc text (the ``.fzn`` files MiniZinc writes): items in, plain data out.

The result is a :class:`FlatZinc`: parameter and variable declarations in file order, the
constraints and the solve item. Expressions are plain Python values: ``int``, ``bool``,
``float``, ``str`` (string literals), :class:`IntSet` (ranges and set literals), ``list``
(array literals), :class:`Ident`, :class:`Access` (``a[3]``) and :class:`Call` (annotations such as
``int_search(q, input_order, indomain_min, complete)``). Anything malformed raises
:class:`FznSyntaxError` naming the file and line.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from modelsplit.errors import ModelError


class FznSyntaxError(ModelError):
    """The FlatZinc text cannot be read (the message names file and line)."""


@dataclass(frozen=True)
class Ident:
    name: str


@dataclass(frozen=True)
class Access:
    name: str
    index: int


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple


@dataclass(frozen=True)
class IntSet:
    """A set of integers as sorted, disjoint, non-adjacent closed ranges."""

    ranges: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, values) -> IntSet:
        ranges: list[tuple[int, int]] = []
        for v in sorted(set(values)):
            if ranges and ranges[-1][1] == v - 1:
                ranges[-1] = (ranges[-1][0], v)
            else:
                ranges.append((v, v))
        return cls(tuple(ranges))

    @classmethod
    def range(cls, lo: int, hi: int) -> IntSet:
        return cls(((lo, hi),) if lo <= hi else ())

    def values(self) -> list[int]:
        return [v for lo, hi in self.ranges for v in range(lo, hi + 1)]

    def flat(self) -> list[int]:
        return [b for r in self.ranges for b in r]


@dataclass(frozen=True)
class Type:
    """A declared type: ``var``-ness, base (int/bool/float/set), optional domain, array dims."""

    var: bool
    base: str  # "int" | "bool" | "float" | "set"
    domain: IntSet | tuple[float, float] | None = None
    array: tuple | None = None  # index ranges of an array declaration, e.g. ((1, 3),)


@dataclass
class Decl:
    type: Type
    name: str
    annotations: list
    value: object = None  # the assigned expression, if any
    line: int = 0


@dataclass
class Constraint:
    name: str
    args: list
    annotations: list
    line: int = 0


@dataclass
class SolveItem:
    kind: str  # satisfy | minimize | maximize
    objective: object = None
    annotations: list = field(default_factory=list)
    line: int = 0


@dataclass
class FlatZinc:
    path: str
    decls: list[Decl] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)
    solve: SolveItem | None = None


# a token with the white space and comments before it: one match a token, not two (a comment
# runs to the end of its line, so that a failed match never reads into it)
_TOKEN = re.compile(
    r"""
    \s*(?:%[^\n]*(?![^\n])\s*)*
    (?:
      (?P<string>"(?:[^"\\\n]|\\.)*")
    | (?P<float>-?\d+\.\d+(?:[eE][-+]?\d+)?|-?\d+[eE][-+]?\d+)
    | (?P<int>-?0x[0-9a-fA-F]+|-?0o[0-7]+|-?\d+)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<punct>\.\.|::|[\[\]{}(),:;=])
    )
    """,
    re.VERBOSE,
)
_SPACE = re.compile(r"\s*(?:%[^\n]*(?![^\n])\s*)*")


class _Parser:
    """Tokens are ``(kind, text, offset)``; an offset becomes a line number only where one is
    kept or reported (:meth:`line`): counting lines token by token was a third of the parse."""

    def __init__(self, text: str, path: str):
        self.path = path
        self.text = text
        self._newlines: list[int] | None = None
        tokens: list[tuple[str, str, int]] = []
        append = tokens.append
        pos = 0
        match = _TOKEN.match
        while m := match(text, pos):
            pos = m.end()
            kind = m.lastgroup
            append((kind, m.group(kind), m.start(kind)))
        if pos != len(text) and not _SPACE.fullmatch(text, pos):
            pos = _SPACE.match(text, pos).end()
            raise FznSyntaxError(f"{path}:{self.line(pos)}: cannot read {text[pos : pos + 20]!r}")
        append(("eof", "", len(text)))
        self.tokens = tokens
        self.i = 0

    def line(self, offset: int) -> int:
        """The line (from 1) of the text at ``offset``."""
        if self._newlines is None:
            self._newlines = [m.start() for m in re.finditer("\n", self.text)]
        return bisect.bisect_left(self._newlines, offset) + 1

    # -- token helpers ---------------------------------------------------------------------------

    def peek(self, k: int = 0) -> tuple[str, str, int]:
        if k == 0:
            return self.tokens[self.i]  # never past "eof": next() stays on it
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def next(self) -> tuple[str, str, int]:
        tok = self.tokens[self.i]
        if tok[0] != "eof":
            self.i += 1
        return tok

    def error(self, what: str, tok=None) -> FznSyntaxError:
        tok = tok or self.peek()
        got = tok[1] or "end of file"
        return FznSyntaxError(f"{self.path}:{self.line(tok[2])}: expected {what}, found {got!r}")

    def expect(self, value: str) -> tuple[str, str, int]:
        tok = self.next()
        if tok[1] != value:
            raise self.error(repr(value), tok)
        return tok

    def accept(self, value: str) -> bool:
        tok = self.tokens[self.i]
        if tok[1] == value and tok[0] in ("punct", "ident"):
            self.i += 1
            return True
        return False

    def int_literal(self) -> int:
        tok = self.next()
        if tok[0] != "int":
            raise self.error("an integer", tok)
        return int(tok[1], 0) if "x" in tok[1] or "o" in tok[1] else int(tok[1])

    # -- items -----------------------------------------------------------------------------------

    def parse(self) -> FlatZinc:
        fzn = FlatZinc(self.path)
        while self.peek()[0] != "eof":
            kind, value, offset = self.peek()
            if value == "predicate":
                self.skip_item()
            elif value == "constraint":
                line = self.line(offset)  # (a declaration finds its own line: decl)
                self.next()
                name_tok = self.next()
                if name_tok[0] != "ident":
                    raise self.error("a constraint name", name_tok)
                self.expect("(")
                args = self.exprs(")")
                fzn.constraints.append(Constraint(name_tok[1], args, self.annotations(), line))
                self.expect(";")
            elif value == "solve":
                line = self.line(offset)
                self.next()
                anns = self.annotations()
                kind_tok = self.next()
                if kind_tok[1] == "satisfy":
                    fzn.solve = SolveItem("satisfy", None, anns, line)
                elif kind_tok[1] in ("minimize", "maximize"):
                    fzn.solve = SolveItem(kind_tok[1], self.expr(), anns, line)
                else:
                    raise self.error("satisfy, minimize or maximize", kind_tok)
                self.expect(";")
            else:
                fzn.decls.append(self.decl())
        return fzn

    def skip_item(self) -> None:
        depth = 0
        while True:
            tok = self.next()
            if tok[0] == "eof":
                raise self.error("';'", tok)
            if tok[1] in ("(", "[", "{"):
                depth += 1
            elif tok[1] in (")", "]", "}"):
                depth -= 1
            elif tok[1] == ";" and depth <= 0:
                return

    def decl(self) -> Decl:
        line = self.line(self.peek()[2])
        typ = self.type()
        self.expect(":")
        name_tok = self.next()
        if name_tok[0] != "ident":
            raise self.error("a name", name_tok)
        anns = self.annotations()
        value = None
        if self.accept("="):
            value = self.expr()
        self.expect(";")
        return Decl(typ, name_tok[1], anns, value, line)

    def type(self) -> Type:
        array = None
        if self.accept("array"):
            self.expect("[")
            dims = []
            while True:
                if self.accept("int"):
                    dims.append(None)
                else:
                    lo = self.int_literal()
                    self.expect("..")
                    dims.append((lo, self.int_literal()))
                if not self.accept(","):
                    break
            self.expect("]")
            self.expect("of")
            array = tuple(dims)
        var = self.accept("var")
        tok = self.peek()
        if tok[1] in ("int", "bool", "float") and tok[0] == "ident":
            self.next()
            return Type(var, tok[1], None, array)
        if tok[1] == "set" and tok[0] == "ident":
            self.next()
            self.expect("of")
            if self.accept("int"):
                return Type(var, "set", None, array)
            dom = self.expr()
            if not isinstance(dom, IntSet):
                raise self.error("a set of integers", tok)
            return Type(var, "set", dom, array)
        dom = self.expr()
        if isinstance(dom, IntSet):
            return Type(var, "int", dom, array)
        if isinstance(dom, tuple) and len(dom) == 2:  # float range
            return Type(var, "float", dom, array)
        raise self.error("a type", tok)

    def annotations(self) -> list:
        anns = []
        while self.accept("::"):
            anns.append(self.expr())
        return anns

    # -- expressions -----------------------------------------------------------------------------

    def exprs(self, close: str) -> list:
        items = []
        if self.accept(close):
            return items
        while True:
            items.append(self.expr())
            if self.accept(close):
                return items
            self.expect(",")
            if self.accept(close):  # trailing comma
                return items

    def expr(self):
        kind, value, offset = self.next()
        if kind == "int":
            lo = int(value, 0) if ("x" in value or "o" in value) else int(value)
            if self.accept(".."):
                return IntSet.range(lo, self.int_literal())
            return lo
        if kind == "float":
            f = float(value)
            if self.accept(".."):
                tok = self.next()
                if tok[0] not in ("float", "int"):
                    raise self.error("a float", tok)
                return (f, float(tok[1]))
            return f
        if kind == "string":
            return value[1:-1]
        if kind == "ident":
            if value == "true":
                return True
            if value == "false":
                return False
            if self.accept("("):
                return Call(value, tuple(self.exprs(")")))
            if self.peek()[1] == "[":
                self.next()
                index = self.int_literal()
                self.expect("]")
                return Access(value, index)
            return Ident(value)
        if value == "[":
            return self.exprs("]")
        if value == "{":
            items = self.exprs("}")
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
                raise FznSyntaxError(f"{self.path}:{self.line(offset)}: only sets of integers are supported")
            return IntSet.of(items)
        raise self.error("an expression", (kind, value, offset))


def parse_fzn(text: str, path: str = "<fzn>") -> FlatZinc:
    """Parse FlatZinc text; ``path`` is used in error messages."""
    return _Parser(text, path).parse()
