"""Deployment on a Unitree G1 over DDS, and a simulated G1 that speaks the same protocol.

- :mod:`~exoactor.deploy.sdk`: Unitree's Python SDK on CycloneDDS, imported and initialised on a
  named interface (loopback-only guard for tests).
- :mod:`~exoactor.deploy.crc`: the CRC the G1 checks (CRC-32/MPEG-2 over the packed message).
- :mod:`~exoactor.deploy.messages`: ``LowCmd_`` / ``LowState_`` to and from arrays.
- :mod:`~exoactor.deploy.timing`: fixed-rate loops and the rate/jitter they achieved.
- :mod:`~exoactor.deploy.estimate`: pelvis height and torso tilt from the IMU and encoders.
- :mod:`~exoactor.deploy.sim_robot`: ``exoactor sim-robot``, a MuJoCo G1 on DDS (also
  mimicking Unitree's own simulator, ``--mimic unitree_mujoco``).
- :mod:`~exoactor.deploy.runtime`: ``exoactor deploy``, the operator flow; its jobs:
  :mod:`~exoactor.deploy.config` (config, result, exit codes), :mod:`~exoactor.deploy.link`
  (state shared with the DDS listeners), :mod:`~exoactor.deploy.command_loop` (500 Hz, fault
  stops), :mod:`~exoactor.deploy.preflight` (connect and checks), :mod:`~exoactor.deploy.plant`
  (the robot as a plant of the one tracking loop, :mod:`exoactor.control.loop`) and
  :mod:`~exoactor.deploy.recorder` (rollout and metrics).

Nothing here is imported by ``import exoactor``; the SDK is imported on first use.
"""
