"""Twin forecasters: FedDA's LSTM, training, baselines, forecast metrics, model bundles, evaluation; the twin
lifecycle (V-twin creation, model registry and ``dnt-twin`` A1 policy, H-twin aggregator and worker services)."""

from dnt.twin.baselines import BASELINES, baseline_forecasts, persistence, seasonal_naive
from dnt.twin.bundle import Bundle, digest, load_bundle, save_bundle
from dnt.twin.evaluate import METHODS, REPORT_COLUMNS, TwinReport, plot_forecasts, report_rows, train_and_evaluate
from dnt.twin.hservice import TwinAggregator, TwinWorker
from dnt.twin.lifecycle import TwinSpec, VTwinConfig, VTwinResult, create_vtwin
from dnt.twin.live import CellHistory
from dnt.twin.metrics import ForecastMetrics, forecast_metrics, mae, mse, nrmse, per_cell_metrics
from dnt.twin.model import ModelConfig, TwinLSTM
from dnt.twin.registry import TWIN_POLICY_TYPE_ID, ModelRegistry, RegistryServer, fetch_model, validate_twin_policy
from dnt.twin.train import EpochStats, Forecaster, TrainConfig, TrainHistory, fit, predict

__all__ = [
    "TWIN_POLICY_TYPE_ID",
    "CellHistory",
    "ModelRegistry",
    "RegistryServer",
    "TwinAggregator",
    "TwinSpec",
    "TwinWorker",
    "VTwinConfig",
    "VTwinResult",
    "create_vtwin",
    "fetch_model",
    "validate_twin_policy",
    "BASELINES",
    "METHODS",
    "REPORT_COLUMNS",
    "Bundle",
    "EpochStats",
    "ForecastMetrics",
    "Forecaster",
    "ModelConfig",
    "TrainConfig",
    "TrainHistory",
    "TwinLSTM",
    "TwinReport",
    "baseline_forecasts",
    "digest",
    "fit",
    "forecast_metrics",
    "load_bundle",
    "mae",
    "mse",
    "nrmse",
    "per_cell_metrics",
    "persistence",
    "plot_forecasts",
    "predict",
    "report_rows",
    "save_bundle",
    "seasonal_naive",
    "train_and_evaluate",
]
