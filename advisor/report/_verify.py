"""The report section of ``tladvise --verify`` (:class:`~advisor.VerifyResult`)."""

from __future__ import annotations

from advisor._verify import VerifyResult
from advisor.report._doc import Callout, KeyValues, Section, Table, Text
from advisor.report._fmt import DASH, num

__all__ = ["verify_section"]

_VERDICT_LEVEL = {"confirmed": "info", "overturned": "error", "inconclusive": "warning"}


def verify_section(verify: VerifyResult) -> Section:
    """The pilot: verdict, the measured fine-tuning gain with its interval, the runs."""
    intro = Text("Short real training runs that check the call: every image is scored by "
                 "models that neither trained on it nor chose their epoch on it, and the "
                 "options are compared paired on the same images.", "muted")
    rows = tuple((r.scenario, role, num(r.freeze_block), r.freeze_layer, num(r.val_accuracy),
                  num(r.epochs_run), num(float(r.seconds), 1))
                 for r, role in zip(verify.runs, ("recommended", "compared with")))
    b = verify.budget
    facts = [("Verdict", verify.verdict),
             ("Difference", f"{num(verify.difference)} (paired standard error "
                            f"{num(verify.standard_error)})")]
    if verify.gain is not None:
        g = verify.gain
        lo, hi = g.interval()
        facts.append(("Fine-tuning gain", f"{g.difference:+.3f} +- {g.se:.3f} (interval "
                      f"{lo:+.3f} .. {hi:+.3f}): partial freeze at block {verify.gain_block} "
                      f"minus feature extractor, {g.n_images} images, {g.discordant:.1%} "
                      "discordant"))
    if verify.call:
        facts.append(("Measured call", verify.call_reason))
    facts += [("Images", f"{num(verify.n_val)} scored held-out, about {num(verify.n_train)} "
                         "train per fold"),
              ("Scheme", verify.scheme or DASH),
              ("Budget", f"{b.get('input_size', DASH)} px, head up to {b.get('head_epochs', DASH)} "
                         f"epochs, fine-tuning {b.get('finetune_epochs', DASH)}, augmentation "
                         f"{b.get('augmentation', DASH)}"),
              ("Seconds", num(float(verify.seconds), 1))]
    box = Callout(verify.verdict.capitalize(), _VERDICT_LEVEL.get(verify.verdict, "info"),
                  (Text(verify.explanation),))
    table = Table(("Scenario", "Role", "Freeze block", "Frozen through", "Held-out accuracy",
                   "Epochs", "Seconds (all folds)"), rows, "llrlrrr", highlight=(0,))
    return Section("verify", "Verification run", (intro, box, KeyValues(tuple(facts)), table))
