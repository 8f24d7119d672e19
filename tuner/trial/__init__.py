"""What one trial is: parameters, per-epoch records, outcome, and how trials rank."""

from tuner.trial._params import (AUGMENTATION_LEVELS, OPTIMIZERS, SCHEDULES, SGD_LR_SCALE,
                                 GRADUAL_STAGES, EpochRecord, TrialOutcome, TrialParams,
                                 check_params, gradual_stages, head_phase_epochs, phase_epochs,
                                 stage_epochs)
from tuner.trial._record import (FINISHED_STATES, REFIT_FROM_SEARCH, TrialRecord, best_of, better,
                                 ranked, refit_epochs)

__all__ = ["AUGMENTATION_LEVELS", "OPTIMIZERS", "SCHEDULES", "SGD_LR_SCALE", "GRADUAL_STAGES", "FINISHED_STATES", "REFIT_FROM_SEARCH", "EpochRecord",
           "TrialOutcome", "TrialParams", "TrialRecord", "best_of", "better", "check_params", "head_phase_epochs",
           "phase_epochs", "gradual_stages", "stage_epochs", "ranked", "refit_epochs"]
