"""Tool calling on a local model: validity, choice of tool, arguments, spurious calls, speed.

One run over the held set in ``tests/tool_prompts.py`` (31 tool-use prompts with the expected
tool and arguments, 10 small-talk prompts), with the toolkit's default tools (calculator,
clock, dates, units, document search over a 5-file index, workspace files), greedy decoding,
``tool_choice="auto"``. Each tool chooser is measured on its own:

  model       the model picks under the grammar (a schema-valid call, or text)
  similarity  the request is matched to the tools' example requests by MiniLM embeddings;
              the chosen tool is then called under the grammar, the model filling arguments

Printed per chooser: format-valid rate (a text answer or a schema-valid call; target 100%),
tool-selection accuracy (tool prompts), argument accuracy (of correctly chosen calls: running
the tool with the model's arguments gives what the expected arguments give; for document
search, the query names the subject), spurious-call rate (small talk answered with a call),
and repair turns: how many chosen calls the tool itself rejected, and how many of those had
the right arguments after one repair turn (the error back to the model, the same grammar).
Speed: decode tokens/s of forced calls under the tool grammar ÷ plain decoding of the same
prompt (the tools listed, no grammar; target >= 0.8) and ÷ plain decoding of the request alone,
and of auto-mode text answers ÷ plain, in rotating order.

    python bench/tool_calls.py                                   # embedded SmolLM2-135M
    python bench/tool_calls.py --model Llama-3.2-3B-Instruct-Q4_K_M.gguf
    python bench/tool_calls.py --backend ollama --model llama3.2 # when Ollama answers
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from tool_prompts import DOCUMENTS, SMALL_TALK, TOOL_PROMPTS, ToolPrompt, make_workspace


def _valid(tool: Any, args: dict[str, Any]) -> bool:
    try:
        tool.args_schema.model_validate(args)
    except Exception:
        return False
    return True


def _args_ok(item: ToolPrompt, tool: Any, args: dict[str, Any]) -> bool:
    if item.keywords:
        query = str(args.get("query", "")).lower()
        return all(k in query for k in item.keywords)
    if item.tool == "current_datetime":
        return str(args.get("timezone", "local")).lower() == str(item.args["timezone"]).lower()
    try:
        got, want = str(tool.invoke(args)), str(tool.invoke(item.args))
    except Exception:
        return False
    if item.tool == "calculator":  # "3^7 = 2187" answers as "3 ** 7 = 2187" does: the value counts
        return got.rpartition(" = ")[2] == want.rpartition(" = ")[2] and not got.startswith("Error")
    return got == want


def _choose(bound: Any, tools: dict[str, Any], label: str) -> dict[str, Any]:
    from langchain_core.messages import HumanMessage

    valid = chosen = args_ok = spurious = repairs = repaired = 0
    failures: list[str] = []
    prompts: list[tuple[str, ToolPrompt | None]] = [(t.prompt, t) for t in TOOL_PROMPTS]
    prompts += [(p, None) for p in SMALL_TALK]
    for prompt, item in prompts:
        msg = bound.invoke([HumanMessage(prompt)])
        calls = msg.tool_calls
        text = str(msg.content)
        ok = (
            all(c["name"] in tools and _valid(tools[c["name"]], c["args"]) for c in calls)
            if calls
            else not msg.invalid_tool_calls and not text.lstrip().startswith("{")
        )
        valid += ok
        if not ok:
            failures.append(f"invalid: {prompt!r} -> {text[:80]!r} {calls}")
        if item is None:
            spurious += bool(calls)
            continue
        if calls and calls[0]["name"] == item.tool:
            chosen += 1
            good = _args_ok(item, tools[item.tool], calls[0]["args"])
            args_ok += good
            if not good:
                failures.append(f"args: {prompt!r} -> {calls[0]['args']}")
            fixed = _repair_turn(bound, prompt, msg, tools[item.tool], item)
            if fixed is not None:
                repairs, repaired = repairs + 1, repaired + fixed
        else:
            failures.append(f"tool: {prompt!r} -> {[c['name'] for c in calls] or text[:60]!r}")
    n = len(prompts)
    return {
        "label": label,
        "valid": valid,
        "n": n,
        "chosen": chosen,
        "args_ok": args_ok,
        "spurious": spurious,
        "repairs": repairs,
        "repaired": repaired,
        "failures": failures,
    }


def _repair_turn(bound: Any, prompt: str, msg: Any, tool: Any, item: ToolPrompt) -> bool | None:
    """None when the tool accepts the call; else whether one repair turn (its error back to the
    model, the same grammar) gives a call with the right arguments."""
    from langchain_core.messages import HumanMessage

    call = msg.tool_calls[0]
    try:
        result = tool.invoke({**call, "type": "tool_call"})
    except Exception:  # the bench's own tools always answer; a raise counts as a rejection
        return False
    if getattr(result, "status", None) != "error":
        return None
    again = bound.invoke([HumanMessage(prompt), msg, result])
    calls = again.tool_calls
    return bool(calls) and calls[0]["name"] == item.tool and _args_ok(item, tool, calls[0]["args"])


def _held_out(model: Any, label: str, max_tokens: int) -> dict[str, Any]:
    """The held-out set (tests/tool_prompts_heldout.py): one invented function per prompt."""
    from langchain_core.messages import HumanMessage
    from tool_prompts_heldout import SINGLE_FUNCTION, UNSERVICEABLE, args_match

    chosen = args_ok = spurious = valid = 0
    failures: list[str] = []
    for case in [*SINGLE_FUNCTION, *UNSERVICEABLE]:
        bound = model.bind_tools(case.functions).bind(temperature=0, max_tokens=max_tokens)
        msg = bound.invoke([HumanMessage(case.prompt)])
        calls = msg.tool_calls
        valid += not msg.invalid_tool_calls
        if case.expected is None:
            spurious += bool(calls)
            if calls:
                failures.append(f"spurious: {case.prompt!r} -> {calls[0]['name']}")
            continue
        name = case.function["function"]["name"]
        if calls and calls[0]["name"] == name:
            chosen += 1
            good = args_match(case, calls[0]["args"])
            args_ok += good
            if not good:
                failures.append(f"args: {case.prompt!r} -> {calls[0]['args']} (want {case.expected})")
        else:
            failures.append(f"tool: {case.prompt!r} -> {str(msg.content)[:60]!r}")
    return {
        "label": label,
        "n": len(SINGLE_FUNCTION),
        "n_none": len(UNSERVICEABLE),
        "valid": valid,
        "chosen": chosen,
        "args_ok": args_ok,
        "spurious": spurious,
        "failures": failures,
    }


def _speed(llm: Any, tool_list: list[Any], max_tokens: int) -> tuple[float, float, float]:
    """Decode tok/s ratios, summed over the prompts: (forced call ÷ plain decoding of the same
    prompt, forced call ÷ plain decoding of the request alone, auto-mode text ÷ plain).

    "The same prompt" binds the same tools with ``tool_choice="none"``: the tool list is in the
    context, no grammar holds the answer, so the ratio is what the call grammar (and grounding)
    costs. The request alone is a shorter context, which a small model decodes faster.
    """
    from langchain_core.messages import HumanMessage

    def rate(msgs: list[Any]) -> float:
        tokens = sum(max(m.usage_metadata["output_tokens"] - 1, 0) for m in msgs)
        seconds = sum(m.response_metadata.get("generation_seconds") or 0 for m in msgs)
        return tokens / seconds if seconds else float("nan")

    forced, same, bare, text, plain_t = [], [], [], [], []
    plain = llm.bind(temperature=0, max_tokens=max_tokens)
    listed = llm.bind_tools(tool_list, tool_choice="none").bind(temperature=0, max_tokens=max_tokens)
    for i, item in enumerate(TOOL_PROMPTS):
        ask = [HumanMessage(item.prompt)]
        grammar = llm.bind_tools(tool_list, tool_choice=item.tool).bind(temperature=0, max_tokens=max_tokens)
        runs = [(grammar, forced), (listed, same), (plain, bare)]
        for runnable, into in runs[i % 3 :] + runs[: i % 3]:  # rotate which side runs first
            into.append(runnable.invoke(ask))
    model_chooser = llm.model_copy(update={"tool_router": "model"}) if hasattr(llm, "tool_router") else llm
    auto = model_chooser.bind_tools(tool_list).bind(temperature=0, max_tokens=max_tokens)
    for i, prompt in enumerate(SMALL_TALK):
        ask = [HumanMessage(prompt)]
        first, second = (auto, plain) if i % 2 else (plain, auto)
        a, b = first.invoke(ask), second.invoke(ask)
        t, p = (a, b) if first is auto else (b, a)
        if not t.tool_calls:
            text.append(t)
            plain_t.append(p)
    text_ratio = rate(text) / rate(plain_t) if text else float("nan")
    return rate(forced) / rate(same), rate(forced) / rate(bare), text_ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["llamacpp", "ollama"], default="llamacpp")
    parser.add_argument(
        "--model", default=None, help="GGUF path or Ollama model (default: the embedded model)"
    )
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--show-failures", action="store_true")
    parser.add_argument("--skip-held-out", action="store_true", help="only the tuned set")
    parser.add_argument(
        "--grounding",
        choices=["both", "default"],
        default="both",
        help="both: each chooser with argument grounding off (free) and on (grounded); default: as configured",
    )
    args = parser.parse_args(argv)

    from retrievers.embeddings import MiniLMEmbeddings
    from retrievers.ingestion import ingest
    from retrievers.search import HybridRetriever
    from retrievers.store import DocumentIndex
    from toolkit import get_chat_model
    from toolkit.errors import ToolkitError
    from tools import default_tools

    overrides: dict[str, Any] = {"backend": args.backend}
    if args.model:
        overrides["model"] = args.model
    try:
        llm = get_chat_model(**overrides)
    except ToolkitError as exc:
        print(f"skipped: {exc}")
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="tool-bench-"))
    try:
        docs = tmp / "docs"
        docs.mkdir()
        for name, text in DOCUMENTS.items():
            (docs / name).write_text(text, encoding="utf-8")
        index = DocumentIndex("tool-bench", path=tmp / "index", embeddings=MiniLMEmbeddings())
        ingest([docs], index)
        tool_list = default_tools(
            retriever=HybridRetriever(index=index, k=2), workspace=make_workspace(tmp / "ws")
        )
        tools = {t.name: t for t in tool_list}
        choosers = ["model", "similarity"] if hasattr(llm, "tool_router") else ["model"]
        groundings = (
            [False, True] if hasattr(llm, "ground_arguments") and args.grounding == "both" else [None]
        )
        results = []
        for chooser in choosers:
            for grounded in groundings:
                update: dict[str, Any] = {"tool_router": chooser} if hasattr(llm, "tool_router") else {}
                if grounded is not None:
                    update["ground_arguments"] = grounded
                model = llm.model_copy(update=update) if update else llm
                bound = model.bind_tools(tool_list).bind(temperature=0, max_tokens=args.max_tokens)
                label = chooser if grounded is None else f"{chooser}, {'grounded' if grounded else 'free'}"
                results.append(_choose(bound, tools, label))
        held = []
        if not args.skip_held_out:
            for grounded in groundings:
                model = llm if grounded is None else llm.model_copy(update={"ground_arguments": grounded})
                label = "default" if grounded is None else ("grounded" if grounded else "free")
                held.append(_held_out(model, label, args.max_tokens))
        forced_ratio, bare_ratio, text_ratio = (
            _speed(llm, tool_list, args.max_tokens) if args.backend == "llamacpp" else (None, None, None)
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    name = Path(str(getattr(llm, "model_path", getattr(llm, "model", "")))).name
    print(
        f"model: {name} ({args.backend}); {len(TOOL_PROMPTS)} tool prompts, {len(SMALL_TALK)} small talk; tools: {', '.join(tools)}\n"
    )
    print(
        "| chooser | format-valid | tool selection | arguments (of chosen) | spurious calls on small talk "
        "| calls the tool rejected: repair turns, right after one |"
    )
    print("|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['label']} | {r['valid']}/{r['n']} ({r['valid'] / r['n']:.0%}) "
            f"| {r['chosen']}/{len(TOOL_PROMPTS)} ({r['chosen'] / len(TOOL_PROMPTS):.0%}) "
            f"| {r['args_ok']}/{r['chosen']} ({r['args_ok'] / max(r['chosen'], 1):.0%}) "
            f"| {r['spurious']}/{len(SMALL_TALK)} ({r['spurious'] / len(SMALL_TALK):.0%}) "
            f"| {r['repairs']}, {r['repaired']} |"
        )
    if held:
        n, n_none = held[0]["n"], held[0]["n_none"]
        print(
            f"\nHeld-out set (tests/tool_prompts_heldout.py: {n} single-function prompts, "
            f"{n_none} no function fits; reported apart, never tuned on):\n"
        )
        print("| arguments | valid calls | function called | arguments (of called) | spurious calls |")
        print("|---|---|---|---|---|")
        for r in held:
            print(
                f"| {r['label']} | {r['valid']}/{n + n_none} | {r['chosen']}/{n} ({r['chosen'] / n:.0%}) "
                f"| {r['args_ok']}/{r['chosen']} ({r['args_ok'] / max(r['chosen'], 1):.0%}) "
                f"| {r['spurious']}/{n_none} ({r['spurious'] / n_none:.0%}) |"
            )
    if forced_ratio is not None:
        print(
            f"\ndecode tok/s, forced call under the tool grammar ÷ plain, same prompt   {forced_ratio:.3f}"
            "   (target >= 0.8)"
        )
        print(f"decode tok/s, forced call under the tool grammar ÷ plain, request alone  {bare_ratio:.3f}")
        print(f"decode tok/s, auto-mode text answer ÷ plain                              {text_ratio:.3f}")
    if args.show_failures:
        for r in results:
            print(f"\n{r['label']} misses:")
            for line in r["failures"]:
                print("  " + line)
        for r in held:
            print(f"\nheld-out, {r['label']} misses:")
            for line in r["failures"]:
                print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
