"""Stage processes forked from one that has imported TensorFlow: the import is paid once per ``reproduce``.

Importing TensorFlow and Keras costs ~7 s of CPU on the project's 2-core hosts (``python -X importtime -c "import
tensorflow"``), and every stage pays it again in its own ``python -m`` process: ~150 s of the tiny Doom pipeline's
20 stages. So on Linux, reproduce starts one helper process (:func:`serve`) that imports TensorFlow, Keras and the
project's model modules, then forks once per stage. Importing runs no TensorFlow op, so the helper has no
TensorFlow thread pool to lose in the fork (:func:`serve` checks that TensorFlow's runtime is not initialized and
refuses otherwise). The child runs the stage as ``python -m <package> <command> ...`` would (``runpy``,
``sys.argv``), its stdout and stderr on a pipe that reproduce reads as it read the subprocess's. Anything the stage
starts itself (its worker pools) is a fresh process, as before.

Elsewhere (macOS: forking after system frameworks are loaded is unsafe), with ``WM_PRELOAD=0``, or when the
helper cannot serve, each stage is a fresh ``python -m`` process (``subprocess.Popen``).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
PRELOAD = ("common", "tensorflow", "keras", "vae.model", "rnn.model", "controller.model", "controller.dream")
START_TIMEOUT = 300.0  # seconds for the helper to import PRELOAD and fork; past it, stages run as fresh processes


def available() -> bool:
    """Forked stages on Linux unless WM_PRELOAD=0."""
    return sys.platform == "linux" and os.environ.get("WM_PRELOAD", "1") != "0"


class Helper:
    """The preloaded helper process of one reproduce run; :meth:`start` forks a stage from it."""

    def __init__(self, env: dict[str, str]):
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", f"from reports.preloaded import serve; serve({theirs.fileno()})"],
                cwd=_ROOT, env=env, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self, argv: list[str]) -> "ForkedStage":
        """Fork ``python -m <argv[2]> <argv[3:]>`` (``argv`` as for Popen); OSError when the helper cannot."""
        if argv[1] != "-m":
            raise ValueError(f"a stage is `python -m package ...`, got {argv[:3]}")
        read, write = os.pipe()
        try:
            socket.send_fds(self._sock, [json.dumps({"module": argv[2], "args": argv[3:]}).encode()], [write])
        finally:
            os.close(write)
        self._sock.settimeout(START_TIMEOUT)  # the helper's first answer waits for its imports
        try:
            reply = self._sock.recv(256).decode()
        except OSError:  # a timeout included: kill the helper, so it cannot start the stage after reproduce has
            os.close(read)  # started it afresh
            self._proc.kill()
            raise
        finally:
            self._sock.settimeout(None)
        if not reply.startswith("pid "):
            os.close(read)
            raise OSError(f"the preloaded helper did not start the stage ({reply or 'it has exited'})")
        return ForkedStage(int(reply.split()[1]), os.fdopen(read, "rb"), self._sock)

    def close(self) -> None:
        self._sock.close()  # the helper's next receive reads end-of-file and it exits
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


class ForkedStage:
    """A forked stage with the part of ``subprocess.Popen`` that reproduce uses (stdout, wait, terminate, kill)."""

    def __init__(self, pid: int, stdout, sock: socket.socket):
        self.pid, self.stdout, self._sock, self.returncode = pid, stdout, sock, None

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self._sock.settimeout(timeout)
            try:
                reply = self._sock.recv(256).decode()
            except socket.timeout:
                raise subprocess.TimeoutExpired(f"stage pid {self.pid}", timeout) from None
            finally:
                self._sock.settimeout(None)
            if not reply.startswith("exit "):
                raise OSError(f"the preloaded helper lost stage pid {self.pid} ({reply or 'it has exited'})")
            self.returncode = int(reply.split()[1])
            self.stdout.close()
        return self.returncode

    def terminate(self) -> None:
        self._signal(15)

    def kill(self) -> None:
        self._signal(9)

    def _signal(self, number: int) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, number)
            except ProcessLookupError:
                pass


def serve(fd: int) -> None:
    """The helper: import PRELOAD, then fork one stage per request until reproduce closes the socket."""
    import importlib
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the stage and reproduce; the helper reports it
    sock = socket.socket(fileno=fd)
    for name in PRELOAD:
        importlib.import_module(name)
    from tensorflow.python.eager import context

    # A forked child of a process with TensorFlow's thread pools would lack their threads: refuse to fork then.
    unsafe = "TensorFlow's runtime was initialized while importing" if context.context()._initialized else ""
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, 65536, 1)
        except OSError:
            return
        if not message:
            return
        if unsafe:
            for out in fds:
                os.close(out)
            sock.send(f"refused: {unsafe}".encode())
            continue
        request = json.loads(message)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            sock.close()
            _run_stage(request["module"], request["args"], fds[0])
        os.close(fds[0])
        sock.send(f"pid {pid}".encode())
        _, status = os.waitpid(pid, 0)
        sock.send(f"exit {os.waitstatus_to_exitcode(status)}".encode())


def _run_stage(module: str, args: list[str], out: int) -> None:
    """In the forked child: ``python -m module *args`` with stdout and stderr on ``out``; never returns."""
    import atexit
    import runpy
    import signal
    import traceback

    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.argv = [module, *args]
    code = 0
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            code = stop.code or 0
        else:  # sys.exit("message"), as the interpreter does: the message on stderr, exit code 1
            print(stop.code, file=sys.stderr)
            code = 1
    except BaseException:  # noqa: BLE001  (as an uncaught exception in `python -m`: the traceback, exit code 1)
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()  # what the interpreter runs at exit: multiprocessing's cleanup, TensorBoard writers
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
