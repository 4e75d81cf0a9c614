"""Machinery shared by the hosted video backends: submit, poll with backoff, download, resume.

Every hosted generation is an asynchronous job. Before submitting, the estimated cost is shown
on the console. Right after the provider accepts the job its id is written to a **job file** in
the run directory (``jobs/<provider>_<candidate>.json``: provider, job id, a hash of the request,
status; never a key). If the run is interrupted while polling (Ctrl-C, a crash, the poll
timeout), running the same command again finds the job file with the same request hash and
resumes polling that job instead of paying for a new one. A job the provider failed is
submitted afresh on the next run.
"""

from __future__ import annotations

import abc
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from exoactor import artefacts
from exoactor.fileio import write_json
from exoactor.imagine.errors import JobFailed, JobTimeout
from exoactor.imagine.http import RetryPolicy
from exoactor.imagine.video.base import GeneratedClip, VideoGenerator, VideoRequest
from exoactor.imagine.video.clip import probe

logger = logging.getLogger(__name__)

JobState = Literal["running", "succeeded", "failed"]

TIMEOUT = ("{provider}: job {job_id} did not finish within {budget:g} s of polling (last "
           "status: {status}). It keeps running at the provider and its id is saved in {file}: "
           "run the same command again to resume polling it (no new charge), or raise "
           "poll_timeout_s")
FAILED = ("{provider}: job {job_id} failed: {message}. Change the prompt or the image (content "
          "filters reject some), then run again; a new job will be submitted")


