"""Cross-field rules of a template: `target = a + b - c`, `part <= whole`, `after = kyuyo_shotoku(pay, nenbun)`.

A small grammar, parsed once when the template loads, so a broken rule is refused with its name:

    rule   := sum ("=" | "<=" | ">=") sum
    sum    := term (("+" | "-") term)*
    term   := NUMBER | NAME | NAME "(" sum ("," sum)* ")"

Names are field names or the template's `parameters` (say `nenbun: 2025`); functions come from `ocr.tax_rules`.
The left side is usually one field (the rule's `target`); it may be an expression whose first name is the target,
e.g. `tokucho_order(choshuzumi_made) >= tokucho_order(choshuzumi_kara)` (徴収月 in the June→May order).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping, Union

from ocr.tax_rules import FUNCTIONS

_TOKEN = re.compile(r"\s*(?:(<=|>=|=|\+|-|\(|\)|,)|(\d+)|([a-z][a-z0-9_]*))")


class RuleSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Number:
    value: int


@dataclass(frozen=True)
class Call:
    function: str
    arguments: tuple["Sum", ...]


@dataclass(frozen=True)
class Sum:
    terms: tuple[tuple[int, Union[Name, Number, Call]], ...]  # (sign, term)


@dataclass(frozen=True)
class ParsedRule:
    target: str
    relation: str  # "=", "<=" or ">="
    expression: Sum
    left: Sum | None = None  # None: the left side is the target alone

    @property
    def target_alone(self) -> bool:
        return self.left is None

    def names(self) -> list[str]:
        """Every name the rule reads, target first, in order, without repeats."""
        return list(self.occurrences())

    def occurrences(self) -> dict[str, int]:
        """How many times the rule reads each name, target first, in order."""
        found = [self.target]
        if self.left is not None:
            found = []
            _collect_names(self.left, found)
        _collect_names(self.expression, found)
        counts: dict[str, int] = {}
        for name in found:
            counts[name] = counts.get(name, 0) + 1
        return counts


def _collect_names(node, found: list[str]) -> None:
    if isinstance(node, Name):
        found.append(node.name)
    elif isinstance(node, Call):
        for argument in node.arguments:
            _collect_names(argument, found)
    elif isinstance(node, Sum):
        for _, term in node.terms:
            _collect_names(term, found)


def parse_rule(text: str) -> ParsedRule:
    tokens = _tokenize(text)
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take(expected: str | None = None) -> str:
        nonlocal position
        token = peek()
        if token is None or (expected is not None and token != expected):
            raise RuleSyntaxError(f"{text!r}: expected {expected or 'more'} at token {position + 1}")
        position += 1
        return token

    def parse_term():
        token = take()
        if token.isdigit():
            return Number(int(token))
        if not re.fullmatch(r"[a-z][a-z0-9_]*", token):
            raise RuleSyntaxError(f"{text!r}: unexpected {token!r}")
        if peek() != "(":
            return Name(token)
        take("(")
        if token not in FUNCTIONS:
            raise RuleSyntaxError(f"{text!r}: unknown function {token!r} (known: {', '.join(sorted(FUNCTIONS))})")
        arguments = [parse_sum()]
        while peek() == ",":
            take(",")
            arguments.append(parse_sum())
        take(")")
        return Call(token, tuple(arguments))

    def parse_sum() -> Sum:
        terms = []
        sign = 1
        if peek() in ("+", "-"):
            sign = -1 if take() == "-" else 1
        terms.append((sign, parse_term()))
        while peek() in ("+", "-"):
            sign = -1 if take() == "-" else 1
            terms.append((sign, parse_term()))
        return Sum(tuple(terms))

    left = parse_sum()
    left_names: list[str] = []
    _collect_names(left, left_names)
    if not left_names:
        raise RuleSyntaxError(f"{text!r}: a rule starts with the field it checks")
    target = left_names[0]
    alone = len(left.terms) == 1 and left.terms[0] == (1, Name(target))
    relation = take() if peek() is not None else ""
    if relation not in ("=", "<=", ">="):
        raise RuleSyntaxError(f"{text!r}: expected =, <= or >= after {target}")
    expression = parse_sum()
    if peek() is not None:
        raise RuleSyntaxError(f"{text!r}: unexpected {peek()!r} at the end")
    return ParsedRule(target, relation, expression, None if alone else left)


def _tokenize(text: str) -> list[str]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match:
            raise RuleSyntaxError(f"{text!r}: cannot read from {text[position:]!r}")
        tokens.append(next(group for group in match.groups() if group is not None))
        position = match.end()
    return tokens


def evaluate(expression: Sum, lookup: Callable[[str], int | None]) -> int | None:
    """The expression's integer value, or None when a name it needs has no value (the rule is then skipped)."""
    total = 0
    for sign, term in expression.terms:
        if isinstance(term, Number):
            value = term.value
        elif isinstance(term, Name):
            value = lookup(term.name)
        else:
            arguments = [evaluate(argument, lookup) for argument in term.arguments]
            if any(a is None for a in arguments):
                return None
            value = FUNCTIONS[term.function](*arguments)
        if value is None:
            return None
        total += sign * value
    return total


def holds(rule: ParsedRule, values: Mapping[str, int | None], parameters: Mapping[str, int]) -> bool | None:
    """Whether the rule holds for these values; None when a value it needs is missing."""
    def lookup(name: str) -> int | None:
        return values[name] if name in values else parameters.get(name)

    left = lookup(rule.target) if rule.left is None else evaluate(rule.left, lookup)
    right = evaluate(rule.expression, lookup)
    if left is None or right is None:
        return None
    return {"=": left == right, "<=": left <= right, ">=": left >= right}[rule.relation]
