"""A held set of tool-use prompts with the expected tool and arguments, plus small talk.

Used by ``bench/tool_calls.py`` and the real-model tool tests. None of these prompts is one
of the tools' own ``examples`` (the router embeds those), so the router is measured on
requests it has not seen. Files named here are created by :func:`make_workspace`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple


class ToolPrompt(NamedTuple):
    prompt: str
    tool: str
    args: dict[str, Any]
    keywords: tuple[str, ...] = ()  # search_documents: words the query must contain


TOOL_PROMPTS: list[ToolPrompt] = [
    # calculator
    ToolPrompt("What is 389 plus 1,204?", "calculator", {"expression": "389 + 1204"}),
    ToolPrompt("Work out 23% of 5,600 for me.", "calculator", {"expression": "0.23 * 5600"}),
    ToolPrompt("What is 3 raised to the power of 7?", "calculator", {"expression": "3 ** 7"}),
    ToolPrompt("Compute the square root of 2025.", "calculator", {"expression": "sqrt(2025)"}),
    ToolPrompt("How much is 12.5 multiplied by 8?", "calculator", {"expression": "12.5 * 8"}),
    ToolPrompt("Divide 1000 by 16.", "calculator", {"expression": "1000 / 16"}),
    ToolPrompt("Evaluate 3 * (4 + 5) - 2.", "calculator", {"expression": "3 * (4 + 5) - 2"}),
    ToolPrompt("What do I get if I subtract 37 from 991?", "calculator", {"expression": "991 - 37"}),
    # convert_units
    ToolPrompt(
        "Convert 2,340 kg to pounds.", "convert_units", {"value": 2340, "from_unit": "kg", "to_unit": "lb"}
    ),
    ToolPrompt(
        "How many kilometers is 26.2 miles?",
        "convert_units",
        {"value": 26.2, "from_unit": "mile", "to_unit": "km"},
    ),
    ToolPrompt(
        "What is 100 degrees Fahrenheit in Celsius?",
        "convert_units",
        {"value": 100, "from_unit": "degF", "to_unit": "degC"},
    ),
    ToolPrompt(
        "Convert 5 feet into meters.", "convert_units", {"value": 5, "from_unit": "ft", "to_unit": "m"}
    ),
    ToolPrompt(
        "How many liters are in 3 US gallons?",
        "convert_units",
        {"value": 3, "from_unit": "gallon", "to_unit": "liter"},
    ),
    ToolPrompt(
        "Express 60 mph in km/h.", "convert_units", {"value": 60, "from_unit": "mph", "to_unit": "km/h"}
    ),
    ToolPrompt(
        "Turn 500 grams into ounces.", "convert_units", {"value": 500, "from_unit": "g", "to_unit": "oz"}
    ),
    # current_datetime
    ToolPrompt("What time is it right now?", "current_datetime", {"timezone": "local"}),
    ToolPrompt("What's the current time in Tokyo?", "current_datetime", {"timezone": "Asia/Tokyo"}),
    ToolPrompt("Which day of the week is it today?", "current_datetime", {"timezone": "local"}),
    # date_calculator
    ToolPrompt(
        "What date is 90 days after 2026-01-15?", "date_calculator", {"start": "2026-01-15", "add_days": 90}
    ),
    ToolPrompt(
        "How many days are there from 2026-03-01 until 2026-12-25?",
        "date_calculator",
        {"start": "2026-03-01", "until": "2026-12-25"},
    ),
    ToolPrompt(
        "Which date falls 3 weeks after 2026-11-23?",
        "date_calculator",
        {"start": "2026-11-23", "add_weeks": 3},
    ),
    ToolPrompt(
        "What is the date 2 months after 2026-01-31?",
        "date_calculator",
        {"start": "2026-01-31", "add_months": 2},
    ),
    # search_documents
    ToolPrompt(
        "Search my documents for the Kelvara eruption.",
        "search_documents",
        {"query": "Kelvara eruption"},
        ("kelvara",),
    ),
    ToolPrompt(
        "What do my notes say about the harbour budget?",
        "search_documents",
        {"query": "harbour budget"},
        ("budget",),
    ),
    ToolPrompt(
        "Find the part of my files about flood defence.",
        "search_documents",
        {"query": "flood defence"},
        ("flood",),
    ),
    ToolPrompt(
        "Look up the maintenance schedule in my documents.",
        "search_documents",
        {"query": "maintenance schedule"},
        ("maintenance",),
    ),
    ToolPrompt(
        "According to my documents, who leads project Aurora?",
        "search_documents",
        {"query": "project Aurora lead"},
        ("aurora",),
    ),
    # workspace files
    ToolPrompt("List the files in my workspace.", "list_files", {"path": "."}),
    ToolPrompt("Which files are inside the reports folder?", "list_files", {"path": "reports"}),
    ToolPrompt("Open the file notes.txt and show it to me.", "read_file", {"path": "notes.txt"}),
    ToolPrompt("Show me the contents of reports/q3.md.", "read_file", {"path": "reports/q3.md"}),
]

SMALL_TALK: list[str] = [
    "Hi there!",
    "Thanks a lot, that was useful.",
    "Can you tell me something funny?",
    "Who made you?",
    "Write a haiku about autumn leaves.",
    "What is the capital of Italy?",
    "How are you doing today?",
    "Give me one tip for learning Python.",
    "Good night!",
    "What's your favourite colour?",
]

DOCUMENTS = {
    "volcano.md": "# Mount Kelvara\n\nMount Kelvara erupted in 1883 and buried the valley town of Orsk in ash.",
    "harbour.md": "# Harbour works\n\nThe harbour budget for 2026 is 4.2 million euros, mostly for dredging.",
    "floods.md": "# Flood defence\n\nThe flood defence wall along the river was raised by 80 cm in spring.",
    "maintenance.md": "# Maintenance\n\nPumps are serviced every March and September; filters monthly.",
    "aurora.md": "# Project Aurora\n\nProject Aurora is led by Lena Berg from the Oslo office.",
}


def make_workspace(root: Path) -> Path:
    """The files the workspace prompts name: ``notes.txt``, ``reports/q3.md``, ``reports/q4.md``."""
    (root / "reports").mkdir(parents=True, exist_ok=True)
    (root / "notes.txt").write_text("Buy milk. Call Ana about the Q3 report.\n", encoding="utf-8")
    (root / "reports" / "q3.md").write_text("# Q3\n\nRevenue grew 4% over Q2.\n", encoding="utf-8")
    (root / "reports" / "q4.md").write_text("# Q4\n\nPlanning is under way.\n", encoding="utf-8")
    return root