class HostedVideoConfig(BaseModel):
    """Settings common to the hosted video backends (each backend sets its own defaults)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str
    """API root of the provider (a local fake server's URL under test)."""
    model: str
    """Provider model name."""
    retry: RetryPolicy = RetryPolicy()
    """HTTP timeouts and retries of each request."""
    poll_interval_s: float = Field(5.0, gt=0.0)
    """First wait between status polls [s]."""
    poll_max_interval_s: float = Field(30.0, gt=0.0)
    """Longest wait between polls [s]; the wait grows 1.5x per poll up to it."""
    poll_timeout_s: float = Field(900.0, gt=0.0)
    """Give up polling after this long [s] (the job id is kept for resuming)."""
    usd_per_second: float = Field(0.1, ge=0.0)
    """Price of one second of video [USD], for the estimate shown before submitting (a rough
    list price: set your plan's)."""


@dataclass(frozen=True)
class PollResult:
    """One status poll.

    Attributes:
        state: ``running``, ``succeeded`` or ``failed``.
        status: the provider's own status word.
        video_url: where to download the clip (when succeeded).
        message: the failure reason (when failed).
    """

    state: JobState
    status: str
    video_url: str | None = None
    message: str | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def file_sha256(path: Path | None) -> str | None:
    return None if path is None else hashlib.sha256(Path(path).read_bytes()).hexdigest()


class HostedVideoGenerator(VideoGenerator):
    """A provider's asynchronous video API (subclasses implement submit / poll / download)."""

    name = "hosted"
    config: HostedVideoConfig

    def __init__(self, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self._sleep = sleep
        self._clock = clock

    # -------------------------------------------------------------- provider protocol
    @abc.abstractmethod
    def submit(self, request: VideoRequest) -> str:
        """Submit the job; return the provider's job id."""

    @abc.abstractmethod
    def poll(self, job_id: str) -> PollResult:
        """Ask the provider for the job's status."""

    @abc.abstractmethod
    def fetch(self, result: PollResult, dest: Path) -> Path:
        """Download the finished clip to ``dest``."""

    @abc.abstractmethod
    def duration_s(self, request: VideoRequest) -> float:
        """Duration the provider will generate for ``request`` [s]."""

    # -------------------------------------------------------------- shared logic
    def cost_estimate_usd(self, request: VideoRequest) -> float | None:
        return round(self.duration_s(request) * self.config.usd_per_second, 2)

    def request_hash(self, request: VideoRequest) -> str:
        blob = json.dumps({"provider": self.name, "config": self.config.model_dump(
            mode="json", include={"base_url", "model"}), "extra": self.request_params(request),
            "prompt": request.prompt, "negative": request.negative_prompt,
            "image": file_sha256(request.image), "seed": request.seed}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def request_params(self, request: VideoRequest) -> dict[str, Any]:
        """Provider parameters that change the result (part of the request hash)."""
        return {"duration_s": self.duration_s(request)}

    def job_file(self, work_dir: Path, request: VideoRequest) -> Path:
        return Path(work_dir) / artefacts.hosted_job(self.name, request.index)

    def _announce_cost(self, request: VideoRequest) -> None:
        from exoactor.ui import console

        cost = self.cost_estimate_usd(request)
        console().print(f"{self.name}: submitting candidate {request.index} "
                        f"({self.config.model}, {self.duration_s(request):g} s of video): "
                        f"estimated cost ${cost:.2f} at ${self.config.usd_per_second:g}/s")
        logger.info("%s: estimated cost %.2f USD", self.name, cost)

    def generate(self, request: VideoRequest, out_path: Path, work_dir: Path) -> GeneratedClip:
        job_file = self.job_file(work_dir, request)
        req_hash = self.request_hash(request)
        record: dict[str, Any] | None = None
        if job_file.is_file():
            old = json.loads(job_file.read_text())
            if old.get("request_sha256") == req_hash and old.get("status") in (
                    "submitted", "running", "succeeded"):
                record = old
                logger.info("%s: resuming job %s from %s", self.name, old["job_id"], job_file)
                from exoactor.ui import console

                console().print(f"{self.name}: resuming job {old['job_id']} (saved in "
                                f"{job_file.name}); no new submission")
        if record is None:
            self._announce_cost(request)
            job_id = self.submit(request)
            record = {"provider": self.name, "model": self.config.model, "job_id": job_id,
                      "request_sha256": req_hash, "candidate": request.index,
                      "status": "submitted", "submitted": _now(),
                      "estimated_cost_usd": self.cost_estimate_usd(request)}
            write_json(job_file, record)
        result = self._wait(record, job_file)
        self.fetch(result, out_path)
        record.update(status="downloaded", finished=_now())
        write_json(job_file, record)
        info = probe(out_path)
        return GeneratedClip(path=out_path, fps=info.fps, num_frames=info.num_frames,
                             width_px=info.width_px, height_px=info.height_px,
                             generator=self.name, model=self.config.model, seed=request.seed,
                             notes={"job_id": record["job_id"],
                                    "estimated_cost_usd": record.get("estimated_cost_usd"),
                                    "polls": record.get("polls")})

    def _wait(self, record: dict[str, Any], job_file: Path) -> PollResult:
        cfg = self.config
        start = self._clock()
        wait = cfg.poll_interval_s
        polls = 0
        status = record.get("status", "submitted")
        while True:
            result = self.poll(record["job_id"])
            polls += 1
            if result.status != status or polls == 1:
                status = result.status
                record.update(status="running" if result.state == "running" else result.state,
                              provider_status=status, polls=polls)
                write_json(job_file, record)
            if result.state == "succeeded":
                record["polls"] = polls
                return result
            if result.state == "failed":
                record.update(status="failed", message=result.message, polls=polls)
                write_json(job_file, record)
                raise JobFailed(FAILED.format(provider=self.name, job_id=record["job_id"],
                                              message=result.message or "no reason given"))
            elapsed = self._clock() - start
            if elapsed + wait > cfg.poll_timeout_s:
                record["polls"] = polls
                write_json(job_file, record)
                raise JobTimeout(TIMEOUT.format(provider=self.name, job_id=record["job_id"],
                                                budget=cfg.poll_timeout_s, status=status,
                                                file=job_file))
            self._sleep(wait)
            wait = min(wait * 1.5, cfg.poll_max_interval_s)
