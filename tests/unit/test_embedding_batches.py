"""Length-bucketed MiniLM batches: the plan (pure), and the vectors the model gives with it."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

from toolkit.backends.embeddings import MiniLMEmbeddings, OnnxTuning, padding_fraction, plan_batches
from toolkit.backends.embeddings import minilm as emb
from toolkit.backends.embeddings.batching import padded_tokens

# --------------------------------------------------------------------------- the plan (no model)


@pytest.mark.parametrize("sort", [True, False])
@pytest.mark.parametrize("seed", range(5))
def test_every_text_is_in_exactly_one_batch_within_both_bounds(seed: int, sort: bool) -> None:
    rng = random.Random(seed)
    lengths = [rng.choice([3, 5, 40, 130, 170, 256]) for _ in range(rng.randint(1, 300))]
    batches = plan_batches(lengths, batch_size=16, batch_tokens=1024, sort=sort)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        assert 1 <= len(batch) <= 16
        assert len(batch) * max(lengths[i] for i in batch) <= 1024 or len(batch) == 1
    if not sort:  # input order is kept, batch after batch
        assert [i for b in batches for i in b] == list(range(len(lengths)))


def test_a_text_over_the_budget_gets_a_batch_of_its_own() -> None:
    assert plan_batches([10, 600, 10], batch_size=8, batch_tokens=100) == [[0, 2], [1]]
    assert plan_batches([10, 600, 10], batch_size=8, batch_tokens=100, sort=False) == [[0], [1], [2]]


def test_buckets_cut_padding() -> None:
    lengths = [170, 12, 165, 9, 160, 20] * 20
    unsorted = plan_batches(lengths, batch_size=64, batch_tokens=1024, sort=False)
    buckets = plan_batches(lengths, batch_size=64, batch_tokens=1024)
    assert padding_fraction(lengths, buckets) < 0.05 < 0.3 < padding_fraction(lengths, unsorted)
    assert padded_tokens(lengths, buckets) < padded_tokens(lengths, unsorted)


def test_padding_fraction_counts_padded_tokens() -> None:
    # [[4, 2]] pads to 2 x 4 = 8 tokens, 2 of them padding.
    assert padding_fraction([4, 2], [[0, 1]]) == pytest.approx(2 / 8)
    assert padding_fraction([4, 2], [[0], [1]]) == 0.0


def test_empty_input_and_bad_bounds() -> None:
    assert plan_batches([], batch_size=4, batch_tokens=100) == []
    assert padding_fraction([], []) == 0.0
    with pytest.raises(ValueError, match="batch_size >= 1"):
        plan_batches([3], batch_size=0, batch_tokens=100)


# --------------------------------------------------------------------------- with the model

TEXTS = [
    "ok",
    "The steering group reviewed the figures and asked for a clearer breakdown by region. " * 2,
    "A cat sits on the mat",
    "",
    "Suppliers reported longer delivery times, which the team absorbed by reordering tasks. " * 3,
    "Hello, world!",
    "Llamas are South American camelids kept for wool and as pack animals in the high Andes.",
]


class _Recorder:
    """Records the ``input_ids`` each ``run`` receives."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.inputs: list[Any] = []

    def run(self, outputs: Any, feeds: dict[str, Any]) -> Any:
        self.inputs.append(feeds["input_ids"])
        return self.session.run(outputs, feeds)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> _Recorder:
    runtime = emb.minilm_runtime()
    spy = _Recorder(runtime.session)
    monkeypatch.setattr(runtime, "session", spy)
    return spy


def test_buckets_restore_order_and_give_the_unbucketed_vectors(recorder: _Recorder) -> None:
    texts = [f"{t} ({i})" for i, t in enumerate(TEXTS * 3)]
    bucketed = MiniLMEmbeddings(batch_size=4, batch_tokens=512).embed_documents(texts)
    shapes_bucketed = [x.shape for x in recorder.inputs]
    recorder.inputs.clear()
    plain = MiniLMEmbeddings(batch_size=4, batch_tokens=512, length_buckets=False).embed_documents(texts)
    shapes_plain = [x.shape for x in recorder.inputs]
    one_by_one = [MiniLMEmbeddings().embed_query(t) for t in texts]
    assert np.allclose(bucketed, plain, atol=1e-5)
    assert np.allclose(bucketed, one_by_one, atol=1e-5)  # row i is text i's own vector
    assert sum(a * b for a, b in shapes_bucketed) < sum(a * b for a, b in shapes_plain)


def test_batches_respect_the_token_budget(recorder: _Recorder) -> None:
    model = MiniLMEmbeddings(batch_size=64, batch_tokens=100)
    model.embed_documents([f"{t} ({i})" for i, t in enumerate(TEXTS * 4)])
    assert recorder.inputs and all(b * w <= 100 or b == 1 for b, w in (x.shape for x in recorder.inputs))


def test_model_padding_fraction_and_empty_input() -> None:
    model = MiniLMEmbeddings(batch_size=4, batch_tokens=4096)
    texts = TEXTS * 4
    assert 0.0 <= model.padding_fraction(texts) < model.padding_fraction(texts, sort=False) < 1.0
    assert model.padding_fraction([]) == 0.0
    assert model.embed_documents([]) == []


def test_tuning_is_a_separate_session(monkeypatch: pytest.MonkeyPatch) -> None:
    default = emb.minilm_runtime()
    monkeypatch.setattr(emb, "_runtimes", dict(emb._runtimes))  # the tuned session goes with the test
    assert emb.minilm_runtime(OnnxTuning()) is default
    tuned = MiniLMEmbeddings(tuning=OnnxTuning(optimization="basic", intra_op_threads=1, mem_arena=False))
    vector = tuned.embed_query("A cat sits on the mat")
    assert tuned._rt() is not default
    assert np.allclose(vector, MiniLMEmbeddings().embed_query("A cat sits on the mat"), atol=1e-4)
