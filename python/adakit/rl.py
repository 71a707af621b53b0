"""Reinforcement learning (include/adakit/rl/), as ``adakit rl``: Q-learning or SARSA over a tile coder,
or tabular Q-learning, on cartpole (CartPole-v1) or mountaincar (MountainCar-v0), the TD updates made by any optimizer::

    summary, curve_csv = adakit.rl.run("cartpole", agent="q-linear", optimizer="adagrad", episodes=200, seed=0)
    summary["eval_mean"], summary["episodes_to_solve"], summary["curve"]

Keyword arguments mirror rl::RunOptions; those left at None take the environment's recipe.
"""

from ._adakit import rl_environments as environments
from ._adakit import rl_run as _rl_run

__all__ = ["run", "environments"]


def run(env, agent="q-linear", optimizer="adagrad", options=None, **kwargs):
    """rl::run: (summary dict, learning curve CSV text). `optimizer`: a name or a spec such as
    "adagrad:lr=0.5"; `options`: a dict of its options (they override the spec's)."""
    return _rl_run(env, agent, optimizer, options or {}, **kwargs)
