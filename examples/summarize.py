"""Summarize a document several times longer than the model's context window.

Runs offline on the embedded SmolLM2-135M (8K window). The report below is generated (about
14K tokens), so the chain splits it at section boundaries, summarizes every part in order,
and streams the final summary while a progress bar shows the parts done.

    python examples/summarize.py
    python examples/summarize.py report.pdf        # any .txt, .md, .pdf, .html or .docx
"""

from __future__ import annotations

import random
import sys

from toolkit import get_chat_model
from toolkit.chains import summarize_chain, token_budget
from toolkit.documents import documents_text, load_document
from toolkit.progress import ProgressBar


def sample_report(sections: int = 40) -> str:
    rng = random.Random(3)
    teams = ["Atlas", "Borealis", "Comet", "Dune", "Echo"]
    parts = ["# Field operations report"]
    for s in range(sections):
        team = teams[s % len(teams)]
        parts.append(f"## Week {s + 1}: team {team}")
        for _ in range(6):
            parts.append(
                f"Team {team} inspected {rng.randint(3, 40)} pumping stations and repaired "
                f"{rng.randint(1, 9)} of them. Spare parts arrived {rng.randint(1, 6)} days late, "
                "so two repairs waited until the following week. The crew reported dry weather "
                "and good road access, and asked for one more technician for the northern sites."
            )
    return "\n\n".join(parts)


def main() -> None:
    llm = get_chat_model(temperature=0)
    document = load_document(sys.argv[1]) if len(sys.argv) > 1 else sample_report()
    budget = token_budget(llm)  # exact on llama.cpp, a conservative estimate on Ollama
    text = document if isinstance(document, str) else documents_text(document)
    print(f"[document: {budget.count(text)} tokens; the model's window is {budget.window}]")

    chain = summarize_chain(llm, style="bullets", length="short")
    for piece in chain.stream(document, config={"callbacks": [ProgressBar()]}):
        print(piece, end="", flush=True)
    print()


if __name__ == "__main__":
    main()
