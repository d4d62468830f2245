"""The file drop's SFTP and FTP servers, run in background threads of ``retailhub serve``."""

from __future__ import annotations

import asyncio
import errno
import logging
import threading
from types import TracebackType

from retailhub.files.ftp import FtpServer
from retailhub.files.sftp import SftpServer

log = logging.getLogger(__name__)


class FileServerError(RuntimeError):
    """A file server could not start."""


def _listen_error(protocol: str, host: str, port: int, exc: OSError) -> FileServerError:
    # pyftpdlib wraps the socket's error in another OSError.
    cause = exc.args[0] if exc.errno is None and exc.args else exc
    if getattr(cause, "errno", None) == errno.EADDRINUSE:
        return FileServerError(f"{protocol} port {port} on {host} is already in use")
    return FileServerError(f"cannot listen for {protocol} on {host}:{port}: {cause}")


class FileServers:
    """The SFTP server (an asyncio loop in a thread) and the FTP server (threads of its own).

    A port of 0 picks a free port, readable from ``sftp_port`` / ``ftp_port`` once started;
    None leaves that server off."""

    def __init__(self, host: str, sftp_port: int | None, ftp_port: int | None) -> None:
        self.host = host
        self.sftp_port = sftp_port
        self.ftp_port = ftp_port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._sftp: SftpServer | None = None
        self._ftp: FtpServer | None = None

    def start(self) -> None:
        """Start listening; raises FileServerError (nothing left running) when a port is
        taken or the address is wrong."""
        try:
            if self.sftp_port is not None:
                self._start_sftp(self.sftp_port)
            if self.ftp_port is not None:
                ftp = FtpServer()
                try:
                    self.ftp_port = ftp.start(self.host, self.ftp_port)
                except OSError as exc:
                    raise _listen_error("FTP", self.host, self.ftp_port, exc) from exc
                self._ftp = ftp
        except BaseException:
            self.stop()
            raise

    def _start_sftp(self, port: int) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=self._run_loop, args=(loop,), name="retailhub-sftp", daemon=True
        )
        self._thread.start()
        sftp = SftpServer()
        started = asyncio.run_coroutine_threadsafe(sftp.start(self.host, port), loop)
        try:
            self.sftp_port = started.result(timeout=30)
        except OSError as exc:
            raise _listen_error("SFTP", self.host, port, exc) from exc
        self._sftp = sftp

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
            # Blocking calls (logins, the intake) still running finish first.
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()

    def stop(self, timeout: float = 10) -> None:
        """Close both servers and their connections; returns within about ``timeout``."""
        if self._ftp is not None:
            self._ftp.stop(timeout)
            self._ftp = None
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._sftp is not None:
            stopped = asyncio.run_coroutine_threadsafe(self._sftp.stop(), loop)
            try:
                stopped.result(timeout)
            except Exception:
                log.exception("SFTP server did not stop cleanly")
            self._sftp = None
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if thread.is_alive():
            log.warning("SFTP server thread did not stop within %s s", timeout)
        self._loop = self._thread = None

    def __enter__(self) -> FileServers:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
