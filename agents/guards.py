"""Middleware that keeps an agent loop safe with small local models.

- :class:`StepLimitMiddleware` ends a run after ``max_steps`` model calls with a final
  message that says so, instead of raising and losing the conversation.
- :class:`ToolGuardMiddleware` turns every tool failure into a message the model reads: an
  exception of any kind, or a call that runs longer than its timeout.

Both plug into LangChain's ``create_agent(middleware=[...])``.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from langchain.agents.middleware import ModelCallLimitMiddleware, hook_config
from langchain.agents.middleware.types import AgentMiddleware, ToolCallRequest
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.errors import GraphBubbleUp
from langgraph.runtime import Runtime
from langgraph.types import Command

from toolkit.backends.cancel import CancelToken, cancel_scope
from toolkit.errors import ConfigurationError

__all__ = ["STEP_LIMIT_REASON", "StepLimitMiddleware", "ToolGuardMiddleware"]

STEP_LIMIT_REASON = "step_limit"
"""``response_metadata["finish_reason"]`` of the message that ends a run at the step limit."""

ToolResult: TypeAlias = ToolMessage | Command[Any]


class StepLimitMiddleware(ModelCallLimitMiddleware):
    """Stop a run after ``max_steps`` model calls with a final message saying why.

    The count is per run (one user turn), so a long conversation on one thread is never cut
    short by its earlier turns. The closing ``AIMessage`` has
    ``response_metadata={"finish_reason": "step_limit"}``; the tool results gathered so far
    stay in the conversation.
    """

    def __init__(self, max_steps: int) -> None:
        if max_steps < 1:
            raise ConfigurationError(f"max_steps must be at least 1, got {max_steps}")
        super().__init__(run_limit=max_steps, exit_behavior="end")
        self.max_steps = max_steps

    @hook_config(can_jump_to=["end"])
    def before_model(self, state: Any, runtime: Runtime[Any]) -> dict[str, Any] | None:
        update = super().before_model(state, runtime)
        if update is None:
            return None
        text = (
            f"I stopped: I reached the limit of {self.max_steps} steps before finding a final "
            "answer. Try a simpler question, or allow more steps."
        )
        return {
            "jump_to": "end",
            "messages": [AIMessage(text, response_metadata={"finish_reason": STEP_LIMIT_REASON})],
        }

    @hook_config(can_jump_to=["end"])
    async def abefore_model(self, state: Any, runtime: Runtime[Any]) -> dict[str, Any] | None:
        return self.before_model(state, runtime)


class _TimedOut(Exception):
    pass


def _run_in_thread(fn: Callable[[], ToolResult], timeout: float, name: str) -> ToolResult:
    """``fn()`` in a daemon thread; ``_TimedOut`` if it has not returned after ``timeout`` s.

    Python cannot stop a thread: on timeout the call's :class:`CancelToken` is cancelled, and
    work that checks it (the in-process model, after every token and prompt batch) stops and
    gives the model back; other work keeps running in the background until it returns on its
    own (its result is then dropped). The thread is a daemon, so it never keeps the process
    alive at exit.
    """
    box: dict[str, Any] = {}
    context = contextvars.copy_context()  # LangGraph's config and callbacks live in contextvars
    token = CancelToken()

    def scoped() -> ToolResult:
        with cancel_scope(token):
            return fn()

    def target() -> None:
        try:
            box["result"] = context.run(scoped)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"tool-{name}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        token.cancel(f"the tool {name} timed out after {timeout:g} s")
        raise _TimedOut
    if "error" in box:
        raise box["error"]
    result: ToolResult = box["result"]
    return result


class ToolGuardMiddleware(AgentMiddleware):
    """Run each tool call with a timeout and turn any failure into an error ``ToolMessage``.

    A call that raises (any ``Exception``) or runs past ``timeout`` seconds comes back to the
    model as ``ToolMessage(status="error")`` naming the tool and the problem, so it can retry
    or answer without it; the run never crashes on a tool. LangGraph's control-flow signals
    (interrupts) still propagate.

    Sync tools run in a separate thread that is abandoned on timeout; its cancellation token
    (:mod:`toolkit.backends.cancel`) is then cancelled, so a tool calling the in-process model stops
    at the next token and frees the model. Other work may keep running in the background
    until it returns (Python cannot stop a thread). Async tools are cancelled.

    Args:
        timeout: Seconds each call may take; ``None`` for no limit (errors are still caught).
    """

    def __init__(self, timeout: float | None = 30.0) -> None:
        super().__init__()
        if timeout is not None and timeout <= 0:
            raise ConfigurationError(f"tool_timeout must be positive (or None for no limit), got {timeout}")
        self.timeout = timeout
        self.tools = []

    def _error(self, request: ToolCallRequest, text: str, *, timed_out: bool = False) -> ToolMessage:
        name = request.tool_call["name"]
        return ToolMessage(
            content=f"Error: the tool {name} {text}",
            name=name,
            tool_call_id=request.tool_call["id"] or "",
            status="error",
            response_metadata={"timed_out": True} if timed_out else {},  # no repair turn for it
        )

    def _timed_out(self, request: ToolCallRequest) -> ToolMessage:
        return self._error(
            request,
            f"timed out after {self.timeout:g} s. Try other input or answer without it.",
            timed_out=True,
        )

    def _failed(self, request: ToolCallRequest, exc: Exception) -> ToolMessage:
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return self._error(request, f"failed ({detail}). Fix the arguments or answer without it.")

    def wrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], ToolResult]
    ) -> ToolResult:
        """Run the call in a thread with a timeout; failures become error messages."""
        try:
            if self.timeout is None:
                return handler(request)
            name = request.tool_call["name"]
            return _run_in_thread(lambda: handler(request), self.timeout, name)
        except _TimedOut:
            return self._timed_out(request)
        except GraphBubbleUp:
            raise
        except Exception as exc:
            return self._failed(request, exc)

    async def awrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], Awaitable[ToolResult]]
    ) -> ToolResult:
        """Async version: the call is cancelled when it times out."""
        task = asyncio.ensure_future(handler(request))
        try:
            done, _ = await asyncio.wait({task}, timeout=self.timeout)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if not done:
            task.cancel()
            return self._timed_out(request)
        try:
            return task.result()
        except GraphBubbleUp:
            raise
        except Exception as exc:
            return self._failed(request, exc)
