"""The FTP server of the file drop (pyftpdlib), for merchants whose tools only speak FTP.

Same logins and rules as SFTP: the tenant's folder is the session's ``/``; files are uploaded
to that root only; ``archive/`` and ``results/`` can be read, listed and cleaned up; folders
cannot be created or removed. A file received completely in the root, or renamed to its final
name there, is handed to the intake. Plain FTP sends passwords in clear: offer it on trusted
networks, SFTP elsewhere.

Each connection runs in a thread of its own (pyftpdlib's ThreadedFTPServer), so a login,
which checks an argon2 hash in the database, never stalls the other sessions.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from retailhub.files import accounts, intake, storage

with warnings.catch_warnings():
    # On Python 3.11 pyftpdlib runs on the standard library's asyncore and asynchat, which
    # warn on import that 3.12 drops them (pyftpdlib then installs their backports).
    warnings.filterwarnings(
        "ignore", r"The (asyncore|asynchat) module is deprecated", DeprecationWarning
    )
    from pyftpdlib.authorizers import AuthenticationFailed, DummyAuthorizer
    from pyftpdlib.filesystems import AbstractedFS, FilesystemError
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.ioloop import IOLoop
    from pyftpdlib.servers import ThreadedFTPServer

log = logging.getLogger(__name__)
# pyftpdlib configures logging itself, process-wide, when its logger has no handler; this one
# tells it not to, and its records still reach the application's handlers.
logging.getLogger("pyftpdlib").addHandler(logging.NullHandler())

SOURCE = "ftp"
# pyftpdlib's permission letters: e (cd), l (list), r (read), a (append), d (delete),
# f (rename), m (mkdir), w (store), M (chmod), T (set times).
PERMS = "elradfwT"

# Completed uploads are registered here: the intake blocks (hashing, database).
_intake_threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ftp-intake")


def _upload_complete(slug: str, path: Path) -> None:
    try:
        # Looked up at call time: the intake is the one to call, whatever replaced it.
        intake.upload_complete(slug, path, SOURCE)
    except Exception:
        log.exception("intake of %s (tenant %s) failed", path, slug)


class TenantAuthorizer(DummyAuthorizer):  # type: ignore[misc]
    """Logins from the tenants' SFTP/FTP credentials; the permissions of the file drop."""

    def __init__(self) -> None:
        super().__init__()
        # Usernames that logged in, and their tenant (one per username).
        self._slugs: dict[str, str] = {}

    def validate_authentication(self, username: str, password: str, handler: Any) -> None:
        slug = accounts.authenticate(username, password)
        if slug is None:
            raise AuthenticationFailed("Authentication failed.")
        self._slugs[username] = slug

    def slug_of(self, username: str) -> str:
        return self._slugs[username]

    def get_home_dir(self, username: str) -> str:
        return str(storage.tenant_root(self._slugs[username]))

    def has_user(self, username: str) -> bool:
        return username in self._slugs

    def get_perms(self, username: str) -> str:
        return PERMS

    def get_msg_login(self, username: str) -> str:
        return "Welcome. Upload files to this folder; archive/ and results/ hold the rest."

    def get_msg_quit(self, username: str) -> str:
        return "Goodbye."

    def has_perm(self, username: str, perm: str, path: str | None = None) -> bool:
        """Whether ``username`` may do ``perm`` on ``path`` (a real path, which pyftpdlib
        has already checked lies inside the user's home, symbolic links resolved)."""
        if username not in self._slugs or perm not in PERMS:
            return False
        if path is None:
            return True
        home = storage.tenant_root(self._slugs[username], create=False)
        real = Path(os.path.realpath(path))
        if perm in "elr":
            return True
        if perm in "waT":
            return real.parent == home and not real.is_dir()
        # d: delete a file anywhere (RMD asks for it too: folders stay); f: rename a file,
        # the handler checks the new name as an upload.
        return real != home and not real.is_dir()


class TenantFS(AbstractedFS):  # type: ignore[misc]
    def readlink(self, path: str) -> str:
        # Listings show where a link points only inside the folder, never the server's paths.
        if not self.validpath(path):
            raise FilesystemError("link to outside the folder")
        return str(self.fs2ftp(os.path.realpath(path)))


class TenantFTPHandler(FTPHandler):  # type: ignore[misc]
    authorizer = TenantAuthorizer()
    abstracted_fs = TenantFS
    banner = "Retailhub file drop ready."
    # STOU writes where pyftpdlib does not check links; nobody needs it for a file drop.
    proto_cmds = {cmd: spec for cmd, spec in FTPHandler.proto_cmds.items() if cmd != "STOU"}
    _rnfr: str | None  # the file named by RNFR, set by pyftpdlib

    def on_file_received(self, file: str) -> None:
        self._report(file)

    def ftp_RNTO(self, path: str) -> tuple[str, str] | None:
        if self._rnfr and not self.authorizer.has_perm(self.username, "w", path):
            self._rnfr = None
            self.respond("550 Files can only be uploaded to the top folder.")
            return None
        renamed: tuple[str, str] | None = super().ftp_RNTO(path)
        if renamed is not None:
            self._report(renamed[1])
        return renamed

    def _report(self, file: str) -> None:
        real = Path(os.path.realpath(file))
        if storage.is_importable(Path(self.fs.root), real):
            _intake_threads.submit(_upload_complete, self.authorizer.slug_of(self.username), real)


class _Server(ThreadedFTPServer):  # type: ignore[misc]
    # How often connection threads check for shutdown.
    poll_timeout = 0.2

    def __init__(self, address: tuple[str, int], ioloop: IOLoop) -> None:
        super().__init__(address, TenantFTPHandler, ioloop=ioloop)
        # Class attributes in pyftpdlib, shared by every server of the process.
        self._exit = threading.Event()
        self._lock = threading.Lock()

    def _start_task(self, *args: Any, **kwargs: Any) -> threading.Thread:
        return threading.Thread(*args, daemon=True, **kwargs)


class FtpServer:
    """The FTP listener, served by a thread of its own."""

    def __init__(self) -> None:
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        return int(self._server.address[1])

    def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (0: any free port); returns the port. Raises OSError
        when the address cannot be bound."""
        ioloop = IOLoop()
        try:
            self._server = _Server((host, port), ioloop)
        except BaseException:
            ioloop.close()
            raise
        self._thread = threading.Thread(target=self._serve, name="retailhub-ftp", daemon=True)
        self._thread.start()
        log.info("FTP server listening on %s:%d", host, self.port)
        return self.port

    def _serve(self) -> None:
        assert self._server is not None
        try:
            # One poll at a time, so that this thread sees stop() and closes the server
            # itself: pyftpdlib's IO loops are not thread-safe.
            while not self._stopping.is_set():
                self._server.serve_forever(timeout=0.2, blocking=False, handle_exit=False)
        except Exception:
            log.exception("FTP server failed")
        finally:
            self._server.close_all()

    def stop(self, timeout: float = 10) -> None:
        """Stop listening and close the connections."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("FTP server did not stop within %s s", timeout)
            self._thread = None
