"""Translate a Markdown document into French, keeping its structure, code and links.

Runs offline on the embedded SmolLM2-135M. Headings' ``#``, list markers, table pipes and
the code block come back byte-identical (they never reach the model), the URL and the
numbers are kept, and the glossary term is translated the fixed way.

    python examples/translate.py
    python examples/translate.py notes.md de       # a file and a target language
"""

from __future__ import annotations

import sys

from toolkit import get_chat_model
from toolkit.chains import translate_chain
from toolkit.documents import load_document

SAMPLE = """# Release notes

We fixed 12 bugs and made the dashboard faster. Read more at https://example.com/release.

- The search box remembers your last query.
- Exports now include the date.

```bash
pip install --upgrade dashboard   # unchanged in every language
```
"""


def main() -> None:
    document = load_document(sys.argv[1]) if len(sys.argv) > 1 else SAMPLE
    target = sys.argv[2] if len(sys.argv) > 2 else "fr"
    chain = translate_chain(
        get_chat_model(temperature=0), to=target, glossary={"dashboard": "tableau de bord"}
    )
    for piece in chain.stream(document):  # unit by unit, in document order
        print(piece, end="", flush=True)
    print()


if __name__ == "__main__":
    main()
