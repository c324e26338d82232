"""The `calculator` tool: safe arithmetic over Python's ``ast``, no ``eval``, for small models.

(The module is not named ``calculator``: a submodule of that name would shadow the
``tools.calculator`` tool once imported.)

The expression is parsed, never compiled or run: a tree walker allows numbers, the
operators ``+ - * / // % **``, a few ``math`` functions and ``pi``/``e``, and refuses every
other node (names, attributes, strings, subscripts, comprehensions...) before anything is
computed. Sizes are bounded so that ``9**9**9`` or ``10**100000`` is refused at once instead
of taking the machine: the input length, integer results (:data:`MAX_INT_BITS`), the number
of function arguments, and every float result must be finite.

Before parsing, the styles small models write are rewritten: ``2^10``, ``3 × 4``, ``3 x 4``,
``8 ÷ 2``, ``2,340`` (thousands separators), ``17%`` and ``17% of 2340``, a trailing ``= ...``
(``0.17 * 2340 = 32.125`` evaluates the left side), ``what is ... ?``, and words (``45 plus
78``, ``add 45 and 78``, ``square root of 16``).
"""

from __future__ import annotations

import ast
import math
import operator
import re
import warnings
from collections.abc import Callable
from typing import Any, TypeAlias, cast

from langchain_core.tools import BaseTool
from pydantic import Field

from tools._base import ToolArgs, build_tool, format_number

__all__ = ["MAX_EXPRESSION_CHARS", "MAX_INT_BITS", "calculator", "evaluate"]

MAX_EXPRESSION_CHARS = 300
"""Longest expression accepted."""

MAX_INT_BITS = 3400
"""Largest integer result, in bits (about 1,000 decimal digits)."""

_MAX_ARGS = 50
_ALLOWED_HINT = (
    "use numbers, + - * / // % ** ( ) and sqrt, log, log10, exp, sin, cos, tan, abs, round, "
    "min, max, floor, ceil, pi, e"
)

Number: TypeAlias = int | float

_FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {  # name -> (function, min args, max args)
    "sqrt": (math.sqrt, 1, 1),
    "log": (math.log, 1, 2),
    "ln": (math.log, 1, 1),
    "log10": (math.log10, 1, 1),
    "log2": (math.log2, 1, 1),
    "exp": (math.exp, 1, 1),
    "sin": (math.sin, 1, 1),
    "cos": (math.cos, 1, 1),
    "tan": (math.tan, 1, 1),
    "abs": (abs, 1, 1),
    "round": (round, 1, 2),
    "min": (min, 1, _MAX_ARGS),
    "max": (max, 1, _MAX_ARGS),
    "floor": (math.floor, 1, 1),
    "ceil": (math.ceil, 1, 1),
}
_MULTI_ARG = frozenset(n for n, (_, _, most) in _FUNCTIONS.items() if most > 1)
_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}

# --- Rewriting what small models write ---------------------------------------------------------

