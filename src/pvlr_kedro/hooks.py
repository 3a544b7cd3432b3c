"""The project's hook that validates: every parameter check runs before any node does real work
(MLflow tracking is ``pvlr_kedro.tracking``'s hook)."""

from __future__ import annotations

from kedro.framework.hooks import hook_impl

from pvlr_kedro.parameter_files import file_parameters
from pvlr_kedro.tracking import check_tracking_store


class ValidateParametersFirst:
    """Before the pipeline: ``--params`` may only name parameter blocks the configuration defines
    (``cocoo.root=x`` is an error, not ignored), and the nodes tagged ``parameters`` (cheap
    checks of parameter blocks) run, so that ``--params=demo.train.epochs=-1`` fails at once
    instead of after ingestion."""

    def __init__(self) -> None:
        self.configured: set[str] | None = None

    # first: before kedro-mlflow's hook reads its configuration
    @hook_impl(tryfirst=True)
    def after_context_created(self, context) -> None:
        self.configured = set(file_parameters(context.project_path, context.env))
        check_tracking_store(context)  # before kedro-mlflow's hook opens it

    # first: before kedro-mlflow opens a run that a wrong parameter would leave open
    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params, pipeline, catalog) -> None:
        unknown = sorted(set(run_params.get("runtime_params") or {}) - (self.configured or set()))
        if self.configured is not None and unknown:
            raise ValueError(
                f"--params names {', '.join(unknown)}, which no parameter file defines "
                f"(known: {', '.join(sorted(self.configured))})"
            )
        for node in pipeline.only_nodes_with_tags("parameters").nodes:
            node.run({name: catalog.load(name) for name in node.inputs})
