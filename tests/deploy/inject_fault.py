"""Run one deployment with an injected fault, in its own process (as ``exoactor deploy`` runs).

    python inject_fault.py {loop_error,hung_controller} DOMAIN MOTION OUT

Exits with the deployment's exit code; ``OUT/deploy_metrics.json`` holds the reason.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def main() -> int:
    fault, domain, motion, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
    from exoactor.deploy import messages
    from exoactor.deploy.runtime import DeployConfig, Deployment
    from exoactor.formats import load_motion

    cfg = DeployConfig(domain_id=domain, interface="lo", start="auto", ramp_s=1.0,
                       stale_state_ms=300.0, heartbeat_ms=100.0)
    dep = Deployment(load_motion(motion), cfg, out_dir=out)
    calls = {"n": 0}
    if fault == "loop_error":
        real = messages.fill_lowcmd

        def flaky(msg, command, mode_machine):
            calls["n"] += 1
            if calls["n"] == 800:  # once, mid-run
                raise RuntimeError("injected publish failure")
            real(msg, command, mode_machine)

        messages.fill_lowcmd = flaky
    elif fault == "hung_controller":
        act = dep.controller.act

        def slow(state, reference):
            calls["n"] += 1
            if calls["n"] == 30:
                time.sleep(0.5)  # a hung policy step
            return act(state, reference)

        dep.controller.act = slow
    else:
        raise SystemExit(f"unknown fault {fault!r}")
    return dep.run().exit_code


if __name__ == "__main__":
    sys.exit(main())
