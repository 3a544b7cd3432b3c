"""A run set (a paper table, a figure, any block with ``rows`` and ``benchmarks``) on Slurm: one
job prepares its benchmarks, an array job runs one row per task (a multi-node row as a job of its
own), a report job follows them. ``kedro cluster submit`` and ``kedro cluster status``
(``pvlr_kedro.cli``) drive it; plain ``sbatch`` scripts (``jobs``), the run set's rows and their
state (``rows``), the Slurm settings from ``conf/<env>/cluster.yml`` (``settings``).
"""
