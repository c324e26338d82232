"""Tool calling for local models: schemas, prompts, grammars and parsing, shared by backends.

A model is asked for calls in Llama 3.2's JSON format, ``{"name": ..., "parameters": {...}}``
(several calls on separate lines). What a model answers is read back leniently: that format,
OpenAI's ``{"type": "function", "function": {...}}``, ``"arguments"`` instead of
``"parameters"`` (as an object or a JSON string), a ``<|python_tag|>`` prefix, a JSON array of
calls, and the pythonic ``[get_weather(city="Paris"), ...]`` that Llama 3.2 1B/3B also emit.
A call to a tool that was not offered is not a call: the text stays a text answer.

``tool_call_gbnf`` builds the llama.cpp grammar that makes every call valid JSON matching one
tool's schema; in ``auto`` mode it also allows a text answer that does not start like a call.
"""

from __future__ import annotations

import ast
import functools
import json
import logging
import re
import uuid
from collections.abc import Collection, Sequence
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.messages.tool import ToolCall, ToolCallChunk, tool_call_chunk
from langchain_core.utils.function_calling import convert_to_openai_tool

from toolkit.errors import ConfigurationError

__all__ = [
    "TEXT_FIRST_GBNF",
    "ToolChoice",
    "call_chunks",
    "call_examples",
    "normalize_tool_choice",
    "parse_tool_calls",
    "schema_gbnf",
    "template_supports_tools",
    "tool_call_gbnf",
    "tool_names_by_id",
    "tool_schemas",
    "tools_as_text",
    "tools_system_prompt",
    "with_system_note",
]

log = logging.getLogger(__name__)

ToolChoice = Literal["auto", "required", "none"] | str

_PYTHON_TAG = "<|python_tag|>"
_TEMPLATE_TOOLS = re.compile(r"\btools\b")
_MAX_PARALLEL = 4  # calls per answer the grammar allows
# Longest free-text argument the grammar allows: small models otherwise keep writing inside a
# string ("389 + 1,204 = 4,888,888,...") until max_tokens cuts the call. A tool can declare
# its own maxLength.
MAX_STRING_ARG = 120
# A text answer: its first character cannot open a call. llama.cpp's "." excludes newlines,
# so a line-based rule keeps multi-line answers possible.
_TEXT_RULE = 'text ::= [^{[ \\t\\n] ([^\\n] | "\\n")*'
TEXT_FIRST_GBNF = f"root ::= text\n{_TEXT_RULE}\n"


def tool_schemas(tools: Sequence[Any]) -> list[dict[str, Any]]:
    """OpenAI-style ``{"type": "function", "function": {...}}`` schemas of tools.

    Accepts LangChain tools, pydantic models, functions, and schemas (dicts) already in
    that form. Names are unique: of two tools with one name the later is kept, with a warning
    (LangChain's standard tests bind a pydantic model and its JSON schema under one name).
    """
    by_name: dict[str, dict[str, Any]] = {}
    for tool in tools:
        schema = convert_to_openai_tool(tool)
        name = schema["function"]["name"]
        if name in by_name and by_name[name] != schema:
            log.warning("two different tools are named %s: the later one is used", name)
        by_name[name] = schema
    return list(by_name.values())


def normalize_tool_choice(choice: Any, names: Collection[str]) -> str:
    """``auto``, ``required``, ``none`` or a tool name, from any form LangChain callers use.

    ``None`` and ``"auto"`` → ``auto``; ``"any"``, ``"required"`` and ``True`` → ``required``;
    ``{"type": "function", "function": {"name": n}}``
    and ``{"name": n}`` → ``n``. An unknown tool name is a :class:`ConfigurationError`.
    """
    if choice is None or choice == "auto":
        return "auto"
    if choice is False or choice == "none":
        return "none"
    if choice is True or choice in ("any", "required"):
        return "required"
    if isinstance(choice, dict):
        choice = (choice.get("function") or choice).get("name")
    if isinstance(choice, str) and choice in names:
        return choice
    raise ConfigurationError(
        f"tool_choice {choice!r} is neither auto, required, any, none nor one of the bound tools "
        f"({', '.join(sorted(names)) or 'none bound'})"
    )


def template_supports_tools(template: str) -> bool:
    """Whether a Jinja chat template renders a ``tools`` list itself (Llama 3.x's does)."""
    return bool(_TEMPLATE_TOOLS.search(template))


MAX_EXAMPLE_CHARS = 700
"""Budget of the worked call examples in a tools prompt (about 200 tokens)."""


