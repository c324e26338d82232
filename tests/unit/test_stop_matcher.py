from __future__ import annotations

import pytest

from toolkit.backends.llamacpp.decoding import StopMatcher


def run(stops: list[str], pieces: list[str]) -> tuple[str, bool, list[str]]:
    m = StopMatcher(stops)
    emitted: list[str] = []
    for piece in pieces:
        out, stopped = m.feed(piece)
        emitted.append(out)
        if stopped:
            return "".join(emitted), True, emitted
    emitted.append(m.flush(""))
    return "".join(emitted), False, emitted


def test_no_stops_passes_through() -> None:
    assert run([], ["a", "b"]) == ("ab", False, ["a", "b", ""])


def test_stop_inside_one_piece() -> None:
    text, stopped, _ = run(["END"], ["hello END world"])
    assert (text, stopped) == ("hello ", True)


@pytest.mark.parametrize("split", [1, 2, 3, 4])
def test_stop_split_across_pieces(split: int) -> None:
    s = "one, two\n\nthree"
    text, stopped, _ = run(["\n\n"], [s[i : i + split] for i in range(0, len(s), split)])
    assert (text, stopped) == ("one, two", True)


def test_partial_match_is_held_back_then_released() -> None:
    text, stopped, emitted = run(["STOP"], ["ab", "ST", "OX", "yz"])
    assert (text, stopped) == ("abSTOXyz", False)
    assert emitted[1] == ""  # "ST" may start "STOP": not shown yet


def test_earliest_of_several_stops_wins() -> None:
    text, stopped, _ = run(["zz", "b"], ["aab", "zz"])
    assert (text, stopped) == ("aa", True)
