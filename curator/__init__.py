"""reasoning-curator: composable, cached pipelines for reasoning training data."""

from curator.core.io import InputError, read_problems, read_table, write_table
from curator.core.outputs import SplitOutput, TableOutput
from curator.core.params import load_pipeline
from curator.core.pipeline import Pipeline
from curator.core.run_options import RunOptions
from curator.core.sources import SAMPLE_PROBLEMS, InputParams, ReadProblems
from curator.core.stage import (
    Filter,
    Map,
    SampleFilter,
    SampleMap,
    Stage,
    StageOutput,
    filter_stage,
    map_stage,
)
from curator.core.table import make_id

__all__ = [
    "Filter", "InputError", "InputParams", "Map", "Pipeline", "ReadProblems", "RunOptions", "SAMPLE_PROBLEMS", "SampleFilter", "SampleMap",
    "SplitOutput", "Stage", "StageOutput", "TableOutput", "filter_stage", "load_pipeline", "make_id", "map_stage",
    "read_problems", "read_table", "write_table",
]
__version__ = "0.1.0"
