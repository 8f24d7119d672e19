"""A sweep's run directory: its configuration, results and files (TensorBoard logs
included), and the command that runs it again."""

from tuner.run._command import redact_url, reproduce_command
from tuner.run._config import RESUMABLE_KEYS, SweepConfig, check_resume
from tuner.run._files import (ADVICE_FILE, CONFIG_FILE, RESULTS_FILE, dataset_fingerprint,
                              load_config, load_results, new_run_dir, save_config, write_results)
from tuner.run._result import STATUSES, SweepResult
from tuner.run._tensorboard import TENSORBOARD_DIR, TensorBoardLog

__all__ = ["ADVICE_FILE", "CONFIG_FILE", "RESULTS_FILE", "RESUMABLE_KEYS", "STATUSES",
           "TENSORBOARD_DIR", "SweepConfig", "SweepResult", "TensorBoardLog", "check_resume",
           "dataset_fingerprint", "load_config", "load_results", "new_run_dir", "redact_url",
           "reproduce_command", "save_config", "write_results"]
