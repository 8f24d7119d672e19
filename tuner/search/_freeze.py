"""Freeze depth in the search space: the candidate block boundaries around the
advice's recommendation (``docs/search-space.md``, "How each scenario maps to the
freeze range")."""

from __future__ import annotations

from advisor.recommend import Advice, FreezePlan

__all__ = ["freeze_range"]


def _freeze_candidates(centre: int, lo: int, hi: int, window: int) -> tuple[int, ...]:
    """Every block in ``centre +- window`` plus every ``window``-th block of ``lo..hi``."""
    dense = set(range(max(lo, centre - window), min(hi, centre + window) + 1))
    coarse = set(range(lo, hi + 1, window)) | {lo, hi}
    return tuple(sorted(dense | coarse | {centre}))


def freeze_range(advice: Advice | None, n: int, scenario: str | None, centre_scenario: str | None
                 ) -> tuple[int, tuple[int, ...], list[str]]:
    """``(first block, candidate blocks, notes)`` for a backbone of ``n`` blocks, centred
    on ``centre_scenario`` (the forced ``scenario``, else the advice's); a forced scenario
    searches its own range only. Blocks are :class:`~advisor.recommend.FreezePlan` codes."""
    notes: list[str] = []
    window = max(1, round(n / 6))

    # The recommended plan, rescaled when the advice measured another backbone.
    rec: FreezePlan | None = None
    if advice is not None:
        rec = advice.freeze.rescaled(n)
        if rec.n_blocks != advice.freeze.n_blocks and not rec.scratch:
            notes.append(f"advice freeze block {advice.freeze.block}/{advice.freeze.n_blocks} "
                         f"rescaled to {rec.block}/{n} for this backbone")
    # a partial freeze centres on the advice's own boundary when it has one
    partial_centre = rec.code if rec is not None and rec.partial else n // 2
    scratch = FreezePlan.SCRATCH_CODE

    allow_scratch = centre_scenario == "from_scratch" or (
        centre_scenario == "full_finetune" and advice is not None
        and advice.runner_up == "from_scratch")

    if centre_scenario is None:
        centre = n // 2
    elif centre_scenario == "partial_freeze":
        centre = partial_centre
    else:  # the scenario's own plan: all frozen, nothing frozen or from scratch
        centre = FreezePlan.for_scenario(centre_scenario, n).code
    if scenario is not None:  # forced: that scenario's range only
        blocks = (_freeze_candidates(centre, 1, n - 1, window)
                  if scenario == "partial_freeze" else (centre,))
    elif centre_scenario is None:
        blocks = _freeze_candidates(centre, 0, n, window)
        notes.append("no advice: freeze depth searched over the whole range")
    elif centre_scenario == "feature_extractor":
        blocks = _freeze_candidates(centre, n // 2, n, window)
    elif centre_scenario == "partial_freeze":
        blocks = _freeze_candidates(centre, 0, n, window)
    elif centre_scenario == "full_finetune":
        blocks = _freeze_candidates(centre, 0, n // 2, window)
    else:  # from_scratch: neighbours are full fine-tuning and a few frozen early blocks
        blocks = _freeze_candidates(centre, scratch, max(1, n // 4), window)
    if allow_scratch and scratch not in blocks and scenario is None:
        blocks = (scratch,) + blocks
        notes.append("from scratch (-1) included: the advice's runner-up is from_scratch")
    return centre, tuple(blocks), notes
