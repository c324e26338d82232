"""Documents page: the collections RAG reads, what each holds, adding and removing files.

Uploaded files are kept in ``<data_dir>/uploads/<collection>/`` (a folder upload keeps its
relative paths) and ingested from there, so "Re-index" can read them again. A folder on the
server is offered only when the operator allows server paths
(``LLAMA_TOOLKIT_UI_ALLOW_SERVER_PATHS``), and only inside those folders; it is ingested where it is. The chosen collection is ``st.session_state[COLLECTION_KEY]``,
which the Ask page and the agent read too. Ingesting never loses what is stored: a file that
fails keeps its earlier chunks, and its earlier uploaded copy is put back
(:mod:`toolkit.ui.uploads` keeps the files; this page draws and reports).
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from toolkit.ui import resources as res
from toolkit.ui.citations import escape_markdown
from toolkit.ui.components import (
    MAX_UPLOAD_MB,
    collection_picker,
    show_errors,
    supported_extensions,
    upload_types,
)
from toolkit.ui.uploads import remove_stored_copy, save_uploads, within
from toolkit.ui.uploads import uploads_folder as folder_in

if TYPE_CHECKING:
    from streamlit.runtime.uploaded_file_manager import UploadedFile

    from retrievers import DocumentIndex, IngestReport

__all__ = ["collection_name_problem", "render", "uploads_folder"]

# Session-state keys of this page (widget keys are dropped when another page is shown, so the
# chosen collection itself lives in res.COLLECTION_KEY, copied from the picker).
_PICK = "docs_pick"  # collection selectbox
_NEW = "docs_new_name"  # new collection name input
_CREATE = "docs_create"  # "Create collection" button
_CREATED = "docs_created"  # name the create callback accepted, opened by the next run
_CREATE_ERROR = "docs_create_error"  # why the create callback refused the name
_ROUND = "docs_upload_round"  # bumped after an ingest: fresh (empty) uploaders
_PATH = "docs_path"  # folder on this machine
_INGEST = "docs_ingest"
_SELECTED = "docs_selected"  # documents chosen in the list
_SELECT_NEXT = "docs_select_next"  # the selection of the next run (after a re-index: the missing files)
_DELETE = "docs_delete"
_REINDEX = "docs_reindex"
_CONFIRM = "docs_confirm_drop"
_DROP = "docs_drop"
_NOTICES = "docs_notices"  # {"add"|"list"|"top": [(kind, text)]}: results shown after a rerun
_RESET = "docs_reset"  # widget keys to drop at the start of the next run

Notice = tuple[str, str]  # (st function name: success/info/warning/error, markdown text)

_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]")
_IPV4 = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}")


def collection_name_problem(name: str) -> str | None:
    """Why Chroma would refuse ``name`` as a collection name, or ``None`` if it is valid."""
    if not 3 <= len(name) <= 63:
        return f"it has {len(name)} characters; use 3 to 63"
    if not _NAME.fullmatch(name):
        return "use only letters, digits, `.`, `_` and `-`, starting and ending with a letter or digit"
    if ".." in name:
        return "it may not contain two periods in a row"
    if _IPV4.fullmatch(name):
        return "it may not look like an IP address"
    return None


def uploads_folder(collection: str) -> Path:
    """Where the files uploaded to ``collection`` are kept: ``<data_dir>/uploads/<collection>``."""
    return folder_in(res.data_dir(), collection)


# --- Small pieces ---------------------------------------------------------------------------------


def _state() -> Any:
    state = st.session_state
    for key in state.pop(_RESET, []):
        state.pop(key, None)
    state.setdefault(_ROUND, 0)
    return state


def _notify(area: str, notices: Iterable[Notice]) -> None:
    st.session_state.setdefault(_NOTICES, {}).setdefault(area, []).extend(notices)


def _show_notices(area: str) -> None:
    for kind, text in st.session_state.get(_NOTICES, {}).pop(area, []):
        getattr(st, kind)(text)


def _bullets(lines: Sequence[tuple[str, str]]) -> str:
    return "\n".join(f"- **{escape_markdown(name)}**: {escape_markdown(why)}" for name, why in lines)


# --- Ingesting ------------------------------------------------------------------------------------


def _run_ingest(paths: Sequence[str], index: DocumentIndex, label: str) -> IngestReport:
    """``ingest`` with a status box and a progress bar of the files done."""
    from retrievers import ingest

    with st.status(label, expanded=True) as status:
        bar = st.progress(0.0, text="Finding the files…")

        def progress(_stage: str, done: int, total: int) -> None:
            bar.progress(min(done / total, 1.0) if total else 1.0, text=f"{done} of {total} file(s) done")

        try:
            report = ingest(list(paths), index, on_progress=progress)
        except Exception:
            status.update(label="Ingestion stopped", state="error", expanded=False)
            raise
        state = (
            "error"
            if report.failed and not (report.added or report.updated or report.unchanged)
            else "complete"
        )
        status.update(label="Ingestion finished", state=state, expanded=False)
    return report


def _report_notices(report: IngestReport, what: str) -> list[Notice]:
    counts = (
        f"{what}: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.failed)} failed; "
        f"{report.chunks_added} chunks added in {report.seconds:.1f} s."
    )
    stored = report.added or report.updated or report.unchanged
    notices: list[Notice] = [("success" if not report.failed else "warning" if stored else "error", counts)]
    if report.failed:
        failed = [(Path(path).name or path, reason) for path, reason in report.failed]
        notices.append(("error", f"Could not index {len(failed)} file(s):\n{_bullets(failed)}"))
    return notices


def _server_folder(typed: str) -> str | None:
    """The typed server path, resolved, if allowed and present; ``None`` after a one-line refusal."""
    from toolkit.errors import AccessDeniedError
    from toolkit.ui.access import server_path

    try:
        folder_path = str(server_path(typed, res.allowed_roots(), "folder"))
    except AccessDeniedError as exc:
        st.error(escape_markdown(f"Not ingested: {exc}."), icon=":material/block:")
        return None
    if not os.path.exists(folder_path):
        st.error(
            f"The folder {escape_markdown(typed.strip())} does not exist on this machine: check the "
            "path. Nothing was ingested.",
            icon=":material/folder_off:",
        )
        return None
    return folder_path


def _ingest(name: str, uploads: Sequence[UploadedFile], server_path: str) -> None:
    """The Ingest button: save the uploads, ingest them and the folder, report on the next run."""
    folder_path = ""
    if server_path.strip():
        folder_path = _server_folder(server_path) or ""
        if not folder_path:
            return
    if not uploads and not folder_path:
        st.warning("Choose files or a folder to ingest first.", icon=":material/upload_file:")
        return
    index = res.document_index(name)  # opens (creates) the collection; validates its name
    folder = uploads_folder(name)
    saved = save_uploads(uploads, folder, supported=supported_extensions(), max_mb=MAX_UPLOAD_MB)
    notices: list[Notice] = []
    if saved.rejected:
        notices.append(("warning", f"Not ingested ({len(saved.rejected)}):\n{_bullets(saved.rejected)}"))
    paths = saved.paths + ([folder_path] if folder_path else [])
    if paths:
        report = _run_ingest(paths, index, "Ingesting …")
        saved.undo((path for path, _ in report.failed), folder)
        notices[:0] = _report_notices(report, "Ingested")
    _notify("add", notices)
    st.session_state[_ROUND] += 1  # empty the uploaders
    st.rerun()


# --- The collection's documents ---------------------------------------------------------------------


def _location(source: str, folder: Path) -> str:
    if within(source, folder):
        parent = Path(os.path.relpath(source, folder)).parent
        return "uploaded" if str(parent) == "." else f"uploaded: {parent.as_posix()}/"
    return str(Path(source).parent)


def _labels(sources: Iterable[str]) -> dict[str, str]:
    """File names for the selection, with the folder added where two share a name."""
    paths = sorted(sources, key=lambda s: (Path(s).name.lower(), s))
    names = [Path(s).name for s in paths]
    seen = Counter(names)
    return {s: f"{n} ({Path(s).parent})" if seen[n] > 1 else n for s, n in zip(paths, names, strict=True)}


def _delete(index: DocumentIndex, sources: Sequence[str], folder: Path) -> None:
    names = _labels(sources)
    for source in sources:
        index.delete_source(source)
        remove_stored_copy(source, folder)  # our copy; never the user's own files
    listed = ", ".join(escape_markdown(names[s]) for s in sources)
    _notify("list", [("success", f"Deleted {len(sources)} document(s): {listed}.")])
    st.rerun()


def _reindex(index: DocumentIndex, sources: Sequence[str]) -> None:
    present = [s for s in sources if os.path.isfile(s)]
    gone = [s for s in sources if s not in present]
    notices: list[Notice] = []
    if gone:
        lines = [(Path(s).name, f"no longer exists at {s}") for s in gone]
        notices.append(
            (
                "warning",
                f"Not re-indexed (kept as they are; upload them again or delete them):\n{_bullets(lines)}",
            )
        )
    if present:
        report = _run_ingest(present, index, "Re-indexing …")
        notices[:0] = _report_notices(report, "Re-indexed")
    _notify("list", notices)
    st.session_state[_SELECT_NEXT] = gone  # ready to be deleted; [] clears the selection
    st.rerun()


def _drop(name: str) -> None:
    from retrievers import delete_index

    delete_index(name, data_dir=res.data_dir())
    res.forget_indexes()
    folder = uploads_folder(name)
    if folder.is_dir() and within(folder, res.data_dir() / "uploads"):
        shutil.rmtree(folder, ignore_errors=True)
    state = st.session_state
    state[res.COLLECTION_KEY] = res.settings().collection
    state[_RESET] = [_CONFIRM, _SELECTED]
    _notify("top", [("success", f"Deleted the collection {escape_markdown(name)} and its documents.")])
    st.rerun()


def _documents(name: str, existing: list[str]) -> None:
    st.subheader(f"Documents in {name}", anchor=False)
    _show_notices("list")
    how = (
        "Upload files or a folder above (or type a folder on this machine) and press **Ingest**: "
        "their text is split into chunks and embedded, and the Ask page answers from them."
    )
    if name not in existing:
        st.info(f"The collection {escape_markdown(name)} is empty. {how}", icon=":material/info:")
        return
    index = res.document_index(name)
    sources = index.sources()
    if not sources:
        st.info(f"The collection {escape_markdown(name)} is empty. {how}", icon=":material/info:")
        _drop_section(name, 0)
        return
    folder = uploads_folder(name)
    labels = _labels(sources)
    infos = [sources[s] for s in labels]
    st.caption(f"{len(infos)} document(s), {sum(i.chunks for i in infos)} chunks")
    st.table(
        {
            "Document": [escape_markdown(Path(i.source).name) for i in infos],
            "Type": [i.file_type or "?" for i in infos],
            "Chunks": [i.chunks for i in infos],
            "Status": ["indexed" if i.complete else "incomplete" for i in infos],
            "Location": [escape_markdown(_location(i.source, folder)) for i in infos],
        },
        hide_index=True,
    )
    state = st.session_state
    chosen = state.pop(_SELECT_NEXT, None) or state.get(_SELECTED, [])
    state[_SELECTED] = [s for s in chosen if s in sources]
    selected: list[str] = st.multiselect(
        "Select documents",
        list(labels),
        key=_SELECTED,
        format_func=labels.__getitem__,
        placeholder="Choose documents to delete or re-index",
    )
    left, right, _ = st.columns([1, 1, 4])
    delete = left.button(
        "Delete", key=_DELETE, icon=":material/delete:", disabled=not selected, width="stretch"
    )
    reindex = right.button(
        "Re-index", key=_REINDEX, icon=":material/refresh:", disabled=not selected, width="stretch"
    )
    if delete:
        _delete(index, selected, folder)
    if reindex:
        _reindex(index, selected)
    _drop_section(name, len(infos))


def _drop_section(name: str, documents: int) -> None:
    st.subheader("Delete the collection", anchor=False)
    confirmed = st.checkbox(
        f"Yes, delete the collection {escape_markdown(name)} and its {documents} document(s)", key=_CONFIRM
    )
    if st.button("Delete collection", key=_DROP, icon=":material/delete_forever:", disabled=not confirmed):
        with show_errors("delete the collection"):
            _drop(name)


# --- The page -------------------------------------------------------------------------------------


def _create() -> None:
    """The "Create collection" button: check the name; the next run opens the collection."""
    state = st.session_state
    name = str(state.get(_NEW) or "").strip()
    if not name:
        state[_CREATE_ERROR] = "Type a name for the new collection first."
        return
    problem = collection_name_problem(name)
    if problem:
        state[_CREATE_ERROR] = f"{escape_markdown(name)} is not a valid collection name: {problem}."
        return
    state.pop(_CREATE_ERROR, None)
    state[res.COLLECTION_KEY] = name
    state[_CREATED] = name
    state[_NEW] = ""


def _collections() -> tuple[str, list[str]] | None:
    state = st.session_state
    created = state.pop(_CREATED, None)
    if created:
        with show_errors(f"create the collection {created}"):
            new = created not in res.stored_collections()
            res.document_index(created)  # get-or-create: an existing one is simply chosen
            done = "Created" if new else "Switched to the existing"
            _notify("top", [("success", f"{done} collection {escape_markdown(created)}.")])
    picked = None
    left, right, button = st.columns([4, 4, 2], vertical_alignment="bottom")
    with left, show_errors("list the collections"):
        picked = collection_picker(_PICK, help="The collection this page, the Ask page and the agent use.")
    right.text_input("New collection", key=_NEW, placeholder="e.g. projects", max_chars=63)
    button.button("Create collection", key=_CREATE, on_click=_create, width="stretch")
    error = state.pop(_CREATE_ERROR, None)
    if error:
        st.error(error, icon=":material/block:")
    _show_notices("top")
    return picked


def _add_documents(name: str) -> None:
    st.subheader("Add documents", anchor=False)
    types = upload_types()
    n = st.session_state[_ROUND]
    files = st.file_uploader(
        "Upload files",
        type=types,
        accept_multiple_files=True,
        max_upload_size=MAX_UPLOAD_MB,
        key=f"docs_files_{n}",
        help=f"{', '.join(types)}; up to {MAX_UPLOAD_MB} MB each.",
    )
    folder = st.file_uploader(
        "Upload a folder",
        type=types,
        accept_multiple_files="directory",
        max_upload_size=MAX_UPLOAD_MB,
        key=f"docs_folder_{n}",
        help="Every supported file in the folder and its subfolders; their folders are kept.",
    )
    path = ""
    roots = res.allowed_roots()
    if roots:  # off unless the operator allows server folders
        path = st.text_input(
            "Or a folder on this machine",
            key=_PATH,
            placeholder=str(roots[0]),
            help="A folder (read with its subfolders) or a file on the computer running this app, inside "
            + ", ".join(str(r) for r in roots)
            + ". It is indexed where it is: re-index after you change it.",
        )
    clicked = st.button("Ingest", key=_INGEST, type="primary", icon=":material/upload:")
    _show_notices("add")
    if clicked:
        with show_errors("ingest the documents"):
            _ingest(name, [*(files or []), *(folder or [])], path or "")


def render() -> None:
    """Draw the documents page."""
    _state()
    st.title("Documents", anchor=False)
    st.caption("The files the Ask page and the agent answer from, kept in Chroma collections.")
    picked = _collections()
    if picked is None:
        return
    name, existing = picked
    with show_errors("read the uploads"):  # Streamlit refuses a file of another type that slipped through
        _add_documents(name)
    with show_errors(f"list the documents of {name}"):
        _documents(name, existing)
