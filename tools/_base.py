"""What every tool shares: forgiving argument models, readable errors, and one way to build a tool.

A small model calls tools sloppily: a number where text is expected, the right value under
the wrong key, a failure it cannot recover from if it arrives as an exception. Every tool
here is built by :func:`build_tool`, so that

- arguments are validated by a pydantic model (:class:`ToolArgs`) that coerces what it safely
  can (``5`` for text, one argument under an unknown key when exactly one is missing);
- any failure, bad arguments included, comes back to the model as a message starting with
  ``Error:`` that says what to do, never as an exception that would end the agent's run;
- ``metadata["examples"]`` holds requests the tool answers (a router embeds them to
  pre-select tools for small models).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import Any, Literal

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from toolkit.errors import ToolkitError

__all__ = ["ToolArgs", "ToolException", "build_tool", "format_number"]


class ToolArgs(BaseModel):
    """Base of every tool's argument model: lenient where leniency cannot change the meaning."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _one_misnamed_argument(cls, data: Any) -> Any:
        # {"query": "2+2"} for calculator(expression): small models often guess the key.
        # Only the unambiguous case is repaired: one required field missing, one unknown key given.
        if not isinstance(data, dict):
            return data
        fields = cls.model_fields
        missing = [n for n, f in fields.items() if f.is_required() and n not in data]
        unknown = [k for k in data if k not in fields]
        if len(missing) == 1 and len(unknown) == 1:
            data = {**data, missing[0]: data[unknown[0]]}
            del data[unknown[0]]
        return data


def format_number(value: float, significant: int = 12) -> str:
    """``value`` without float noise: integers without ``.0``, others to ``significant`` digits."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        return str(value)
    if value == 0:
        return "0"  # also turns -0.0 into 0
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.{significant}g}"


def _usage(name: str, schema: type[BaseModel], example: dict[str, Any]) -> str:
    kinds = {"string": "text", "integer": "whole number", "number": "number", "boolean": "true/false"}
    props = schema.model_json_schema().get("properties", {})
    parts = []
    for field, spec in props.items():
        types = [spec.get("type")] + [t.get("type") for t in spec.get("anyOf", [])]
        kind = next((kinds[t] for t in types if t in kinds), "value")
        optional = "" if schema.model_fields[field].is_required() else " (optional)"
        parts.append(f"{field}: {kind}{optional}")
    return f"{name}({', '.join(parts)}), e.g. {json.dumps(example, ensure_ascii=False)}"


def _validation_message(name: str, usage: str) -> Callable[[ValidationError | Any], str]:
    def message(error: ValidationError | Any) -> str:
        problems = []
        for item in getattr(error, "errors", list)()[:4]:
            where = ".".join(str(p) for p in item.get("loc", ())) or "arguments"
            problems.append(f"{where}: {item.get('msg', 'invalid')}")
        detail = "; ".join(problems) or str(error)
        return f"Error: wrong arguments for {name} ({detail}). Call it as {usage}."

    return message


def _tool_error(error: ToolException) -> str:
    text = str(error) or "the tool failed"
    return text if text.startswith("Error:") else f"Error: {text}"


def _guard(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` with every exception turned into a :class:`ToolException` the model can read."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ToolException:
            raise
        except (ToolkitError, ValueError) as exc:  # our own messages say what to do
            raise ToolException(str(exc)) from exc
        except Exception as exc:
            raise ToolException(
                f"{name} failed ({type(exc).__name__}: {exc}) - check the arguments, or try another way"
            ) from exc

    return run


def build_tool(
    func: Callable[..., Any],
    *,
    name: str,
    description: str,
    args_schema: type[ToolArgs],
    examples: Sequence[str],
    example_args: dict[str, Any],
    example_request: str | None = None,
    response_format: Literal["content", "content_and_artifact"] = "content",
) -> BaseTool:
    """A ``StructuredTool`` that always answers with a message, never an exception.

    Args:
        func: The implementation; takes the schema's fields as keyword arguments. Raise
            ``ToolException`` (or a ``ToolkitError``/``ValueError``) with a message that says
            what to do; any other exception is reported too.
        name: The tool's name, as the model calls it.
        description: One short plain sentence (small models read it in every prompt).
        args_schema: The arguments, each with a ``Field(description=...)``.
        examples: Requests the tool answers, stored as ``metadata["examples"]``.
        example_args: One valid call, quoted in the message for wrong arguments.
        example_request: A request that ``example_args`` answers; given, the pair is shown to
            models without native tool calling as a worked example (``metadata["example_call"]``).
        response_format: ``content_and_artifact`` when ``func`` returns ``(text, artifact)``.
    """
    usage = _usage(name, args_schema, example_args)
    return StructuredTool.from_function(
        func=_guard(name, func),
        name=name,
        description=description,
        args_schema=args_schema,
        infer_schema=False,
        response_format=response_format,
        handle_tool_error=_tool_error,
        handle_validation_error=_validation_message(name, usage),
        metadata={
            "examples": list(examples),
            **(
                {"example_call": {"request": example_request, "args": example_args}}
                if example_request
                else {}
            ),
        },
    )
