"""A sweep's run directory: its configuration, results and files, and the command
that runs it again."""

from tuner.run._command import redact_url, reproduce_command
from tuner.run._config import RESUMABLE_KEYS, SweepConfig, check_resume
from tuner.run._files import (ADVICE_FILE, CONFIG_FILE, RESULTS_FILE, dataset_fingerprint,
                              load_config, load_results, new_run_dir, save_config, write_results)
from tuner.run._result import STATUSES, SweepResult

__all__ = ["ADVICE_FILE", "CONFIG_FILE", "RESULTS_FILE", "RESUMABLE_KEYS", "STATUSES",
           "SweepConfig", "SweepResult", "check_resume", "dataset_fingerprint", "load_config",
           "load_results", "new_run_dir", "redact_url", "reproduce_command", "save_config",
           "write_results"]
