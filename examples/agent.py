"""A tool-calling agent, step by step: tool calls, their results, then the streamed answer.

The assistant gets the calculator, date and unit tools, remembers the conversation (the
second question refers to the first), and stops after a few steps at most. Runs offline on
the embedded SmolLM2-135M, which is too small to use tools well - point the toolkit at
Llama 3.2 (see examples/README.md) to see it work properly.

    python examples/agent.py
"""

from __future__ import annotations

from agents import AnswerStep, TokenStep, ToolCallStep, ToolResultStep, create_assistant, stream_steps
from toolkit import get_chat_model
from tools import default_tools

QUESTIONS = ("What is 17% of 2,340?", "Convert that many kilograms to pounds.")


def main() -> None:
    llm = get_chat_model(temperature=0, max_tokens=96)
    tools = default_tools(include_documents=False)  # no llm: no summarize/translate tools
    agent = create_assistant(llm, tools, max_steps=3, memory=True)
    for question in QUESTIONS:
        print(f"Q: {question}")
        for step in stream_steps(agent, question, thread_id="example"):
            match step:
                case ToolCallStep(name=name, args=args):
                    print(f"  -> {name}({args})")
                case ToolResultStep(content=content, is_error=is_error):
                    print(f"  <- {'(error) ' if is_error else ''}{content[:200]}")
                case TokenStep(text=text):
                    print(text, end="", flush=True)
                case AnswerStep(text=text, streamed=streamed, step_limit=step_limit):
                    print(("" if streamed else text) + ("  [step limit]" if step_limit else ""))
        print()


if __name__ == "__main__":
    main()