def call_examples(tools: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """``{name: {"request", "args"}}``: the worked example each tool carries in
    ``metadata["example_call"]`` (``tools._base.build_tool``'s ``example_request``)."""
    out: dict[str, dict[str, Any]] = {}
    for t in tools:
        example = (getattr(t, "metadata", None) or {}).get("example_call")
        name = getattr(t, "name", None)
        if name and isinstance(example, dict) and example.get("request"):
            out[name] = {"request": str(example["request"]), "args": dict(example.get("args") or {})}
    return out


def _example_lines(schemas: Sequence[dict[str, Any]], examples: dict[str, dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    used = 0
    for schema in schemas:
        example = examples.get(schema["function"]["name"])
        if not example:
            continue
        call = json.dumps(
            {"name": schema["function"]["name"], "parameters": example["args"]}, ensure_ascii=False
        )
        line = f'- "{example["request"]}" -> {call}'
        if used + len(line) > MAX_EXAMPLE_CHARS:
            break
        lines.append(line)
        used += len(line)
    return ["Examples:", *lines] if lines else []


def tools_system_prompt(
    schemas: Sequence[dict[str, Any]],
    choice: str = "auto",
    examples: dict[str, dict[str, Any]] | None = None,
) -> str:
    """Instructions and tool list for a model whose chat template cannot render tools.

    Short on purpose: small models follow a few plain lines better than a long preamble.
    ``examples`` (:func:`call_examples`) add worked calls, within ``MAX_EXAMPLE_CHARS``.
    """
    lines = ["You can call these tools:"]
    for schema in schemas:
        fn = schema["function"]
        props = fn.get("parameters", {}).get("properties", {})
        args = ", ".join(f"{k}: {v.get('type', 'any')}" for k, v in props.items())
        lines.append(f"- {fn['name']}({args}): {fn.get('description', '').strip()}")
    lines.append(
        'To call a tool, reply with only JSON: {"name": "<tool name>", "parameters": {<arguments>}}.'
    )
    lines += _example_lines(schemas, examples or {})
    if choice == "auto":
        lines.append("If no tool is needed, reply in plain text.")
    elif choice == "required":
        lines.append("Call one of the tools.")
    elif choice != "none":
        lines.append(f"Call the tool {choice}.")
    return "\n".join(lines)


def with_system_note(messages: Sequence[BaseMessage], note: str) -> list[BaseMessage]:
    """``note`` appended to the leading system message, or sent as one."""
    if messages and isinstance(messages[0], SystemMessage):
        first = messages[0]
        merged = f"{first.text}\n\n{note}".strip()
        return [first.model_copy(update={"content": merged}), *messages[1:]]
    return [SystemMessage(note), *messages]


def tool_names_by_id(messages: Sequence[BaseMessage]) -> dict[str, str]:
    """``{call id: tool name}`` of the calls in a history (a result may not name its tool)."""
    calls = (c for m in messages if isinstance(m, AIMessage) for c in m.tool_calls)
    return {c["id"]: c["name"] for c in calls if c["id"]}


def tools_as_text(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """History for a model without tool support: earlier calls as the JSON it is asked to
    write, results as user turns (its template has no place for a ``tool`` role)."""
    names = tool_names_by_id(messages)
    out: list[BaseMessage] = []
    for m in messages:
        if isinstance(m, AIMessage) and m.tool_calls:
            text = "\n".join(
                json.dumps({"name": c["name"], "parameters": c["args"]}, ensure_ascii=False)
                for c in m.tool_calls
            )
            out.append(AIMessage(content=f"{m.text}\n{text}".strip()))
        elif isinstance(m, ToolMessage):
            name = m.name or names.get(m.tool_call_id, "the tool")
            out.append(HumanMessage(content=f"Result of {name}: {m.text}"))
        else:
            out.append(m)
    return out


def call_chunks(calls: Sequence[ToolCall]) -> list[ToolCallChunk]:
    """Parsed calls as the ``tool_call_chunks`` of one streamed message."""
    return [
        tool_call_chunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=i)
        for i, c in enumerate(calls)
    ]


# --------------------------------------------------------------------------- grammar


def tool_call_gbnf(schemas: Sequence[dict[str, Any]], choice: str, *, parallel: bool = True) -> str:
    """A llama.cpp grammar (GBNF) for the answer under ``choice``.

    ``required``: one call to any tool (up to 4, one per line, if ``parallel``); a tool name:
    calls to that tool only; ``auto``: those calls, or a text answer whose first character is
    not ``{``, ``[`` or whitespace. Each call is ``{"name": ..., "parameters": ...}`` with the
    parameters matching the tool's JSON schema.
    """
    chosen = [s for s in schemas if choice in ("auto", "required") or s["function"]["name"] == choice]
    if not chosen:
        raise ConfigurationError(f"no tool to build a call grammar for (tool_choice={choice!r})")
    variants = [_call_schema(s["function"]) for s in chosen]
    schema = variants[0] if len(variants) == 1 else {"anyOf": variants}
    gbnf = schema_gbnf(json.dumps(schema), ("name", "parameters"))
    gbnf = re.sub(r"^root ::=", "call ::=", gbnf, count=1, flags=re.MULTILINE)
    # llama-cpp-python's converter lets strings hold raw control characters (newlines), which
    # JSON forbids; llama.cpp's own converter excludes them, as here. Braces are excluded too:
    # small models otherwise "close" the call inside a string ("expression": "} }. This is").
    gbnf = gbnf.replace('char ::= [^"\\\\] |', 'char ::= [^"\\\\\\x7F\\x00-\\x1F{}] |')
    more = f' ("\\n" call){{0,{_MAX_PARALLEL - 1}}}' if parallel else ""
    calls = f"call{more}"
    if choice == "auto":
        return f"root ::= {calls} | text\n{_TEXT_RULE}\n{gbnf}"
    return f"root ::= {calls}\n{gbnf}"


@functools.lru_cache(maxsize=64)
def schema_gbnf(schema: str, prop_order: tuple[str, ...] = ()) -> str:
    """llama-cpp-python's GBNF for a JSON schema (given as JSON text), cached: agents ask for
    the same tools' grammar on every turn."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    return json_schema_to_gbnf(schema, prop_order=list(prop_order))


def _bounded(prop: Any) -> Any:
    if not isinstance(prop, dict):
        return prop
    if prop.get("type") == "string" and not {"maxLength", "enum", "const", "pattern", "format"} & prop.keys():
        return {**prop, "maxLength": MAX_STRING_ARG}
    if "anyOf" in prop:  # Optional[str] and the like
        return {**prop, "anyOf": [_bounded(p) for p in prop["anyOf"]]}
    return prop


def _call_schema(fn: dict[str, Any]) -> dict[str, Any]:
    params = fn.get("parameters") or {"type": "object", "properties": {}}
    return {
        "type": "object",
        "properties": {"name": {"const": fn["name"]}, "parameters": _call_parameters(params)},
        "required": ["name", "parameters"],
        "additionalProperties": False,
    }


def _call_parameters(params: dict[str, Any]) -> dict[str, Any]:
    """A tool's parameter schema with its strings bounded; grounded schemas may offer several
    under ``anyOf`` (:mod:`toolkit.backends.grounding`)."""
    if "anyOf" in params and "properties" not in params:
        return {"anyOf": [_call_parameters(p) for p in params["anyOf"]]}
    params = dict(params)
    params.setdefault("type", "object")
    if params.get("type") == "object" and not params.get("properties"):
        params = {"type": "object", "properties": {}, "additionalProperties": False}
    props = params.get("properties") or {}
    params["properties"] = {name: _bounded(prop) for name, prop in props.items()}
    return params


# --------------------------------------------------------------------------- parsing


def parse_tool_calls(text: str, names: Collection[str]) -> tuple[str, list[ToolCall]]:
    """Split a model's answer into (text content, tool calls).

    The answer is taken as calls only when all of it (after an optional ``<|python_tag|>``)
    reads as calls to tools in ``names``; otherwise it is text and no call is returned.
    Every call gets a fresh id (``call_<hex>``).

    Args:
        text: The answer as generated.
        names: The names of the tools offered.

    Returns:
        ``("", calls)`` for a tool-call answer, ``(text, [])`` for a text answer.
    """
    body = text.strip()
    if body.startswith(_PYTHON_TAG):
        body = body[len(_PYTHON_TAG) :].strip()
    if body.startswith("```"):  # a fenced block around the calls
        body = re.sub(r"^```[a-zA-Z]*\s*|\s*```$", "", body)
    calls = _json_calls(body, names) if body[:1] in "{[" and body else None
    if calls is None:
        calls = _pythonic_calls(body, names)
    if not calls:
        return text, []
    return "", [
        ToolCall(name=n, args=a, id=f"call_{uuid.uuid4().hex[:24]}", type="tool_call") for n, a in calls
    ]


def _json_calls(body: str, names: Collection[str]) -> list[tuple[str, dict[str, Any]]] | None:
    decoder = json.JSONDecoder(strict=False)  # raw newlines inside strings, as some models emit
    values: list[Any] = []
    pos = 0
    while pos < len(body):
        try:
            value, end = decoder.raw_decode(body, pos)
        except json.JSONDecodeError:
            return None
        values.extend(value if isinstance(value, list) else [value])
        pos = end
        while pos < len(body) and body[pos] in " \t\r\n;,":
            pos += 1
    calls = [_json_call(v, names) for v in values]
    if not calls or any(c is None for c in calls):
        return None
    return [c for c in calls if c is not None]


def _json_call(value: Any, names: Collection[str]) -> tuple[str, dict[str, Any]] | None:
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("function"), dict):  # OpenAI style
        value = value["function"]
    name = value.get("name")
    args: Any = next((value[k] for k in ("parameters", "arguments", "args") if k in value), {})
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError:
            return None
    if not isinstance(name, str) or name not in names or not isinstance(args, dict):
        return None
    return name, args


def _pythonic_calls(body: str, names: Collection[str]) -> list[tuple[str, dict[str, Any]]]:
    if not body or "(" not in body or len(body) > 20_000:
        return []
    try:
        tree = ast.parse(body, mode="eval").body
    except (SyntaxError, ValueError):
        return []
    nodes = tree.elts if isinstance(tree, (ast.List, ast.Tuple)) else [tree]
    calls: list[tuple[str, dict[str, Any]]] = []
    for node in nodes:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names):
            return []
        if node.args:  # positional arguments cannot be mapped to names reliably
            return []
        try:
            args: dict[str, Any] = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg}
        except ValueError:
            return []
        calls.append((node.func.id, args))
    return calls
