"""The report's GL rendering in a second process, beside the decoding, compositing and encoding.

MuJoCo's render call holds the GIL for its whole duration, so in one process the threads that
feed the video encoders and read the decoder stall while a frame renders, and the report runs
nearly serially. :class:`RenderProcess` starts a fresh Python interpreter (``python -m
exoactor.report.render_process``) that owns the GL context: it receives the robot model once
(MuJoCo's binary format, through a pipe, into a memory file) and the video's
:class:`~exoactor.report.frame_views.ViewJob`, then answers each
:class:`~exoactor.report.frame_views.ViewRequest` with the
:class:`~exoactor.report.frame_views.FrameViews` that
:class:`~exoactor.report.frame_views.LocalViews` would return here, bit for bit (same code, same
model, same GL backend: ``MUJOCO_GL`` is inherited).

Messages are pickles framed by their length, over the child's stdin and stdout (its own
``print`` goes to stderr, which is forwarded to this process's log). The child is a fresh
interpreter rather than a fork: a fork would inherit this process's threads and, where it had
drawn before, its GL state, and llvmpipe's or a GPU driver's state does not survive a fork.

Shutdown: :meth:`RenderProcess.close` (or leaving the context) sends a stop, waits for the child
and kills it if it does not end in :data:`STOP_TIMEOUT_S`. An error in the child comes back as a
:class:`RenderProcessError` naming the child's exception (with its traceback as the cause); a
child that dies is reported with its exit code or signal and the end of its stderr. A child
whose parent dies sees its stdin close and exits.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from exoactor.errors import ExoActorError
from exoactor.report.frame_views import FrameViews, ViewJob, ViewRequest

if TYPE_CHECKING:
    import mujoco

logger = logging.getLogger(__name__)

STOP_TIMEOUT_S = 20.0
"""How long :meth:`RenderProcess.close` waits for the child to finish its queued requests and
exit before killing it [s]."""
RESULT_TIMEOUT_S = 300.0
"""Longest wait for one answer of the child [s] (the first one includes loading the model and
making the GL context); beyond it the child counts as hung."""
PIPE_BYTES = 1 << 20
"""Capacity asked for the pipes to and from the child [bytes] (Linux's default limit for an
unprivileged process; a frame's views are ~0.2-1 MB)."""
_STDERR_TAIL_LINES = 20
"""Lines of the child's stderr quoted when it dies."""
_HEADER = struct.Struct("<Q")
"""A message's length [bytes], before the message."""
_EOF = object()
"""Queued by the reader when the child's stdout ends."""


class RenderProcessError(ExoActorError):
    """The report's render process failed or died."""


class _RemoteTraceback(Exception):
    """The child's traceback, chained as the cause of a :class:`RenderProcessError`."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f"\n\"\"\"\n{self.text}\"\"\""


def _send(stream: BinaryIO, payload: bytes | memoryview) -> None:
    stream.write(_HEADER.pack(payload.nbytes if isinstance(payload, memoryview) else len(payload)))
    stream.write(payload)
    stream.flush()


def _recv(stream: BinaryIO) -> bytes | None:
    """The next message, or None when the stream ends between messages."""
    head = stream.read(_HEADER.size)
    if not head:
        return None
    if len(head) < _HEADER.size:
        raise EOFError("the stream ended inside a message header")
    (n,) = _HEADER.unpack(head)
    payload = stream.read(n)
    if len(payload) < n:
        raise EOFError(f"the stream ended after {len(payload)} of a message's {n} bytes")
    return payload


def _widen(fd: int, size: int = PIPE_BYTES) -> None:
    """Make the pipe ``fd`` hold ``size`` bytes where the system allows it (Linux; else left
    as it is)."""
    import fcntl

    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), size)


def _dumps(obj: object) -> bytes:
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def model_buffer(model: mujoco.MjModel) -> np.ndarray:
    """``model`` in MuJoCo's binary format (MJB), as a uint8 array: what :func:`read_model`
    reads back (every array bit for bit)."""
    import mujoco

    buf = np.empty(mujoco.mj_sizeModel(model), dtype=np.uint8)
    mujoco.mj_saveModel(model, None, buf)
    return buf


def read_model(stream: BinaryIO, size: int) -> mujoco.MjModel:
    """The model of the next ``size`` bytes of ``stream`` (written by :func:`model_buffer`).

    On Linux the bytes go straight into a memory file that MuJoCo loads by its path (~0.13 s
    for the G1, against ~0.34 s through an in-memory asset).
    """
    import mmap

    from exoactor.report.render import _import_mujoco

    mujoco = _import_mujoco()
    if not hasattr(os, "memfd_create") or not Path("/proc/self/fd").is_dir():
        data = stream.read(size)
        if len(data) < size:
            raise EOFError(f"the stream ended after {len(data)} of the model's {size} bytes")
        return mujoco.MjModel.from_binary_path("model.mjb", {"model.mjb": data})
    fd = os.memfd_create("exoactor-report-model")
    try:
        os.ftruncate(fd, size)
        with mmap.mmap(fd, size) as mem:
            got = stream.readinto(mem)
        if got < size:
            raise EOFError(f"the stream ended after {got} of the model's {size} bytes")
        return mujoco.MjModel.from_binary_path(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)


class RenderProcess:
    """:class:`~exoactor.report.frame_views.Views` drawn by a second process (see the module's
    doc).

    Creating it starts the child, which imports MuJoCo while the caller goes on; :meth:`preload`
    sends it the model (it loads it and makes its GL context meanwhile), :meth:`load` the job.
    Then :meth:`submit` requests (several ahead: the child draws while this process works on
    earlier frames) and take each :meth:`result` in order.
    Use as a context manager, or call :meth:`close`.

    Raises:
        RenderProcessError: from :meth:`result`, when the child failed (its exception named),
            died, or did not answer within :data:`RESULT_TIMEOUT_S`.
    """

    def __init__(self) -> None:
        import exoactor

        src = str(Path(exoactor.__file__).resolve().parents[1])  # the child imports this code
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
        self._closed = False
        self._loaded: tuple[mujoco.MjModel, tuple[int, int]] | None = None
        self._outbox: queue.Queue = queue.Queue()
        self._inbox: queue.Queue = queue.Queue()
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=_STDERR_TAIL_LINES)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "exoactor.report.render_process"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.pid = self._proc.pid
        for pipe in (self._proc.stdin, self._proc.stdout):  # a frame per write, not 16
            _widen(pipe.fileno())
        self._threads = [threading.Thread(target=fn, name=f"report-render-{name}", daemon=True)
                         for name, fn in (("send", self._send_loop), ("recv", self._recv_loop),
                                          ("stderr", self._stderr_loop))]
        for t in self._threads:
            t.start()

    def __enter__(self) -> RenderProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the caller's side ---------------------------------------------------------------

    def preload(self, model: mujoco.MjModel, size: tuple[int, int]) -> None:
        """Send the robot's model (not modified) and the GL buffer's ``(width, height)`` [px]
        ahead of the job: the child loads the model and makes its GL context meanwhile."""
        if self._loaded is not None:
            raise ValueError("the render process already has a model")
        self._loaded = (model, (int(size[0]), int(size[1])))
        self._outbox.put(memoryview(model_buffer(model)))
        self._outbox.put(_dumps(self._loaded[1]))

    def load(self, model: mujoco.MjModel, job: ViewJob) -> RenderProcess:
        """Send the robot's model (unless :meth:`preload` sent it) and the video's view
        settings; returns self."""
        size = (job.max_width, job.max_height)
        if self._loaded is None:
            self.preload(model, size)
        elif self._loaded[0] is not model or self._loaded[1] != size:
            raise ValueError(f"the render process was preloaded with another model or GL "
                             f"buffer ({self._loaded[1]}) than the job's ({size})")
        self._outbox.put(_dumps(job))
        return self

    def submit(self, request: ViewRequest) -> None:
        """Queue ``request`` (sent in the background)."""
        self._outbox.put(_dumps(request))

    def result(self) -> FrameViews:
        """The views of the oldest request not yet answered."""
        try:
            msg = self._inbox.get(timeout=RESULT_TIMEOUT_S)
        except queue.Empty:
            raise RenderProcessError(
                f"the report's render process (pid {self.pid}) gave no frame in "
                f"{RESULT_TIMEOUT_S:.0f} s; it was stopped") from None
        if isinstance(msg, FrameViews):
            return msg
        if isinstance(msg, tuple) and msg and msg[0] == "error":
            _, kind, text, trace = msg
            raise RenderProcessError(
                f"the report's render process failed: {kind}: {text}") from _RemoteTraceback(trace)
        if isinstance(msg, BaseException):  # this side's reader failed
            raise RenderProcessError(f"reading the report's render process failed: "
                                     f"{type(msg).__name__}: {msg}") from msg
        raise RenderProcessError(self._death())

    def close(self) -> None:
        """Stop the child once it has answered what is queued (killing it after
        :data:`STOP_TIMEOUT_S`) and reap it; idempotent."""
        if self._closed:
            return
        self._closed = True
        self._outbox.put(None)
        try:
            self._proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            logger.warning("the report's render process (pid %d) did not stop in %.0f s; "
                           "killing it", self.pid, STOP_TIMEOUT_S)
            self._proc.kill()
            self._proc.wait()
        for t in self._threads:
            t.join(timeout=STOP_TIMEOUT_S)

    @property
    def returncode(self) -> int | None:
        """The child's exit status (None while it runs; ``-N``: killed by signal N)."""
        return self._proc.poll()

    def _death(self) -> str:
        try:
            code = self._proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            code = None
        for t in self._threads[2:]:  # the stderr reader: its last lines
            t.join(timeout=1.0)
        if code is None:
            how = "closed its output but did not exit"
        elif code < 0:
            try:
                how = f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"was killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        tail = "\n".join(self._stderr_tail)
        return (f"the report's render process (pid {self.pid}) {how} before answering"
                + (f"; its last messages:\n{tail}" if tail else " (it wrote nothing to stderr)"))

    # ---- threads -------------------------------------------------------------------------

    def _send_loop(self) -> None:
        stdin = self._proc.stdin
        try:
            while True:
                payload = self._outbox.get()
                if payload is None:
                    _send(stdin, b"")  # an empty message: stop
                    return
                _send(stdin, payload)
        except OSError:  # the child is gone: result() reports how
            pass
        finally:
            with contextlib.suppress(OSError):
                stdin.close()

    def _recv_loop(self) -> None:
        try:
            while True:
                payload = _recv(self._proc.stdout)
                if payload is None:
                    break
                self._inbox.put(pickle.loads(payload))
        except BaseException as err:  # noqa: BLE001 - handed to result()
            self._inbox.put(err)
        self._inbox.put(_EOF)

    def _stderr_loop(self) -> None:
        for raw in self._proc.stderr:
            line = raw.decode(errors="replace").rstrip()
            if line:
                self._stderr_tail.append(line)
                logger.info("render process: %s", line)


# ---- the child -------------------------------------------------------------------------------


def _serve(inp: BinaryIO, out: BinaryIO) -> None:
    """Answer the parent's messages: the model, the GL buffer's size, the job, then requests
    until a stop (an empty message) or the end of ``inp``."""
    from exoactor.report.frame_views import LocalViews
    from exoactor.report.render import _import_mujoco

    _import_mujoco()  # while the parent goes on
    head = inp.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return
    model = read_model(inp, _HEADER.unpack(head)[0])
    size_msg = _recv(inp)
    if not size_msg:
        return
    with LocalViews(model, size=pickle.loads(size_msg)) as local:  # before the job comes
        job_msg = _recv(inp)
        if not job_msg:
            return
        local.start(pickle.loads(job_msg))
        while True:
            msg = _recv(inp)
            if not msg:
                return
            local.submit(pickle.loads(msg))
            _send(out, _dumps(local.result()))


def main() -> int:
    """The render process's entry point (``python -m exoactor.report.render_process``)."""
    inp = os.fdopen(os.dup(0), "rb")
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to stderr, not into the frames
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        _serve(inp, out)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the parent is gone
        return 1
    except BaseException as err:  # noqa: BLE001 - reported to the parent
        import traceback

        try:
            _send(out, _dumps(("error", type(err).__name__, str(err), traceback.format_exc())))
        except OSError:
            traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
