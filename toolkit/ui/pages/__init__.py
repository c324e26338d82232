"""The app's pages, one module each with a ``render()`` (run by ``toolkit/ui/screens/<page>.py``).

A page builds on the public chains, retrievers and agents and on the app infrastructure beside
this package (resources, components, text_input, history, uploads, citations); no page imports
another page.
"""

__all__: list[str] = []
