"""Helpers of the tuner tests (the shared datasets and the CLI sweep are in tests/conftest.py)."""

from __future__ import annotations

from tuner.trial import TrialParams


def trial_params(fb: int, **kw) -> TrialParams:
    """Parameters of a tiny trial (augmentation off, 2 epochs): freeze ``fb`` blocks,
    ``kw`` overrides."""
    base = dict(freeze_block=fb, head_lr=1e-2, backbone_lr=1e-3, augmentation="off",
                batch_size=16, epochs=2, patience=5)
    base.update(kw)
    return TrialParams(**base)
