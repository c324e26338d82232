"""Eight threads streaming from ONE in-process ChatLlama (issue 13, Tests: concurrency).

Five consumers read their stream to the end; one pauses past the idle timeout, one abandons
its stream after two pieces, one has its generation cancelled by a token (as a tool timeout
does). All the others finish, and no answer mixes two conversations: at temperature 0 each
completed answer equals that conversation's answer computed alone beforehand, and each cut
answer's ``partial`` is a prefix of it. Figures go to ``test-artifacts/security/concurrency.json``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from toolkit.backends.cancel import CancelToken, cancel_scope
from toolkit.backends.llamacpp import ChatLlama
from toolkit.errors import GenerationLimitError

pytestmark = pytest.mark.integration

ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "security" / "concurrency.json"

TOPICS = ["the sea", "a forest", "the moon", "a city", "winter", "a river", "the desert", "music"]
ROLES = ["read", "read", "pause", "read", "abandon", "read", "cancel", "read"]
IDLE = 1.0
PAUSE = 2.5


def _prompt(topic: str) -> str:
    return f"Write two sentences about {topic}."


def _consume(llm: ChatLlama, prompt: str, role: str) -> dict[str, Any]:
    """Stream ``prompt`` as ``role`` does; the text read, how it ended, the wait for the first piece."""
    token = CancelToken()
    text: list[str] = []
    result: dict[str, Any] = {"role": role, "ended": "complete"}
    t0 = time.perf_counter()
    with cancel_scope(token):
        stream = llm.stream(prompt)
        try:
            for chunk in stream:
                if not text:
                    result["first_piece_s"] = time.perf_counter() - t0
                text.append(str(chunk.content))
                if role == "pause" and len(text) == 1:
                    time.sleep(PAUSE)
                if role == "abandon" and len(text) == 2:
                    result["ended"] = "abandoned"
                    break
                if role == "cancel" and len(text) == 3:
                    threading.Thread(target=token.cancel, args=("the test cancelled it",)).start()
        except GenerationLimitError as exc:
            result["ended"] = "cut"
            result["partial"] = exc.partial
            result["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            del stream  # an abandoned stream is only dropped, never closed by hand
    result["text"] = "".join(text)
    return result


def _run_threads(jobs: list[Callable[[], dict[str, Any]]]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = [{} for _ in jobs]

    def run(i: int) -> None:
        try:
            results[i] = jobs[i]()
        except BaseException as exc:  # reported, never lost
            results[i] = {"ended": "error", "error": f"{type(exc).__name__}: {exc}"}

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a consumer never finished"
    return results


def test_eight_threads_share_one_model_without_mixing_answers(embedded_model: str) -> None:
    llm = ChatLlama(
        model_path=embedded_model,
        temperature=0.0,
        seed=3,
        max_tokens=24,
        n_threads=1,  # no spinning thread barrier on a busy machine
        model_idle_timeout=IDLE,
        model_wait_timeout=90,
    )
    alone = {t: str(llm.invoke(_prompt(t)).content) for t in TOPICS}
    assert len(set(alone.values())) == len(TOPICS)  # distinct answers: a mix-up would show
    revocations = llm.loaded.lock.revocations
    t0 = time.perf_counter()
    results = _run_threads(
        [lambda t=t, r=r: _consume(llm, _prompt(t), r) for t, r in zip(TOPICS, ROLES, strict=True)]
    )
    seconds = time.perf_counter() - t0
    corrupted = []
    for topic, res in zip(TOPICS, results, strict=True):
        expected = alone[topic]
        seen = res.get("partial", res.get("text", ""))
        ok = seen == expected if res["ended"] == "complete" else expected.startswith(seen)
        if not ok:
            corrupted.append({"topic": topic, "got": seen, "alone": expected})
    figures = {
        "threads": len(TOPICS),
        "answers_completed": sum(r["ended"] == "complete" for r in results),
        "outcomes": {t: r["ended"] for t, r in zip(TOPICS, results, strict=True)},
        "errors": [r["error"] for r in results if "error" in r],
        "longest_wait_for_first_piece_s": round(max(r.get("first_piece_s", 0.0) for r in results), 3),
        "revocations": llm.loaded.lock.revocations - revocations,
        "corrupted": len(corrupted),
        "corrupted_detail": corrupted,
        "seconds": round(seconds, 2),
        "model_free_after": not llm.loaded.lock.busy,
    }
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(
        f"concurrency: {figures['answers_completed']}/{len(TOPICS)} completed, longest wait "
        f"{figures['longest_wait_for_first_piece_s']} s, corrupted {len(corrupted)}, "
        f"outcomes {figures['outcomes']}"
    )
    readers = [r for r, role in zip(results, ROLES, strict=True) if role == "read"]
    assert all(r["ended"] == "complete" for r in readers), figures["errors"]
    assert corrupted == []
    assert results[ROLES.index("abandon")]["ended"] == "abandoned"
    cancelled = results[ROLES.index("cancel")]
    assert cancelled["ended"] == "cut" and "cancelled" in cancelled["error"]
    assert results[ROLES.index("pause")]["ended"] in ("cut", "complete")
    assert figures["model_free_after"]
