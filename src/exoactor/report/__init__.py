"""Reports: videos of robot motions (and, later, pages that compare them).

:func:`render_motion` / :func:`render_qpos` write an mp4; :func:`iter_frames` yields the frames
for composing videos in memory. MuJoCo and the video encoder are imported only when used.
"""

from exoactor.report.render import RenderResult, iter_frames, render_motion, render_qpos

__all__ = ["RenderResult", "iter_frames", "render_motion", "render_qpos"]
