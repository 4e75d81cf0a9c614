"""Filter the chatter native libraries (TFLite, absl, glog: MediaPipe's) write to stderr.

These libraries write to file descriptor 2 from C++, below Python's ``sys.stderr`` and
``logging``, and ignore ``GLOG_minloglevel`` / ``TF_CPP_MIN_LOG_LEVEL`` once their log is
initialised. :class:`NativeLogFilter` points fd 2 at a pipe and forwards every line that is not
such chatter to the real stderr. It is started by the command line for the stages that run
MediaPipe (``exoactor perceive`` and the commands that run it), unless ``--verbose``; importing
exoactor changes nothing.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading

NATIVE_CHATTER = (
    # absl / glog info and warning lines: "W0000 00:00:1796508976.304796   16984 file.cc:114] ..."
    re.compile(rb"^[IW]\d{4} \d\d:\d\d:\d+(\.\d+)?\s+\d+ [\w./+-]+:\d+\] "),
    # absl's notice before its log is initialised
    re.compile(rb"^WARNING: All log messages before absl::InitializeLog\(\) is called"),
    # TFLite's own logger ("INFO: Created TensorFlow Lite XNNPACK delegate for CPU.")
    re.compile(rb"^INFO: "),
)
"""Lines dropped: native info and warning messages. Errors (``E``/``F`` lines, ``ERROR:``) and
everything else, exoactor's own log lines included, pass."""


def is_native_chatter(line: bytes) -> bool:
    """Whether one stderr line (bytes, without its newline) is native info/warning chatter."""
    return any(p.match(line) for p in NATIVE_CHATTER)


class NativeLogFilter:
    """While started, stderr lines matching :data:`NATIVE_CHATTER` are dropped (process-wide,
    children included); :meth:`stop` restores fd 2 and forwards what is still buffered."""

    def __init__(self) -> None:
        self._saved: int | None = None
        self._thread: threading.Thread | None = None
        self.dropped = 0

    def start(self) -> NativeLogFilter:
        if self._saved is not None:
            return self
        sys.stderr.flush()
        read_fd, write_fd = os.pipe()
        self._saved = os.dup(2)
        os.dup2(write_fd, 2)
        os.close(write_fd)
        self._thread = threading.Thread(target=self._pump, args=(read_fd, self._saved),
                                        name="native-log-filter", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._saved is None:
            return
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        saved, self._saved = self._saved, None
        os.dup2(saved, 2)  # closes the pipe's last write end here: the pump sees EOF
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        os.close(saved)

    def __enter__(self) -> NativeLogFilter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _pump(self, read_fd: int, out_fd: int) -> None:
        out = os.dup(out_fd)  # stays valid after stop() closes the saved descriptor
        pending = b""
        try:
            while chunk := os.read(read_fd, 65536):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                keep = [ln for ln in lines if not is_native_chatter(ln)]
                self.dropped += len(lines) - len(keep)
                if keep:
                    os.write(out, b"\n".join(keep) + b"\n")
            if pending and not is_native_chatter(pending):
                os.write(out, pending)
        except OSError:
            pass
        finally:
            os.close(read_fd)
            os.close(out)
