"""Hyperparameter search with keras-tuner, driving tfdl's own training function.

keras-tuner's `GridSearchOracle` proposes the values and keeps the trial records
(JSON files under `directory/project_name/`, never the home directory); each
trial calls a function of yours that trains through `tfdl.training.train` and
returns its metrics. Nothing is downloaded: keras-tuner runs offline.

Example:

    def trial(decay):
        model = mlp(784, [128], 10, l2=decay)
        compile_model(model, 0.002, optimizer="adam")
        train(model, x, y, batch_size=1024, epochs=10)
        return {"val_accuracy": evaluate(model, x_val, y_val)["accuracy"]}

    search = grid_search(trial, "weight_decay", [1e-6, 1e-4, 1e-2], directory=run_dir)
    search.best_value, search.metrics       # 1e-6, [{...}, {...}, {...}] in grid order

A search whose trials differ only in the weight decay can train one model for all of
them (`tfdl.training.restarts.Restarts`): Keras then traces its train function once, not
once per trial.
"""

import dataclasses
import math
import numbers
from pathlib import Path

import keras_tuner as kt
from keras_tuner.src.engine import base_tuner
from keras_tuner.src.engine import trial as trial_module


@dataclasses.dataclass
class SearchResult:
    """What a grid search found.

    Attributes:
        name: the searched hyperparameter.
        values: the grid, in the order given.
        metrics: the trial function's metrics for each value, aligned with `values`.
        best_value: keras-tuner's best value for the objective.
        best_metrics: the metrics of the best trial.
        directory: where keras-tuner wrote its trial records.
    """

    name: str
    values: list
    metrics: list
    best_value: float
    best_metrics: dict
    directory: str


class _FunctionTuner(base_tuner.BaseTuner):
    """A keras-tuner tuner whose trial is a plain function of the hyperparameter value."""

    def __init__(self, trial_fn, name, **kwargs):
        super().__init__(**kwargs)
        self._trial_fn = trial_fn
        self._name = name
        self.results = {}

    def run_trial(self, trial, *args, **kwargs):
        value = trial.hyperparameters.get(self._name)
        metrics = self._trial_fn(value)
        self.results[value] = metrics
        # keras-tuner keeps the numeric metrics in its trial records.
        return {k: float(v) for k, v in metrics.items()
                if isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)}

    def save_model(self, trial_id, model, step=0):
        pass  # trials return metrics, not models


def grid_search(trial_fn, name, values, directory, project_name="search",
                objective="val_accuracy", direction="max"):
    """Tries every value of one hyperparameter with keras-tuner's grid search.

    Args:
        trial_fn: `fn(value) -> dict` training one model with that value and returning
            its metrics; the dict must hold `objective` as a finite number.
        name: the hyperparameter's name (as keras-tuner records it).
        values: the grid (numbers of one type, e.g. weight decays).
        directory: folder for keras-tuner's records (use the run's log directory).
        project_name: sub-folder of `directory`; an existing one is overwritten,
            so a rerun never resumes a stale search.
        objective: the metric to optimize.
        direction: "max" or "min".

    Returns:
        A `SearchResult`.

    Raises:
        RuntimeError: a trial failed (the trial's traceback is in the message).
    """
    values = list(values)
    if not values:
        raise ValueError("grid_search needs at least one value")
    hp = kt.HyperParameters()
    hp.Choice(name, values, ordered=True)
    oracle = kt.oracles.GridSearchOracle(objective=kt.Objective(objective, direction),
                                         hyperparameters=hp, max_trials=len(values),
                                         max_consecutive_failed_trials=1)
    Path(directory).mkdir(parents=True, exist_ok=True)
    tuner = _FunctionTuner(trial_fn, name, oracle=oracle, directory=str(directory),
                           project_name=project_name, overwrite=True)
    try:
        tuner.search(verbose=0)
    except RuntimeError as err:
        raise RuntimeError(f"grid search of {name} failed: {_failure(tuner)}") from err
    failed = _failure(tuner)
    if failed:
        raise RuntimeError(f"grid search of {name} failed: {failed}")
    missing = [v for v in values if v not in tuner.results]
    if missing:
        raise RuntimeError(f"grid search of {name} never tried {missing}")
    best = oracle.get_best_trials(1)[0].hyperparameters.get(name)
    return SearchResult(name=name, values=values, metrics=[tuner.results[v] for v in values],
                        best_value=best, best_metrics=tuner.results[best],
                        directory=str(tuner.project_dir))


def _failure(tuner):
    for trial in tuner.oracle.trials.values():
        if trial.status in (trial_module.TrialStatus.FAILED, trial_module.TrialStatus.INVALID):
            return trial.message or trial.status
    return ""
