"""How to get a sweep's data: everything :func:`~tuner.data.prepare_data` needs."""

from __future__ import annotations

from dataclasses import dataclass, replace

from tuner.data._prepared import PreparedData

__all__ = ["DataSpec"]


@dataclass(frozen=True)
class DataSpec:
    """The arguments of :func:`~tuner.data.prepare_data`, and optionally one
    cross-validation fold ``(k, i, seed)`` of its result
    (:meth:`~tuner.data.PreparedData.cv_fold`). With a ``cache_dir`` a second
    :meth:`prepare` (in a worker process, say) loads the decoded arrays instead of
    decoding again."""

    path: str
    input_size: int
    framing: str = "squash"
    test_split: str | None = None
    seed: int = 0
    max_images: int | None = None
    cache_dir: str | None = None
    cv_fold: tuple[int, int, int] | None = None

    def prepare(self) -> PreparedData:
        """Decode (or load) and split the data."""
        from pathlib import Path

        from tuner.data._prepare import prepare_data

        data = prepare_data(self.path, input_size=self.input_size, framing=self.framing,
                            test_split=self.test_split, seed=self.seed,
                            max_images=self.max_images,
                            cache_dir=Path(self.cache_dir) if self.cache_dir else None)
        return data.cv_fold(*self.cv_fold) if self.cv_fold is not None else data

    def fold(self, k: int, i: int, seed: int) -> "DataSpec":
        """The spec of fold ``i`` of ``k`` (seeded) of these data."""
        return replace(self, cv_fold=(k, i, seed))

    def framed(self, framing: str) -> "DataSpec":
        return replace(self, framing=framing)
