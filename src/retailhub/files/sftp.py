"""The SFTP server of the file drop (asyncssh).

A login (password, or one of the tenant's SSH keys) opens an SFTP session confined to the
tenant's folder, which the client sees as ``/``. Files are uploaded to that root only;
``archive/`` and ``results/`` can be read, listed and cleaned up. A file closed after writing,
or renamed to its final name, in the root is handed to the intake. No shell, no commands, no
forwarding: the SFTP subsystem is all the server offers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import asyncssh
from asyncssh.constants import FXF_APPEND, FXF_CREAT, FXF_EXCL, FXF_TRUNC, FXF_WRITE

from retailhub.config import get_settings
from retailhub.files import accounts, intake, storage

log = logging.getLogger(__name__)

HOST_KEY_FILE = "ssh_host_ed25519_key"
SOURCE = "sftp"
_WRITE_FLAGS = FXF_WRITE | FXF_APPEND | FXF_CREAT | FXF_TRUNC | FXF_EXCL

T = TypeVar("T")


def host_key() -> asyncssh.SSHKey:
    """The server's host key, generated on first use and kept in the data directory (mode
    0600): clients pin it, so it must survive restarts."""
    data_dir = get_settings().data_dir
    path = data_dir / HOST_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key = asyncssh.generate_private_key("ssh-ed25519")
        fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=f".{HOST_KEY_FILE}.")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(key.export_private_key())
            # A link fails if the key exists: of two processes starting at once, both end
            # up serving the key of the first.
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return asyncssh.read_private_key(path)


async def _off_loop(function: Callable[..., T], *args: object) -> T:
    """Run a blocking call (database, argon2, the intake) in a thread."""
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)


def _key_login(username: str) -> tuple[str | None, set[bytes]]:
    """The tenant of a username and the public keys that log in as it."""
    slug = accounts.tenant_of(username)
    keys: set[bytes] = set()
    if slug is not None:
        for line in accounts.public_keys(username):
            try:
                keys.add(asyncssh.import_public_key(line).public_data)
            except (asyncssh.KeyImportError, ValueError):
                log.warning("ignoring an unreadable SSH key registered for %s", username)
    return slug, keys


def _upload_complete(slug: str, path: Path) -> None:
    # Looked up at call time: the intake is the one to call, whatever replaced it.
    intake.upload_complete(slug, path, SOURCE)


class _Login(asyncssh.SSHServer):
    """One client connection: the tenant each username it proved logs in as."""

    def __init__(self, connections: set[asyncssh.SSHServerConnection]) -> None:
        self._connections = connections
        self._conn: asyncssh.SSHServerConnection | None = None
        self._slugs: dict[str, str] = {}
        self._key_logins: dict[str, tuple[str | None, set[bytes]]] = {}

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._connections.discard(self._conn)

    def slug_of(self, username: str) -> str:
        return self._slugs[username]

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    async def validate_password(self, username: str, password: str) -> bool:
        slug = await _off_loop(accounts.authenticate, username, password)
        if slug is None:
            return False
        self._slugs[username] = slug
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        # Called once to ask whether a key would do, again with its signature: one lookup.
        if username not in self._key_logins:
            self._key_logins[username] = await _off_loop(_key_login, username)
        slug, keys = self._key_logins[username]
        if slug is None or key.public_data not in keys:
            return False
        self._slugs[username] = slug
        return True


def _session_ending(chan: asyncssh.SSHServerChannel[bytes]) -> bool:
    """Whether the client has stopped sending (end of file, channel closed, connection lost).

    asyncssh closes the files a session left open through the same ``close()`` as a client's
    request, and has no public way to tell that the client sent its end of file: the
    channel's receive state is read directly (tests/test_file_servers.py pins it). A client
    that sent its end of file right after a close, without waiting for the reply, would have
    that upload taken as cut short; clients (OpenSSH, asyncssh, libssh2) wait."""
    return chan.is_closing() or getattr(chan, "_recv_state", "open") != "open"


def _times_and_size(attrs: asyncssh.SFTPAttrs) -> asyncssh.SFTPAttrs:
    """The attributes a client may set: not permissions or owners, which could lock the
    intake out of a file."""
    return asyncssh.SFTPAttrs(
        size=attrs.size,
        atime=attrs.atime,
        atime_ns=attrs.atime_ns,
        mtime=attrs.mtime,
        mtime_ns=attrs.mtime_ns,
    )


class TenantSFTPServer(asyncssh.SFTPServer):
    """One SFTP session, confined to its tenant's folder."""

    def __init__(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        super().__init__(chan)
        login = self.connection.get_owner()
        assert isinstance(login, _Login)
        self._slug = login.slug_of(self.connection.get_extra_info("username"))
        self._root = storage.tenant_root(self._slug).resolve()
        # Files open for writing in this session, by file object: their real path.
        self._uploads: dict[object, Path] = {}

    # --- paths

    def _real(self, path: bytes) -> Path:
        try:
            return storage.confine(self._root, os.fsdecode(path))
        except storage.PathEscape:
            raise asyncssh.SFTPPermissionDenied("outside your folder") from None

    def map_path(self, path: bytes) -> bytes:
        return os.fsencode(self._real(path))

    def reverse_map_path(self, path: bytes) -> bytes:
        return os.fsencode(storage.virtual_path(self._root, Path(os.fsdecode(path))))

    def _check_upload(self, real: Path) -> None:
        if real.parent != self._root or real.is_dir():
            raise asyncssh.SFTPPermissionDenied("files can only be uploaded to the top folder")

    async def _report(self, real: Path) -> None:
        try:
            await _off_loop(_upload_complete, self._slug, real)
        except Exception:
            log.exception("intake of %s (tenant %s) failed", real, self._slug)

    # --- files

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        real = self._real(path)
        writing = bool(pflags & _WRITE_FLAGS)
        if writing:
            self._check_upload(real)
        # The client's permission bits are ignored (see _times_and_size).
        file_obj = super().open(path, pflags, asyncssh.SFTPAttrs())
        if writing:
            self._uploads[file_obj] = real
        return file_obj

    def open56(
        self, path: bytes, desired_access: int, flags: int, attrs: asyncssh.SFTPAttrs
    ) -> object:
        # The server speaks SFTP version 3 (asyncssh's default), like OpenSSH.
        raise asyncssh.SFTPOpUnsupported("SFTP version 5 and later are not supported")

    async def close(self, file_obj: object) -> None:
        real = self._uploads.pop(file_obj, None)
        super().close(file_obj)
        if real is None:
            return
        # asyncssh also closes the files a session left open when it ends (client gone,
        # channel closed): such an upload was cut short, not completed.
        if _session_ending(self.channel):
            log.warning("upload of %s (tenant %s) interrupted, not imported", real, self._slug)
            return
        if storage.is_importable(self._root, real):
            await self._report(real)

    def fsetstat(self, file_obj: object, attrs: asyncssh.SFTPAttrs) -> None:
        if file_obj not in self._uploads:
            raise asyncssh.SFTPPermissionDenied("only a file being uploaded can be changed")
        super().fsetstat(file_obj, _times_and_size(attrs))

    def setstat(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        self._check_upload(self._real(path))
        super().setstat(path, _times_and_size(attrs))

    def lsetstat(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        self.setstat(path, attrs)

    def remove(self, path: bytes) -> None:
        real = self._real(path)
        if real.is_dir():
            raise asyncssh.SFTPPermissionDenied("folders cannot be removed")
        os.remove(real)

    async def rename(self, oldpath: bytes, newpath: bytes) -> None:
        await self._rename(oldpath, newpath, replace=False)

    async def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        await self._rename(oldpath, newpath, replace=True)

    async def _rename(self, oldpath: bytes, newpath: bytes, *, replace: bool) -> None:
        old, new = self._real(oldpath), self._real(newpath)
        if not old.exists():
            raise asyncssh.SFTPNoSuchFile("no such file")
        if not old.is_file():
            raise asyncssh.SFTPPermissionDenied("folders cannot be renamed")
        self._check_upload(new)
        if replace:
            os.replace(old, new)
        elif new.exists():
            raise asyncssh.SFTPFileAlreadyExists("file already exists")
        else:
            os.rename(old, new)
        for file_obj, path in self._uploads.items():
            if path == old:
                # Still open for writing: reported when closed, complete.
                self._uploads[file_obj] = new
                return
        if storage.is_importable(self._root, new):
            await self._report(new)

    # --- refused

    def mkdir(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        raise asyncssh.SFTPPermissionDenied("folders cannot be created")

    def rmdir(self, path: bytes) -> None:
        raise asyncssh.SFTPPermissionDenied("folders cannot be removed")

    def symlink(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPPermissionDenied("links cannot be created")

    def link(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPPermissionDenied("links cannot be created")

    def readlink(self, path: bytes) -> bytes:
        raise asyncssh.SFTPPermissionDenied("links are not followed")


class SftpServer:
    """The SFTP listener and its connections, on the running asyncio loop."""

    def __init__(self) -> None:
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._connections: set[asyncssh.SSHServerConnection] = set()

    @property
    def port(self) -> int:
        assert self._acceptor is not None, "not started"
        return self._acceptor.get_port()

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (0: any free port); returns the port."""
        key = await _off_loop(host_key)
        self._acceptor = await asyncssh.create_server(
            lambda: _Login(self._connections),
            host,
            port,
            server_host_keys=[key],
            sftp_factory=TenantSFTPServer,
            # Without a process or session factory, shell and exec requests are refused;
            # the SSHServer's defaults refuse port forwarding.
            allow_scp=False,
            agent_forwarding=False,
            x11_forwarding=False,
            allow_pty=False,
        )
        log.info("SFTP server listening on %s:%d", host, self.port)
        return self.port

    async def stop(self, timeout: float = 5) -> None:
        """Stop listening and close the open connections."""
        if self._acceptor is None:
            return
        self._acceptor.close()
        connections = list(self._connections)
        for conn in connections:
            conn.close()
        await asyncio.wait_for(
            asyncio.gather(
                self._acceptor.wait_closed(), *(conn.wait_closed() for conn in connections)
            ),
            timeout,
        )
        self._acceptor = None


async def start_sftp(host: str, port: int) -> SftpServer:
    """An SFTP server listening on ``host:port`` (0: any free port)."""
    server = SftpServer()
    await server.start(host, port)
    return server
