"""Tool calling on the real embedded model (SmolLM2-135M) with the toolkit's real tools."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import llama_cpp
import pytest
from langchain_core.messages import AIMessageChunk, HumanMessage, ToolMessage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tool_prompts import SMALL_TALK, TOOL_PROMPTS, make_workspace

from toolkit import ChatLlama
from tools import default_tools


@pytest.fixture(scope="module")
def tool_list(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    workspace = make_workspace(tmp_path_factory.mktemp("ws"))
    return [t for t in default_tools(workspace=workspace, include_documents=False)]


@pytest.fixture(scope="module")
def llm(embedded_model: Path) -> ChatLlama:
    # repeat_penalty as get_chat_model sets it (LLAMA_TOOLKIT_REPEAT_PENALTY): 135M loops without
    return ChatLlama(model_path=str(embedded_model), temperature=0, max_tokens=96, seed=0, repeat_penalty=1.1)


def _schema_valid(tools: dict[str, Any], call: dict[str, Any]) -> bool:
    try:
        tools[call["name"]].args_schema.model_validate(call["args"])
    except Exception:
        return False
    return True


def test_forced_calls_are_schema_valid_and_execute(llm: ChatLlama, tool_list: list[Any]) -> None:
    tools = {t.name: t for t in tool_list}
    prompts = [p for p in TOOL_PROMPTS if p.tool in tools]
    assert len(prompts) >= 20
    for item in prompts:
        msg = llm.bind_tools(tool_list, tool_choice=item.tool).invoke([HumanMessage(item.prompt)])
        assert msg.response_metadata["finish_reason"] == "tool_calls", (item.prompt, msg.content)
        assert [c["name"] for c in msg.tool_calls] == [item.tool]
        call = msg.tool_calls[0]
        assert _schema_valid(tools, call), (item.prompt, call)
        result = tools[item.tool].invoke(call)  # a ToolCall in, a ToolMessage out: never raises
        assert isinstance(result, ToolMessage) and result.tool_call_id == call["id"]
    required = llm.bind_tools(tool_list, tool_choice="required").invoke("What is 7 times 6?")
    assert len(required.tool_calls) == 1 and _schema_valid(tools, required.tool_calls[0])


@pytest.mark.parametrize("chooser", ["model", "similarity"])
def test_auto_answers_are_text_or_valid_calls(llm: ChatLlama, tool_list: list[Any], chooser: str) -> None:
    tools = {t.name: t for t in tool_list}
    bound = llm.model_copy(update={"tool_router": chooser}).bind_tools(tool_list)
    prompts = [p.prompt for p in TOOL_PROMPTS if p.tool in tools] + SMALL_TALK
    assert len(prompts) >= 30
    counts = {"text": 0, "call": 0, "invalid": 0}
    for prompt in prompts:
        msg = bound.invoke([HumanMessage(prompt)])
        if msg.tool_calls:
            ok = all(_schema_valid(tools, c) for c in msg.tool_calls)
            counts["call" if ok else "invalid"] += 1
        else:
            cut_call = str(msg.content).lstrip().startswith("{")
            counts["invalid" if cut_call or msg.invalid_tool_calls else "text"] += 1
    print(f"\nauto mode, chooser={chooser}, {len(prompts)} prompts: {counts}")
    assert counts["invalid"] == 0, counts
    if chooser == "similarity":  # the router is what makes a 135M model use tools at all
        assert counts["call"] >= len(prompts) // 3, counts


def test_streaming_with_tools_bound(llm: ChatLlama, tool_list: list[Any]) -> None:
    text = list(
        llm.model_copy(update={"tool_router": "similarity"}).bind_tools(tool_list).stream("Hi there!")
    )
    assert sum(bool(c.content) for c in text) > 2  # a text answer streams token by token
    assert not any(c.tool_call_chunks for c in text)
    call_chunks = list(llm.bind_tools(tool_list, tool_choice="calculator").stream("What is 2^10?"))
    merged: AIMessageChunk = call_chunks[0]
    for chunk in call_chunks[1:]:
        merged = merged + chunk  # type: ignore[assignment]
    assert [c["name"] for c in merged.tool_calls] == ["calculator"]
    assert merged.tool_calls[0]["id"]


def test_tool_results_round_trip(llm: ChatLlama, tool_list: list[Any]) -> None:
    tools = {t.name: t for t in tool_list}
    bound = llm.model_copy(update={"tool_router": "similarity"}).bind_tools(tool_list)
    history: list[Any] = [HumanMessage("Convert 2,340 kg to pounds.")]
    first = bound.invoke(history)
    assert [c["name"] for c in first.tool_calls] == ["convert_units"]
    history += [first, tools["convert_units"].invoke(first.tool_calls[0])]
    final = bound.invoke(history)  # after a result the small model answers in text
    assert not final.tool_calls and str(final.content).strip()


@pytest.mark.parametrize("grounded", [False, True], ids=["tools-grammar", "grounded-grammar"])
def test_lazy_grammar_sampling_picks_what_the_full_grammar_picks(
    llm: ChatLlama, tool_list: list[Any], grounded: bool
) -> None:
    """Greedy decoding: checking only the chosen token (and, on a refusal, the 512 likeliest
    before the whole vocabulary) must give the same call as llama-cpp-python's grammar over
    the whole vocabulary, on the tools' own grammar and on one grounded in each request."""
    from llama_cpp import LlamaGrammar

    from toolkit.backends.grounding import candidates_for, ground_schemas, mark_grounded
    from toolkit.backends.tool_calling import call_examples, tool_call_gbnf, tool_schemas

    ours_llm = llm.model_copy(update={"ground_arguments": grounded})
    schemas = tool_schemas(tool_list)
    examples = call_examples(tool_list)
    llama = llm.loaded.llama
    for item in TOOL_PROMPTS[:12:2]:
        ask = [HumanMessage(item.prompt)]
        ours = ours_llm.bind_tools(tool_list, tool_choice=item.tool).invoke(ask)
        prompt = llm.render_prompt(ask, tools=schemas, tool_choice=item.tool, call_examples=examples)
        offered = (
            ground_schemas(mark_grounded(schemas, tool_list), candidates_for(ask)) if grounded else schemas
        )
        grammar = LlamaGrammar.from_string(tool_call_gbnf(offered, item.tool, parallel=False), verbose=False)
        tokens = llama.tokenize(prompt.encode(), add_bos=False, special=True)
        out: list[int] = []
        with llm.loaded.lock:
            gen = llama.generate(
                tokens, top_k=40, top_p=0.95, min_p=0.05, temp=0.0, repeat_penalty=1.1, grammar=grammar
            )
            for token in gen:
                if llama_cpp.llama_vocab_is_eog(llama._model.vocab, token) or len(out) >= 96:
                    break
                out.append(token)
            gen.close()
        full = llama.detokenize(out).decode()
        assert ours.tool_calls and full.startswith("{")
        assert json.loads(full)["parameters"] == ours.tool_calls[0]["args"], (item.prompt, full)


