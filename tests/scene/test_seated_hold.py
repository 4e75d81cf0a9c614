"""A hold of the physics filter from a seated robot stands it up; it does not launch it.

On the bench dev clip (i16j) the filter switched in one control step from a perched pose to
the standing posture ("hold_stand"): TWIST2 extended its legs at once, the robot left the floor
(pelvis 0.975 m, no foot contact) and landed on the seat at 7.4x its weight. Here the same
happens on a synthetic stool: the robot tracks a sit-down onto the seat the scene rule infers,
then every hold plan is simulated from the seated state.
"""

import pytest

pytest.importorskip("mink")


@pytest.mark.slow
def test_a_hold_from_a_seat_ramps_up_without_leaving_the_floor():
    from scene_synthetic import sit_reference

    from exoactor.control.filter.config import FilterConfig, ObjectiveWeights
    from exoactor.control.filter.decisions import IDENTITY, hold_must_ramp, hold_plans
    from exoactor.control.filter.plant import Plant, PlantSetup
    from exoactor.formats.scene import Scene
    from exoactor.scene.infer import infer_scene

    motion = sit_reference(stand_s=0.5, down_s=1.5, seated_s=3.0, up_s=1.5)
    seats = [o for o in infer_scene(motion).objects if o.kind == "seat"]
    assert seats
    plant = Plant(PlantSetup(motion, scene=Scene(fps=motion.fps, objects=tuple(seats))), 3)
    w = ObjectiveWeights()
    seated = 120  # 2.4 s: 0.4 s into the seated phase
    run = plant.simulate([plant.initial_state()], IDENTITY[None, None].repeat(3, 1), seated,
                         seated, w, strict=False)
    state = run.states[0]
    assert state is not None and run.records[0].qpos[-1, 2] < 0.55  # sitting
    z = float(run.records[0].qpos[-1, 2])
    ramp = hold_must_ramp(z, float(plant.table.stand_mimic[2]), FilterConfig().hold_ramp_below_m)
    assert ramp  # as the planner decides it
    plans, labels = hold_plans(IDENTITY, ramp=ramp)
    steps = 75  # 1.5 s
    out = plant.simulate([state] * len(plans), plans, steps, steps, w, strict=False)
    stand_z = 0.80  # the G1's standing pelvis height is ~0.78-0.79 m
    for label, rec, fall in zip(labels, out.records, out.fall_step):
        z, vz = rec.qpos[:, 2], rec.qvel[:, 2]
        # before: the instant "hold_stand" and "hold_stand_turn" reached 1.04 m at 3.1 m/s and fell
        assert z.max() < stand_z + 0.03, (label, z.max())
        assert vz.max() < 2.0, (label, vz.max())
        assert fall == -1 and z[-1] > 0.7, (label, fall, z[-1])  # it stands up
