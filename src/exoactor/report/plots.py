"""Report plots as inline SVG strings (matplotlib, Agg backend, no files, no global state)."""

from __future__ import annotations

import io

import numpy as np

from exoactor.formats.motion import HumanMotion, Rollout


def _figure(width_in: float = 6.0, height_in: float = 2.6):  # noqa: ANN202
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=100, layout="constrained")
    return fig, fig.add_subplot()


def _svg(fig) -> str:  # noqa: ANN001
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    text = buf.getvalue()
    return text[text.index("<svg"):]


def joint_error_plot(rollout: Rollout, body_qpos_adr: np.ndarray, fall_time_s: float | None
                     ) -> str:
    """Mean |q - q_ref| over the body joints per control step [rad], with the fall marked."""
    fig, ax = _figure()
    if rollout.ref_dof_pos is not None:
        err = np.abs(rollout.qpos[:, body_qpos_adr] - rollout.ref_dof_pos).mean(axis=1)
        ax.plot(rollout.time_s, err, lw=1.2, color="#1f77b4", label="mean over joints")
        worst = np.abs(rollout.qpos[:, body_qpos_adr] - rollout.ref_dof_pos).max(axis=1)
        ax.plot(rollout.time_s, worst, lw=0.8, color="#aec7e8", label="worst joint")
        ax.legend(loc="upper right", fontsize=8)
    if fall_time_s is not None:
        ax.axvline(fall_time_s, color="#d62728", ls="--", lw=1.2)
        ax.text(fall_time_s, ax.get_ylim()[1] * 0.9, " fell", color="#d62728", fontsize=8)
    ax.set_xlabel("time [s]")
    ax.set_ylabel("joint error [rad]")
    ax.set_title("Joint tracking error", fontsize=10)
    return _svg(fig)


def root_trajectory_plot(rollout: Rollout) -> str:
    """Top view (x-y, world) of the reference root path against the simulated pelvis path [m]."""
    fig, ax = _figure(4.2, 4.2)
    robot_xy = rollout.qpos[:, :2]
    if rollout.ref_root_pos is not None:
        ref = rollout.ref_root_pos[:, :2]
        ax.plot(ref[:, 0], ref[:, 1], color="#7f7f7f", lw=1.5, ls="--", label="reference")
        ax.plot(*ref[-1], marker="x", color="#7f7f7f")
    ax.plot(robot_xy[:, 0], robot_xy[:, 1], color="#2ca02c", lw=1.5, label="robot (physics)")
    ax.plot(*robot_xy[0], marker="o", color="#2ca02c")
    ax.plot(*robot_xy[-1], marker="s", color="#2ca02c")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    ax.legend(fontsize=8)
    ax.set_title("Root trajectory, top view (o start, ■ end)", fontsize=10)
    return _svg(fig)


def contacts_plot(human: HumanMotion) -> str:
    """Per-foot ground contact over time (from perception)."""
    fig, ax = _figure(6.0, 1.8)
    t = np.arange(human.num_frames) / human.fps
    for i, (name, color) in enumerate((("left", "#1f77b4"), ("right", "#ff7f0e"))):
        c = human.foot_contact[:, i].astype(float)
        ax.fill_between(t, i + 0.1, i + 0.1 + 0.8 * c, step="mid", color=color, alpha=0.7,
                        label=f"{name} foot")
    ax.set_yticks([0.5, 1.5], ["left", "right"])
    ax.set_xlabel("time [s]")
    ax.set_title("Foot contacts", fontsize=10)
    return _svg(fig)


def grasp_plot(human: HumanMotion) -> str | None:
    """Grasp closure per hand over time, in [0, 1]; None when the motion has none."""
    if human.grasp is None:
        return None
    fig, ax = _figure(6.0, 1.8)
    t = np.arange(human.num_frames) / human.fps
    ax.plot(t, human.grasp[:, 0], label="left", color="#1f77b4")
    ax.plot(t, human.grasp[:, 1], label="right", color="#ff7f0e")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("time [s]")
    ax.set_ylabel("closure")
    ax.legend(fontsize=8)
    ax.set_title("Grasp closure (0 open, 1 closed)", fontsize=10)
    return _svg(fig)
