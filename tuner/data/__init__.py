"""The sweep's data: decoded once into a row store on disk, split and cached."""

from tuner.data._decoded import remove_stale
from tuner.data._prepare import DEFAULT_INPUT_SIZE, prepare_data
from tuner.data._prepared import DataSummary, PoolRows, PreparedData, SkippedFile
from tuner.data._spec import DataSpec
from tuner.data._store import Rows, RowStore, RowWriter
from tuner.data._split import (choose_test_split, stratified_holdout, stratified_pick,
                               stratified_sample)

__all__ = ["DEFAULT_INPUT_SIZE", "DataSpec", "DataSummary", "PoolRows", "PreparedData", "Rows", "RowStore", "RowWriter", "SkippedFile", "choose_test_split",
           "prepare_data", "remove_stale", "stratified_holdout", "stratified_pick",
           "stratified_sample"]
