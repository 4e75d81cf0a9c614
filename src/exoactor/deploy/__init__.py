"""Deployment on a Unitree G1 over DDS, and a simulated G1 that speaks the same protocol.

- :mod:`~exoactor.deploy.sdk`: Unitree's Python SDK on CycloneDDS, imported and initialised on a
  named interface (loopback-only guard for tests).
- :mod:`~exoactor.deploy.crc`: the CRC the G1 checks (CRC-32/MPEG-2 over the packed message).
- :mod:`~exoactor.deploy.messages`: ``LowCmd_`` / ``LowState_`` to and from arrays.
- :mod:`~exoactor.deploy.timing`: fixed-rate loops and the rate/jitter they achieved.
- :mod:`~exoactor.deploy.estimate`: pelvis height and torso tilt from the IMU and encoders.
- :mod:`~exoactor.deploy.sim_robot`: ``exoactor sim-robot``, a MuJoCo G1 on DDS.
- :mod:`~exoactor.deploy.runtime`: ``exoactor deploy``, the operator flow, the 500 Hz command
  loop, the 50 Hz controller and the fault stops.

Nothing here is imported by ``import exoactor``; the SDK is imported on first use.
"""