_NUM = r"\d+(?:\.\d+)?"
_LEADING_WORDS = re.compile(
    r"^(?:please\s+)?(?:what\s+is|what's|whats|calculate|compute|evaluate|work\s+out|solve|how\s+much\s+is)\b[:\s]*"
)
_SYMBOLS = {
    "×": "*",
    "·": "*",
    "∙": "*",
    "÷": "/",
    "−": "-",  # U+2212 minus sign
    "–": "-",
    "—": "-",
    "²": "**2",
    "³": "**3",
    "π": "pi",
    "√": "sqrt",
    "\u00a0": " ",
}
_WORD_FORMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"\b(?:add|sum(?:\s+of)?)\s+({_NUM})\s+(?:and|to|plus)\s+({_NUM})\b"), r"(\1 + \2)"),
    (re.compile(rf"\bsubtract\s+({_NUM})\s+from\s+({_NUM})\b"), r"(\2 - \1)"),
    (
        re.compile(rf"\b(?:multiply|product\s+of)\s+({_NUM})\s+(?:and|by|with|times)\s+({_NUM})\b"),
        r"(\1 * \2)",
    ),
    (re.compile(rf"\bdivide\s+({_NUM})\s+by\s+({_NUM})\b"), r"(\1 / \2)"),
    (re.compile(r"\b(?:the\s+)?square\s+root\s+of\s+"), "sqrt "),
    (re.compile(r"\bsquared\b"), "**2"),
    (re.compile(r"\bcubed\b"), "**3"),
    (re.compile(r"\b(?:raised\s+)?to\s+the\s+power\s+of\b"), "**"),
    (re.compile(r"\bplus\b"), "+"),
    (re.compile(r"\bminus\b"), "-"),
    (re.compile(r"\b(?:times|multiplied\s+by)\b"), "*"),
    (re.compile(r"\b(?:divided\s+by|over)\b"), "/"),
    (re.compile(r"\b(?:mod|modulo)\b"), "%"),
    (re.compile(r"\bhalf\s+of\b"), "0.5 *"),
]
_SQRT_NUMBER = re.compile(rf"\bsqrt\s*({_NUM})")  # "sqrt 16", "√16"
_TIMES_X = re.compile(r"(?<=[\d)])\s*x\s*(?=[\d(.])")  # "3 x 4", "3x4"
_PERCENT_OF = re.compile(rf"({_NUM})\s*%\s*of\b")
_PERCENT = re.compile(rf"({_NUM})\s*%(?!\s*[\d.(a-z])")  # "17%", but "10 % 3" is modulo
_NUMBER_BEFORE_NAME = re.compile(rf"(?<![\w.])({_NUM})\s*(?=(?:pi|tau|{'|'.join(_FUNCTIONS)})\b)")  # "2pi"
_THOUSANDS = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?!\d)")  # "1,234.5" too


def _drop_thousands_separators(text: str) -> str:
    """``2,340`` -> ``2340``, except where a comma separates a multi-argument call's arguments."""
    out: list[str] = []
    stack: list[bool] = []  # per open parenthesis: does it start a multi-argument call?
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "(":
            stack.append(_name_before(text, i) in _MULTI_ARG)
        elif ch == ")" and stack:
            stack.pop()
        elif ch.isdigit() and (i == 0 or not (text[i - 1].isdigit() or text[i - 1] == ".")):
            match = _THOUSANDS.match(text, i)
            if match and not (stack and stack[-1]):
                out.append(match.group().replace(",", ""))
                i = match.end()
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _name_before(text: str, end: int) -> str:
    """The identifier just before ``text[end]`` (spaces between allowed), found by scanning back.

    A regex search anchored at the end would retry from every start: quadratic per parenthesis.
    """
    stop = end
    while stop > 0 and text[stop - 1].isspace():
        stop -= 1
    start = stop
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_") and stop - start <= 8:
        start -= 1
    return text[start:stop].lstrip("0123456789")


def _left_of_equals(text: str) -> str:
    left, right = text.split("=", 1)
    return left if left.strip() else right.lstrip("=")  # "= 2 + 2" has nothing on the left


def normalize(expression: str) -> str:
    """Rewrite the notations small models use into Python arithmetic (see the module docstring)."""
    text = expression.strip().lower()
    for symbol, replacement in _SYMBOLS.items():
        text = text.replace(symbol, replacement)
    text = _LEADING_WORDS.sub("", text).strip()
    if "=" in text:  # "0.17 * 2340 = 32.125": the model's own guess follows
        text = _left_of_equals(text)
    text = text.strip().rstrip("?.!").strip()
    text = _drop_thousands_separators(text)
    for pattern, replacement in _WORD_FORMS:
        text = pattern.sub(replacement, text)
    text = _SQRT_NUMBER.sub(r"sqrt(\1)", text)
    text = _TIMES_X.sub(" * ", text)
    text = _PERCENT_OF.sub(r"(\1 / 100) *", text)
    text = _PERCENT.sub(r"(\1 / 100)", text)
    text = _NUMBER_BEFORE_NAME.sub(r"\1 * ", text)
    return text.replace("^", "**").strip()


# --- Checking and evaluating the tree ----------------------------------------------------------


