"""The keyword-spotting benchmark (``egs/gsc_qut/kws/benchmark.sh``): its rows
(:mod:`~iaug.benchmark.rows`, from ``benchmark_rows.yaml``), the noisy dev set
of its dev choices (:mod:`~iaug.benchmark.noisy_dev`), a finished seed's
committed files (:mod:`~iaug.benchmark.collect`) and the report made from
those files alone (:mod:`~iaug.benchmark.report`, over the tables of
:mod:`~iaug.benchmark.tables`)."""
