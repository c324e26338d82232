"""Source code and configuration files, read as text with a ``language``."""

from __future__ import annotations

from pathlib import PurePath

from langchain_core.documents import Document

from toolkit.documents.text import read_text

__all__ = ["CODE_LANGUAGES", "load_code"]

CODE_LANGUAGES: dict[str, str] = {
    ".py": "python",
    ".js": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".java": "java",
    ".go": "go",
    ".rs": "rust",
    ".c": "c",
    ".h": "c",
    ".cpp": "cpp",
    ".hpp": "cpp",
    ".cs": "csharp",
    ".rb": "ruby",
    ".php": "php",
    ".sh": "shell",
    ".sql": "sql",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".ini": "ini",
    ".cfg": "ini",
    ".xml": "xml",
    ".css": "css",
    ".scss": "scss",
    ".kt": "kotlin",
    ".swift": "swift",
    ".r": "r",
    ".m": "objective-c",
    ".lua": "lua",
    ".pl": "perl",
}
"""Source-code extensions read as text, with the ``language`` metadata they get."""


def load_code(data: bytes, source: str) -> list[Document]:
    """Load a source file as one text document with ``file_type="code"`` and ``language``."""
    text, encoding = read_text(data, source)
    ext = PurePath(source).suffix.lower()
    metadata = {
        "source": source,
        "file_type": "code",
        "language": CODE_LANGUAGES.get(ext, ext.lstrip(".") or "text"),
        "encoding": encoding,
    }
    return [Document(page_content=text, metadata=metadata)]