def _refuse(node: ast.AST) -> ValueError:
    kind = type(node).__name__
    if isinstance(node, ast.Attribute):
        return ValueError(f"attribute access (.{node.attr}) is not allowed - {_ALLOWED_HINT}")
    if isinstance(node, ast.Constant):
        return ValueError(f"{node.value!r:.40} is not a number - {_ALLOWED_HINT}")
    if isinstance(node, ast.BinOp | ast.UnaryOp):
        return ValueError(f"the operator {type(node.op).__name__} is not allowed - {_ALLOWED_HINT}")
    if isinstance(node, ast.Tuple):
        return ValueError(
            "give one expression, not a list of values - write numbers without commas (2340) "
            "or with groups of three digits (2,340)"
        )
    if isinstance(node, ast.Compare):
        return ValueError("comparisons are not supported - give one arithmetic expression")
    return ValueError(f"{kind} is not allowed: only arithmetic is - {_ALLOWED_HINT}")


def _check(node: ast.AST) -> None:
    """Refuse anything but the allowed arithmetic, before a single operation runs."""
    if isinstance(node, ast.Expression):
        _check(node.body)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise _refuse(node)
        if isinstance(node.value, float) and not math.isfinite(node.value):
            raise ValueError(
                f"the number {node.value} is too large (beyond about 1.8e308) - use smaller numbers"
            )
    elif isinstance(node, ast.Name):
        if node.id not in _CONSTANTS:
            hint = f" - to call {node.id}, write {node.id}(x)" if node.id in _FUNCTIONS else ""
            raise ValueError(f"unknown name '{node.id}': no variables allowed{hint} - {_ALLOWED_HINT}")
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            raise _refuse(node)
        _check(node.left)
        _check(node.right)
    elif isinstance(node, ast.UnaryOp):
        if type(node.op) not in _UNARY:
            raise _refuse(node)
        _check(node.operand)
    elif isinstance(node, ast.Call):
        if node.keywords:
            raise ValueError(f"keyword arguments are not allowed - {_ALLOWED_HINT}")
        func = node.func
        if isinstance(func, ast.Name):
            if func.id not in _FUNCTIONS:
                raise ValueError(f"the function '{func.id}' is not allowed - {_ALLOWED_HINT}")
            _, least, most = _FUNCTIONS[func.id]
            if not least <= len(node.args) <= most:
                count = str(least) if least == most else f"{least} to {most}"
                raise ValueError(f"{func.id} takes {count} argument(s), got {len(node.args)}")
        elif isinstance(func, ast.Constant | ast.BinOp | ast.UnaryOp | ast.Call):
            if len(node.args) != 1:  # "2(3+4)" is 2 * (3+4); anything else is not arithmetic
                raise ValueError(f"write * between a number and a parenthesis - {_ALLOWED_HINT}")
            _check(func)
        else:
            raise _refuse(func)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise _refuse(arg)
            _check(arg)
    else:
        raise _refuse(node)


def _too_big(bits: int) -> ValueError:
    digits = f"about {int(bits * math.log10(2)) + 1:,}" if bits < 10**15 else "more than a quadrillion"
    return ValueError(
        f"the result would have {digits} digits, more than the {MAX_INT_BITS * 3 // 10:,}-digit "
        "limit - use smaller numbers, or floats (e.g. 10.0**300) for an approximate answer"
    )


def _power(base: Number, exponent: Number) -> Number:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        bits = (abs(base).bit_length() - 1) * exponent  # a lower bound on the result's size
        if bits > MAX_INT_BITS:
            raise _too_big(bits)
    result = operator.pow(base, exponent)
    if isinstance(result, complex):
        raise ValueError(
            "the result is not a real number (a negative number to a fractional power) - "
            "use a positive base or a whole exponent"
        )
    return result  # type: ignore[no-any-return]


def _binary(op: type[ast.operator], left: Number, right: Number) -> Number:
    if op is ast.Pow:
        return _power(left, right)
    if op is ast.Mult and isinstance(left, int) and isinstance(right, int):
        bits = abs(left).bit_length() + abs(right).bit_length()
        if bits > MAX_INT_BITS + 1:
            raise _too_big(bits - 1)
    return _BINARY[op](left, right)  # type: ignore[no-any-return]


def _call(name: str, args: list[Number]) -> Number:
    func = _FUNCTIONS[name][0]
    if name == "round" and len(args) == 2:
        if not isinstance(args[1], int):
            raise ValueError("round(x, n): n must be a whole number of decimal places")
        if abs(args[1]) > 1000:
            raise ValueError("round(x, n): n must be between -1000 and 1000")
    if name in ("min", "max") and len(args) == 1:
        return args[0]
    result = func(*args)
    return result  # type: ignore[no-any-return]


