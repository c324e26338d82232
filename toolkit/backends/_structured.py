"""``with_structured_output`` for chat models that constrain decoding with a JSON grammar."""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.runnables import Runnable, RunnableLambda, RunnableMap, RunnablePassthrough
from langchain_core.utils.function_calling import convert_to_json_schema
from pydantic import BaseModel

from toolkit.errors import ConfigurationError

__all__ = ["json_schema_of", "structured_output_runnable"]


def _is_pydantic_class(schema: Any) -> bool:
    from pydantic.v1 import BaseModel as BaseModelV1

    return isinstance(schema, type) and issubclass(schema, (BaseModel, BaseModelV1))


def json_schema_of(schema: dict[str, Any] | type) -> dict[str, Any]:
    """JSON schema for a pydantic (v2 or v1) class, a TypedDict, or a JSON/OpenAI-function schema."""
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.model_json_schema()
    if isinstance(schema, dict) and "properties" in schema and "type" in schema:
        return schema
    try:
        return convert_to_json_schema(schema)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"cannot turn {schema!r} into a JSON schema: {exc}") from exc


def structured_output_runnable(
    llm: BaseChatModel,
    schema: dict[str, Any] | type,
    *,
    include_raw: bool,
    method: str,
) -> Runnable[Any, Any]:
    is_pydantic = _is_pydantic_class(schema)
    if method in ("json_schema", "function_calling"):
        json_schema = json_schema_of(schema)
        response_format: dict[str, Any] = {"type": "json_schema", "schema": json_schema}
    elif method == "json_mode":
        json_schema = {}
        response_format = {"type": "json_object"}
    else:
        raise ConfigurationError(
            f"method must be 'json_schema', 'function_calling' or 'json_mode', got {method!r}"
        )
    try:
        traced_schema: Any = convert_to_json_schema(schema)
    except (ValueError, TypeError):
        traced_schema = json_schema or schema
    bound = llm.bind(
        response_format=response_format,
        ls_structured_output_format={"kwargs": {"method": method}, "schema": traced_schema},
    )
    parser: Runnable[Any, Any] = (
        PydanticOutputParser(pydantic_object=schema) if is_pydantic else JsonOutputParser()  # type: ignore[arg-type]
    )
    if not include_raw:
        return bound | parser

    def _parse(raw: Any) -> Any:
        return parser.invoke(raw)

    parsed_ok = RunnablePassthrough.assign(
        parsed=itemgetter("raw") | RunnableLambda(_parse), parsing_error=lambda _: None
    )
    parsed_fail = RunnablePassthrough.assign(parsed=lambda _: None)
    with_fallback = parsed_ok.with_fallbacks([parsed_fail], exception_key="parsing_error")
    return RunnableMap(raw=bound) | with_fallback