def test_a_rejected_call_gets_one_repair_turn(llm: ChatLlama, tool_list: list[Any]) -> None:
    """The tool's error goes back once, under the same grounded grammar (issue 16): the
    repaired call uses the request's unit, not the one the error rejected; a second error is
    answered in text."""
    from langchain_core.messages import AIMessage

    tools = {t.name: t for t in tool_list}
    bound = llm.model_copy(update={"tool_router": "similarity"}).bind_tools(tool_list)
    ask = HumanMessage("How much is 12 stone in kilograms?")
    bad = {
        "name": "convert_units",
        "args": {"value": 12, "from_unit": "stone", "to_unit": "meter"},
        "id": "c1",
    }
    error = tools["convert_units"].invoke({**bad, "type": "tool_call"})
    assert error.status == "error"
    again = bound.invoke([ask, AIMessage("", tool_calls=[bad]), error])
    assert [c["name"] for c in again.tool_calls] == ["convert_units"], again.content
    assert again.tool_calls[0]["args"]["to_unit"] in ("kilograms", "kilogram")
    assert "76.2" in tools["convert_units"].invoke(again.tool_calls[0]["args"])
    twice = [ask, AIMessage("", tool_calls=[bad]), error, AIMessage("", tool_calls=[{**bad, "id": "c2"}])]
    second = tools["convert_units"].invoke({**bad, "id": "c2", "type": "tool_call"})
    assert not bound.invoke([*twice, second]).tool_calls  # one repair turn, not a loop
