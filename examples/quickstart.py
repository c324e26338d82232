"""The seed tutorial's three tasks - a joke, a summary, a translation - on the embedded model.

Run: python examples/quickstart.py
Switch model with the same code: LLAMA_TOOLKIT_BACKEND=ollama LLAMA_TOOLKIT_MODEL=llama3.2,
or LLAMA_TOOLKIT_MODEL=/path/to/Llama-3.2-3B-Instruct-Q4_K_M.gguf.
"""

from __future__ import annotations

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from toolkit import get_chat_model


def main() -> None:
    llm = get_chat_model(temperature=0.2, max_tokens=120)

    print("## Joke")
    for chunk in llm.stream("Tell me a joke"):
        print(chunk.content, end="", flush=True)
    print()

    summarize = (
        ChatPromptTemplate.from_template("Summarize in one short sentence:\n\n{text}")
        | llm
        | StrOutputParser()
    )
    print("\n## Summary")
    print(
        summarize.invoke(
            {
                "text": "Llama 3.2 is a family of small multilingual language models from Meta, "
                "with 1B and 3B text models that run on laptops and phones and a 128K-token context."
            }
        )
    )

    translate = (
        ChatPromptTemplate.from_messages(
            [
                ("system", "Translate the user's text into French. Reply with the translation only."),
                ("user", "{text}"),
            ]
        )
        | llm
        | StrOutputParser()
    )
    print("\n## Translation")
    print(translate.invoke({"text": "I love programming."}))


if __name__ == "__main__":
    main()