def _eval(node: ast.AST) -> Number:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant):
        return cast(Number, node.value)  # checked by _check: an int or a float
    if isinstance(node, ast.Name):
        return _CONSTANTS[node.id]
    if isinstance(node, ast.BinOp):
        return _finite(_binary(type(node.op), _eval(node.left), _eval(node.right)))
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand))  # type: ignore[no-any-return]
    if isinstance(node, ast.Call):
        args = [_eval(a) for a in node.args]
        if isinstance(node.func, ast.Name):
            return _finite(_call(node.func.id, args))
        return _binary(ast.Mult, _eval(node.func), args[0])  # implicit multiplication
    raise _refuse(node)  # unreachable after _check


def _finite(value: Number) -> Number:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("the result is too large (beyond about 1.8e308) - use smaller numbers")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise _too_big(value.bit_length())
    return value


def _quoted(expression: str, most: int = 60) -> str:
    text = " ".join(expression.split())
    return repr(text if len(text) <= most else text[:most] + "...")


def evaluate(expression: str) -> int | float:
    """Evaluate an arithmetic expression safely (no ``eval``): see the module docstring.

    Args:
        expression: Arithmetic in Python or everyday notation, e.g. ``"2,340 * 17%"``.

    Returns:
        The value: an ``int`` when every step was whole, else a ``float``.

    Raises:
        ValueError: The expression is not allowed arithmetic, too long, too large to compute,
            or mathematically undefined; the message says what to write instead.
    """
    if not isinstance(expression, str):
        raise ValueError(f"the expression must be text, got {type(expression).__name__}")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ValueError(
            f"the expression is {len(expression):,} characters, over the {MAX_EXPRESSION_CHARS} limit "
            "- split the calculation into smaller steps"
        )
    text = normalize(expression)
    if not text:
        raise ValueError('the expression is empty - write one, e.g. "2 * (3 + 4)"')
    try:
        with warnings.catch_warnings():  # "2(3)" warns that an int is not callable: we multiply
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(text, mode="eval")  # parsing only: nothing is compiled or run
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        raise ValueError(
            f"cannot read {_quoted(expression)} as arithmetic - write it like 2 * (3 + 4) or sqrt(16) / 2"
        ) from exc
    try:
        _check(tree)
        return _finite(_eval(tree))
    except ZeroDivisionError as exc:
        raise ValueError("division by zero - check the divisor") from exc
    except OverflowError as exc:
        raise ValueError(f"the result is too large ({exc}) - use smaller numbers") from exc
    except RecursionError as exc:
        raise ValueError("the expression is nested too deeply - split it into steps") from exc
    except ValueError as exc:
        if str(exc) == "math domain error":
            raise ValueError(
                "math domain error: the function is undefined there (sqrt or log of a negative "
                "number, log of 0) - check its argument"
            ) from exc
        raise


class CalculatorArgs(ToolArgs):
    expression: str = Field(
        json_schema_extra={"x-grounded": "expression"},
        description='Arithmetic to compute, e.g. "2340 * 0.17" or "sqrt(16) + 2^3".',
    )


def _calculate(expression: str) -> str:
    value = evaluate(expression)
    shown = expression.strip()
    if "=" in shown:
        shown = _left_of_equals(shown).strip()
    return f"{shown} = {format_number(value)}"


calculator: BaseTool = build_tool(
    _calculate,
    name="calculator",
    description="Compute arithmetic: + - * / ^ %, sqrt, log, sin, round, min, max. Use it for any math.",
    args_schema=CalculatorArgs,
    examples=[
        "What is 17% of 2340?",
        "Calculate 45 plus 78",
        "How much is 1299 * 12?",
        "What's the square root of 144?",
        "2^10 = ?",
        "Split a 86.40 bill between 3 people",
        "What is (15 + 27) / 6?",
    ],
    example_args={"expression": "2340 * 0.17"},
    example_request="What is 17% of 2340?",
)
"""``calculator(expression)``: safe arithmetic; answers ``"<expression> = <value>"``."""
