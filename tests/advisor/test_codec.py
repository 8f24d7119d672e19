"""advisor.codec: dataclasses to JSON-ready dicts and back, from the annotations."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from advisor.codec import Record, from_dict, to_dict


@dataclass(frozen=True)
class Point(Record):
    x: float
    y: float = 0.0


@dataclass(frozen=True)
class Legacy(Record):
    name: str

    @classmethod
    def from_dict(cls, d: dict) -> "Legacy":
        return cls(d.get("name") or d["old_name"])  # reads an older key


@dataclass(frozen=True)
class Shape(Record):
    label: str
    points: tuple[Point, ...]
    pair: tuple[int, str]
    best: Point | None = None
    by_name: dict[str, Point] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    path: Path | None = None
    legacy: Legacy | None = None


def test_round_trip_through_json_keeps_nested_types() -> None:
    s = Shape("a", (Point(1.0, 2.0), Point(3.0)), (1, "b"), best=Point(5.0),
              by_name={"p": Point(0.5, 0.25)}, tags=("t",), legacy=Legacy("x"))
    d = json.loads(json.dumps(s.to_dict()))
    assert d["points"] == [{"x": 1.0, "y": 2.0}, {"x": 3.0, "y": 0.0}] and d["pair"] == [1, "b"]
    back = Shape.from_dict(d)
    assert back == s and isinstance(back.points, tuple) and isinstance(back.by_name["p"], Point)


def test_unknown_keys_are_ignored_missing_ones_take_defaults_required_ones_fail() -> None:
    assert Point.from_dict({"x": 1, "extra": 3}) == Point(1.0, 0.0)
    assert isinstance(Point.from_dict({"x": 1}).x, float)
    with pytest.raises(TypeError):
        Point.from_dict({"y": 1.0})
    with pytest.raises(TypeError):
        from_dict(Point, [1, 2])


def test_nested_classes_read_their_own_older_formats_and_paths_become_strings() -> None:
    s = Shape.from_dict({"label": "a", "points": [], "pair": [0, ""],
                         "legacy": {"old_name": "kept"}})
    assert s.legacy == Legacy("kept")
    assert to_dict(Shape("a", (), (0, ""), path=Path("/x/y")))["path"] == "/x/y"


def test_arrays_become_lists_and_a_pair_of_the_wrong_length_fails() -> None:
    import numpy as np

    assert to_dict(Point(np.float32(0.5), np.float64(2.0))) == {"x": 0.5, "y": 2.0}
    d = to_dict(Shape("a", (), (1, "b"), by_name={}, tags=tuple(np.array(["t"]))))
    assert d["tags"] == ["t"] and json.dumps(d)
    from advisor.codec import to_plain

    assert to_plain(np.arange(3)) == [0, 1, 2]
    with pytest.raises(TypeError, match="expected 2 values"):
        Shape.from_dict({"label": "a", "points": [], "pair": [1, "b", 3]})
