"""Project hooks: every parameter check runs before any node does real work."""

from __future__ import annotations

from kedro.framework.hooks import hook_impl


class ValidateParametersFirst:
    """Runs the nodes tagged ``parameters`` (cheap checks of parameter blocks) before the pipeline,
    so that ``--params=demo.train.epochs=-1`` fails at once instead of after ingestion."""

    @hook_impl
    def before_pipeline_run(self, run_params, pipeline, catalog) -> None:
        for node in pipeline.only_nodes_with_tags("parameters").nodes:
            node.run({name: catalog.load(name) for name in node.inputs})
