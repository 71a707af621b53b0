"""Reports (include/adakit/report/, include/adakit/tour/): comparing optimizers over seeds as
``adakit compare`` does, and the guided tour of ``adakit demo``::

    c = adakit.report.compare("minimize", ["adagrad", "adam:lr=0.1"], seeds=3, function="rosenbrock", steps=500)
    print(c.table()); c.results()["adagrad"]["metrics"]["loss"]["mean"]
    summaries, html = adakit.report.run_demos(["minimize"], "out", quick=True)
"""

from ._adakit import Comparison, compared_metrics, demo_names, run_demos

__all__ = ["Comparison", "compare", "compared_metrics", "demo_names", "run_demos"]


def _run_task(task, spec, seed, kwargs):
    if task == "minimize":
        from . import minimize
        kwargs = dict(kwargs)
        function = kwargs.pop("function", "quadratic")
        runs, _ = minimize([function], [spec], seed=seed, **kwargs)
        return runs[0]
    if task == "rl":
        from . import rl
        kwargs = dict(kwargs)
        env = kwargs.pop("env")
        summary, _ = rl.run(env, optimizer=spec, seed=seed, **kwargs)
        return summary
    if task == "train":
        from . import nn
        _, report = nn.train(optimizer=spec, seed=seed, **kwargs)
        return report
    raise ValueError(f"compare runs train, minimize or rl, not {task!r}")


def compare(task, optimizers, seeds=3, seed=0, out=None, **task_kwargs):
    """Runs `task` ("train", "minimize" or "rl": the keyword arguments of adakit.nn.train,
    adakit.minimize or adakit.rl.run) with every optimizer spec over seeds seed .. seed+seeds-1, in
    this process, and returns the report::Comparison of the runs. `out`: a directory for
    summary.csv and the plots."""
    if isinstance(optimizers, str):
        optimizers = [s for s in optimizers.split(",") if s] if ":" not in optimizers else [optimizers]
    c = Comparison(task, seeds, seed)
    for spec in optimizers:
        for s in range(seed, seed + seeds):
            c.add(spec, s, _run_task(task, spec, s, task_kwargs))
    if out is not None:
        import os
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "summary.csv"), "w") as f:
            f.write(c.summary_csv())
        c.write_plots(out)
    return c
