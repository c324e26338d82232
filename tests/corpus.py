"""Deterministic synthetic documents: long reports with sections, facts, and numbers.

Used by the integration tests and by ``bench/``; seeded so every run sees the same text.
"""

from __future__ import annotations

import random

PROJECTS = ["Aurora", "Basalt", "Cedar", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Iris", "Juniper"]
CITIES = ["Lisbon", "Oslo", "Nairobi", "Lima", "Osaka", "Tunis", "Quebec", "Perth", "Tallinn", "Accra"]
TOPICS = [
    "water treatment",
    "solar storage",
    "rail signalling",
    "school meals",
    "flood defence",
    "clinic software",
    "bus electrification",
    "seed banking",
]
VERBS = ["reached", "missed", "exceeded", "revised", "postponed", "confirmed"]
PEOPLE = ["Ana Souza", "Kenji Mori", "Lena Berg", "Omar Haddad", "Priya Nair", "Tom Keller"]
FILLER = [
    "The steering group reviewed the figures and asked for a clearer breakdown by region.",
    "Suppliers reported longer delivery times, which the team absorbed by reordering tasks.",
    "Local partners were consulted twice, and their feedback shaped the next quarter's plan.",
    "The audit found no material issues, although two invoices were filed late.",
    "Training sessions were held for new staff, with attendance above the usual level.",
    "A risk register was updated to reflect currency movements and staff turnover.",
    "Community meetings drew questions about noise, access roads and working hours.",
    "The budget line for maintenance was moved forward to avoid winter disruption.",
]


def report(paragraphs: int, seed: int = 7) -> str:
    """A Markdown report of ``paragraphs`` paragraphs (~72 tokens each), a section every 6."""
    rng = random.Random(seed)
    out = [f"# Annual programme report {seed}"]
    for i in range(paragraphs):
        project = PROJECTS[i // 6 % len(PROJECTS)]
        if i % 6 == 0:
            out.append(f"## Project {project} ({CITIES[i // 6 % len(CITIES)]}), part {i // 60 + 1}")
        pct = rng.randint(12, 98)
        out.append(
            f"In month {i % 12 + 1}, project {project} on {rng.choice(TOPICS)} "
            f"{rng.choice(VERBS)} its milestone with {pct}% of the target and a spend of "
            f"{rng.randint(10, 900)} thousand euros, according to {rng.choice(PEOPLE)}. "
            f"{rng.choice(FILLER)} {rng.choice(FILLER)}"
        )
    return "\n\n".join(out) + "\n"
