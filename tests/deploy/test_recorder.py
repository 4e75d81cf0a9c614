"""``deploy_metrics``: what a deployment reports when the loop stopped before the clip began."""

from __future__ import annotations

import numpy as np

from exoactor.deploy.recorder import deploy_metrics, deploy_rows


def test_a_loop_stopped_before_the_clip_reports_zero_clip_time_evaluated():
    rows = deploy_rows({}, n_body=29, hands=False)
    assert deploy_metrics(rows, 5.0, False, estimator=None) == {"evaluated_s": 0.0}
    # standby steps only (negative clip time): nothing of the clip was evaluated either
    rows = {k: np.zeros((2, 29)) for k in ("q", "ref_q")} | {"clip_t": np.array([-0.4, -0.2])}
    assert deploy_metrics(rows, 5.0, False, estimator=None) == {"evaluated_s": 0.0}
