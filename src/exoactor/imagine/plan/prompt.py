"""The final prompt text: the five sections in a fixed layout, and the camera rules.

Every planner returns sections; this module alone decides how they become the text a video
model reads, so prompts from the template planner and from an LLM look alike.
"""

from __future__ import annotations

from exoactor.imagine.plan.base import CameraConstraints, PromptSections

SECTION_LABELS = (("shot", "Shot"), ("scene", "Scene"), ("motion", "Motion"),
                  ("execution", "Execution"), ("end_state", "End state"))
"""Section field -> label, in prompt order."""

NEGATIVE_PROMPT = ("camera motion, panning, zooming, shaky camera, cuts, scene change, "
                   "several people, cropped body, feet out of frame, blurry, distorted limbs, "
                   "extra limbs, morphing objects, text, watermark")
"""Default negative prompt for models that take one."""

EDIT_PROMPT = ("Replace the robot in this photo with an ordinary adult person standing in the "
               "same place, with the same pose, body orientation, height and scale. Keep the "
               "camera viewpoint, framing, lighting, background and every object exactly as "
               "they are. The person's whole body, head to feet, is visible. Photorealistic.")
"""Default instruction for the scene editor."""


def camera_sentence(camera: CameraConstraints) -> str:
    """The camera rules as one sentence appended to the Shot section."""
    parts = []
    if camera.fixed:
        parts.append("the camera is fixed: no pan, tilt, zoom or cut")
    if camera.whole_body:
        parts.append("the person's whole body stays inside the frame")
    if camera.single_person:
        parts.append("only one person is in the video")
    return ("; ".join(parts).capitalize() + ".") if parts else ""


def compose_prompt(sections: PromptSections, camera: CameraConstraints) -> str:
    """Join the sections into the final prompt (one labelled paragraph each)."""
    lines = []
    for field, label in SECTION_LABELS:
        text = getattr(sections, field).strip()
        if field == "shot":
            rule = camera_sentence(camera)
            if rule and rule.lower() not in text.lower():
                text = f"{text} {rule}".strip()
        lines.append(f"{label}: {text}")
    return "\n".join(lines)
