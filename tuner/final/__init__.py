"""The final model: one evaluation on the test split, export, and prediction with it."""

from tuner.final._export import export_model, finish_final
from tuner.final._metrics import INFERENCE_BATCH, evaluate, score_probs, score_test
from tuner.final._predict import Prediction, load_exported, predict
from tuner.final._result import (EXPORT_FORMATS, REFIT_PROTOCOL, TRAIN_PROTOCOL, ClassMetrics,
                                 FinalRequest, FinalResult, Misclassified, check_exports)

__all__ = ["EXPORT_FORMATS", "INFERENCE_BATCH", "REFIT_PROTOCOL", "TRAIN_PROTOCOL", "ClassMetrics",
           "FinalRequest", "FinalResult", "Misclassified", "Prediction", "check_exports",
           "evaluate", "export_model", "finish_final", "load_exported", "predict", "score_probs",
           "score_test"]
