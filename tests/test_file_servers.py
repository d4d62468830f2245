"""The file drop's SFTP and FTP servers, with real clients (asyncssh, OpenSSH's ``sftp``,
ftplib, curl) against servers started in this process on free ports.

The intake is replaced by a recorder: these tests are about what reaches it (which file, when,
how many times), not about the import that follows.
"""

from __future__ import annotations

import asyncio
import ftplib
import io
import os
import shutil
import socket
import stat
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import pytest

from retailhub.config import get_settings
from retailhub.files import intake, storage
from retailhub.files.ftp import TenantFTPHandler
from retailhub.files.servers import FileServerError, FileServers
from retailhub.files.sftp import HOST_KEY_FILE, host_key
from tests.conftest import create_tenant_creds

pytestmark = pytest.mark.timeout(60)

HOST = "127.0.0.1"
SFTP_CLIENT = shutil.which("sftp")
CURL = shutil.which("curl")
LFTP = shutil.which("lftp")


def require(tool: str | None, name: str) -> str:
    """A client program; CI installs them all (.ci/run), so there a missing one fails."""
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed")
        pytest.skip(f"{name} not installed")
    return tool


# No user configuration, no host key pinning, only the key given.
OPENSSH_OPTIONS = (
    "StrictHostKeyChecking=no",
    "UserKnownHostsFile=/dev/null",
    "IdentitiesOnly=yes",
    "PasswordAuthentication=no",
)


@dataclass(frozen=True)
class Drop:
    """A tenant's file-drop login."""

    slug: str
    username: str
    password: str

    @property
    def root(self) -> Path:
        return storage.tenant_root(self.slug)


class Intake:
    """Stands in for ``intake.upload_complete``: records each completed upload."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Path, str]] = []
        self._lock = threading.Lock()

    def __call__(self, slug: str, path: Path, source: str) -> None:
        with self._lock:
            self.calls.append((slug, path, source))

    def wait_for(self, count: int, timeout: float = 5) -> list[tuple[str, Path, str]]:
        """The calls once there are ``count`` (FTP reports from a thread, after replying),
        and a moment more so that an extra call would show."""
        deadline = time.monotonic() + timeout
        while len(self.calls) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        return list(self.calls)


@pytest.fixture(scope="module")
def servers(migrated: None) -> Iterator[FileServers]:
    with FileServers(HOST, 0, 0) as running:
        yield running


@pytest.fixture(autouse=True)
def uploads(monkeypatch: pytest.MonkeyPatch) -> Intake:
    recorder = Intake()
    monkeypatch.setattr(intake, "upload_complete", recorder)
    return recorder


def new_drop() -> Drop:
    creds = create_tenant_creds()
    return Drop(creds["tenant"], creds["sftp_username"], creds["sftp_password"])


@pytest.fixture
def drop(migrated: None) -> Drop:
    return new_drop()


@pytest.fixture
def other_drop(migrated: None) -> Drop:
    return new_drop()


@pytest.fixture
def outside(tmp_path: Path, drop: Drop) -> Path:
    """A folder outside the data directory, and links to it placed in the tenant's folder
    (as an operator's mistake could)."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("secret")
    (drop.root / "escape").symlink_to(folder)
    (drop.root / "leak.csv").symlink_to(folder / "secret.txt")
    return folder


# --- SFTP clients


async def ssh_connect(
    port: int, username: str, password: str | None = None
) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        HOST,
        port,
        username=username,
        password=password,
        known_hosts=None,
        client_keys=None,
        agent_path=None,
        config=None,
    )


@asynccontextmanager
async def sftp_session(servers: FileServers, drop: Drop) -> AsyncIterator[asyncssh.SFTPClient]:
    assert servers.sftp_port
    async with (
        await ssh_connect(servers.sftp_port, drop.username, drop.password) as conn,
        conn.start_sftp_client() as sftp,
    ):
        yield sftp


async def write(sftp: asyncssh.SFTPClient, name: str, data: bytes) -> None:
    async with sftp.open(name, "wb") as remote:
        await remote.write(data)


def openssh_sftp(
    port: int, username: str, key: Path, commands: str, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    batch = tmp_path / "batch"
    batch.write_text(commands)
    assert SFTP_CLIENT is not None
    command = [SFTP_CLIENT, "-b", str(batch), "-P", str(port), "-F", "/dev/null", "-i", str(key)]
    for option in OPENSSH_OPTIONS:
        command += ["-o", option]
    return subprocess.run(
        [*command, f"{username}@{HOST}"],
        capture_output=True,
        text=True,
        timeout=30,
    )


def private_key_file(tmp_path: Path, name: str) -> tuple[Path, str]:
    """A new ed25519 key, written as OpenSSH wants it (mode 0600); returns its path and
    public key line."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    path = tmp_path / name
    key.write_private_key(path)
    path.chmod(0o600)
    return path, key.export_public_key().decode()


def register_key(drop: Drop, public_key: str) -> None:
    from retailhub.db import session_scope
    from retailhub.tenants import service

    with session_scope(write=True) as session:
        service.add_ssh_key(session, slug=drop.slug, public_key=public_key)


def wait_for_log(caplog: pytest.LogCaptureFixture, text: str, timeout: float = 5) -> None:
    """Wait until the server, in its own thread, has logged ``text``."""
    deadline = time.monotonic() + timeout
    while not any(text in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, f"no log record with {text!r}"
        time.sleep(0.01)


# --- FTP clients


def ftp_login(servers: FileServers, drop: Drop) -> ftplib.FTP:
    assert servers.ftp_port
    client = ftplib.FTP()
    client.connect(HOST, servers.ftp_port, timeout=10)
    client.login(drop.username, drop.password)
    return client


def stor(client: ftplib.FTP, name: str, data: bytes) -> str:
    return client.storbinary(f"STOR {name}", io.BytesIO(data))


def retr(client: ftplib.FTP, name: str) -> bytes:
    out = io.BytesIO()
    client.retrbinary(f"RETR {name}", out.write)
    return out.getvalue()


def refused(call: object, *args: object) -> str:
    """The 5xx reply an FTP command got."""
    assert callable(call)
    with pytest.raises(ftplib.error_perm) as failed:
        call(*args)
    return str(failed.value)


class TestSftpSession:
    def test_put_ls_rename_get_rm(
        self, servers: FileServers, drop: Drop, uploads: Intake, tmp_path: Path
    ) -> None:
        local = tmp_path / "orders.csv"
        local.write_bytes(b"orderNumber,sku\nO1,A\n")
        back = tmp_path / "back.csv"

        async def scenario() -> None:
            async with sftp_session(servers, drop) as sftp:
                await sftp.put(str(local), "orders.csv.part")
                assert uploads.calls == []
                assert {"orders.csv.part", "archive", "results"} <= set(await sftp.listdir("/"))
                await sftp.rename("orders.csv.part", "orders.csv")
                assert uploads.calls == [(drop.slug, drop.root / "orders.csv", "sftp")]
                await sftp.get("orders.csv", str(back))
                await sftp.remove("orders.csv")
                assert "orders.csv" not in await sftp.listdir("/")

        asyncio.run(scenario())
        assert back.read_bytes() == local.read_bytes()
        assert not (drop.root / "orders.csv").exists()
        assert len(uploads.calls) == 1

    def test_upload_reported_once_when_closed(
        self, servers: FileServers, drop: Drop, uploads: Intake
    ) -> None:
        async def scenario() -> None:
            async with sftp_session(servers, drop) as sftp:
                remote = await sftp.open("customers.csv", "wb")
                await remote.write(b"email\n")
                await remote.write(b"a@example.com\n")
                assert uploads.calls == []
                await remote.close()
                assert uploads.calls == [(drop.slug, drop.root / "customers.csv", "sftp")]
                await sftp.listdir("/")

        asyncio.run(scenario())
        assert uploads.calls == [(drop.slug, drop.root / "customers.csv", "sftp")]
        assert (drop.root / "customers.csv").read_bytes() == b"email\na@example.com\n"

    def test_empty_upload_reported(self, servers: FileServers, drop: Drop, uploads: Intake) -> None:
        async def scenario() -> None:
            async with sftp_session(servers, drop) as sftp:
                await write(sftp, "empty.csv", b"")

        asyncio.run(scenario())
        assert uploads.calls == [(drop.slug, drop.root / "empty.csv", "sftp")]

    def test_posix_rename_of_partial_upload_reported(
        self, servers: FileServers, drop: Drop, uploads: Intake
    ) -> None:
        async def scenario() -> None:
            async with sftp_session(servers, drop) as sftp:
                await write(sftp, "products.csv.tmp", b"sku\nA\n")
                await write(sftp, "products.csv", b"old\n")
                assert uploads.calls == [(drop.slug, drop.root / "products.csv", "sftp")]
                await sftp.posix_rename("products.csv.tmp", "products.csv")

        asyncio.run(scenario())
        assert uploads.calls == [(drop.slug, drop.root / "products.csv", "sftp")] * 2
        assert (drop.root / "products.csv").read_bytes() == b"sku\nA\n"

    def test_rename_while_open_reported_when_closed(
        self, servers: FileServers, drop: Drop, uploads: Intake
    ) -> None:
        async def scenario() -> None:
            async with sftp_session(servers, drop) as sftp:
                remote = await sftp.open("orders.csv.part", "wb")
                await remote.write(b"orderNumber\n")
                await sftp.rename("orders.csv.part", "orders.csv")
                assert uploads.calls == []
                await remote.write(b"O1\n")
                await remote.close()

        asyncio.run(scenario())
        assert uploads.calls == [(drop.slug, drop.root / "orders.csv", "sftp")]
        assert (drop.root / "orders.csv").read_bytes() == b"orderNumber\nO1\n"

    def test_upload_left_open_when_session_ends_not_reported(
        self,
        servers: FileServers,
        drop: Drop,
        uploads: Intake,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        async def scenario() -> None:
            async with sftp_session(servers, drop) as sftp:
                remote = await sftp.open("cut.csv", "wb")
                await remote.write(b"sku\nA")
            # The client sent its end of file with the file still open.

        asyncio.run(scenario())
        wait_for_log(caplog, "interrupted")
        assert uploads.calls == []
        assert (drop.root / "cut.csv").read_bytes() == b"sku\nA"

    def test_upload_cut_by_lost_connection_not_reported(
        self,
        servers: FileServers,
        drop: Drop,
        uploads: Intake,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        async def scenario() -> None:
            assert servers.sftp_port
            conn = await ssh_connect(servers.sftp_port, drop.username, drop.password)
            sftp = await conn.start_sftp_client()
            remote = await sftp.open("cut.csv", "wb")
            await remote.write(b"sku\nA")
            conn.abort()

        asyncio.run(scenario())
        wait_for_log(caplog, "interrupted")
        assert uploads.calls == []

    def test_intake_failure_does_not_fail_the_upload(
        self,
        servers: FileServers,
        drop: Drop,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        def broken(slug: str, path: Path, source: str) -> None:
            raise NotImplementedError

        monkeypatch.setattr(intake, "upload_complete", broken)

        async def scenario() -> list[str]:
            async with sftp_session(servers, drop) as sftp:
                await write(sftp, "orders.csv", b"orderNumber\n")
                return list(await sftp.listdir("/"))

        assert "orders.csv" in asyncio.run(scenario())
        assert any("intake of" in r.getMessage() for r in caplog.records)


class TestSftpLogin:
    def test_wrong_password_or_user_rejected(
        self, servers: FileServers, drop: Drop, other_drop: Drop
    ) -> None:
        async def attempt(username: str, password: str) -> None:
            assert servers.sftp_port
            with pytest.raises(asyncssh.PermissionDenied):
                await ssh_connect(servers.sftp_port, username, password)

        asyncio.run(attempt(drop.username, "wrong"))
        asyncio.run(attempt(drop.username, other_drop.password))
        asyncio.run(attempt("nobody", drop.password))

    def test_key_login_with_openssh_sftp(
        self, servers: FileServers, drop: Drop, uploads: Intake, tmp_path: Path
    ) -> None:
        if SFTP_CLIENT is None:
            pytest.skip("OpenSSH sftp client not installed")
        assert servers.sftp_port
        key, public = private_key_file(tmp_path, "id_ed25519")
        register_key(drop, public)
        local = tmp_path / "orders.csv"
        local.write_bytes(b"orderNumber\nO1\n")
        done = openssh_sftp(
            servers.sftp_port,
            drop.username,
            key,
            f"put {local} orders.csv.part\n"
            "ls -1\n"
            "rename orders.csv.part orders.csv\n"
            f"get orders.csv {tmp_path / 'back.csv'}\n"
            "-mkdir newdir\n"
            f"-put {local} archive/orders.csv\n"
            "rm orders.csv\n"
            "ls -1 /archive\n",
            tmp_path,
        )
        assert done.returncode == 0, done.stderr
        assert "orders.csv.part" in done.stdout
        assert (tmp_path / "back.csv").read_bytes() == local.read_bytes()
        assert uploads.calls == [(drop.slug, drop.root / "orders.csv", "sftp")]
        assert sorted(p.name for p in drop.root.iterdir()) == ["archive", "results"]
        assert list((drop.root / "archive").iterdir()) == []

    def test_unregistered_key_rejected(
        self, servers: FileServers, drop: Drop, tmp_path: Path
    ) -> None:
        if SFTP_CLIENT is None:
            pytest.skip("OpenSSH sftp client not installed")
        assert servers.sftp_port
        register_key(drop, private_key_file(tmp_path, "registered")[1])
        stranger, _public = private_key_file(tmp_path, "stranger")
        done = openssh_sftp(servers.sftp_port, drop.username, stranger, "ls\n", tmp_path)
        assert done.returncode != 0
        assert "Permission denied" in done.stderr

    def test_shell_exec_and_forwarding_refused(self, servers: FileServers, drop: Drop) -> None:
        async def scenario() -> None:
            assert servers.sftp_port and servers.ftp_port
            async with await ssh_connect(servers.sftp_port, drop.username, drop.password) as conn:
                with pytest.raises(asyncssh.ChannelOpenError):
                    await conn.run("cat /etc/passwd")
                with pytest.raises(asyncssh.ChannelOpenError):
                    await conn.open_connection(HOST, servers.ftp_port)

        asyncio.run(scenario())

    def test_host_key_kept_in_data_dir(self, servers: FileServers) -> None:
        path = get_settings().data_dir / HOST_KEY_FILE
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert servers.sftp_port
        served = asyncio.run(asyncssh.get_server_host_key(HOST, servers.sftp_port))
        assert served is not None
        kept = asyncssh.read_private_key(path).public_data
        assert served.public_data == kept
        # A restart reuses it.
        assert host_key().public_data == kept


class TestSftpConfinement:
    def test_tenants_see_only_their_folder(
        self, servers: FileServers, drop: Drop, other_drop: Drop
    ) -> None:
        async def scenario() -> None:
            async with sftp_session(servers, drop) as sftp:
                await write(sftp, "mine.csv", b"sku\n")
            async with sftp_session(servers, other_drop) as sftp:
                assert "mine.csv" not in await sftp.listdir("/")
                assert await sftp.realpath("../..") == "/"
                for path in (f"../{drop.slug}/mine.csv", f"/../../files/{drop.slug}/mine.csv"):
                    with pytest.raises(asyncssh.SFTPNoSuchFile):
                        await sftp.stat(path)
                # ``..`` stops at the root: this names a folder of the other tenant's own.
                with pytest.raises(asyncssh.SFTPPermissionDenied):
                    await write(sftp, f"../{drop.slug}/theirs.csv", b"sku\n")

        asyncio.run(scenario())
        assert sorted(p.name for p in drop.root.iterdir()) == ["archive", "mine.csv", "results"]
        assert sorted(p.name for p in other_drop.root.iterdir()) == ["archive", "results"]

    def test_path_escapes_stay_inside(
        self, servers: FileServers, drop: Drop, outside: Path
    ) -> None:
        async def scenario() -> None:
            async with sftp_session(servers, drop) as sftp:
                assert await sftp.realpath("/../../..") == "/"
                with pytest.raises(asyncssh.SFTPNoSuchFile):
                    await sftp.open("/../../etc/passwd")
                for read in (sftp.open, sftp.stat, sftp.listdir):
                    with pytest.raises(asyncssh.SFTPPermissionDenied):
                        await read("leak.csv")
                with pytest.raises(asyncssh.SFTPPermissionDenied):
                    await sftp.listdir("escape")
                with pytest.raises(asyncssh.SFTPPermissionDenied):
                    await write(sftp, "escape/new.csv", b"x")
                with pytest.raises(asyncssh.SFTPPermissionDenied):
                    await sftp.remove("leak.csv")
                with pytest.raises(asyncssh.SFTPPermissionDenied):
                    await sftp.rename("leak.csv", "mine.csv")
                for target in ("/", str(outside), "../../.."):
                    with pytest.raises(asyncssh.SFTPPermissionDenied):
                        await sftp.symlink(target, "link")

        asyncio.run(scenario())
        assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
        assert (outside / "secret.txt").read_text() == "secret"
        assert not (drop.root / "link").exists()

    def test_uploads_only_into_root(
        self, servers: FileServers, drop: Drop, uploads: Intake, tmp_path: Path
    ) -> None:
        (drop.root / "archive" / "old.csv").write_bytes(b"sku\nOLD\n")
        (drop.root / "results" / "old.csv.json").write_bytes(b"{}")

        async def scenario() -> None:
            async with sftp_session(servers, drop) as sftp:
                for folder in ("archive", "results"):
                    with pytest.raises(asyncssh.SFTPPermissionDenied):
                        await write(sftp, f"{folder}/new.csv", b"sku\n")
                await write(sftp, "new.csv.part", b"sku\n")
                with pytest.raises(asyncssh.SFTPPermissionDenied):
                    await sftp.rename("new.csv.part", "archive/new.csv")
                with pytest.raises(asyncssh.SFTPPermissionDenied):
                    await sftp.mkdir("new")
                for folder in ("archive", "results"):
                    with pytest.raises(asyncssh.SFTPPermissionDenied):
                        await sftp.rmdir(folder)
                    with pytest.raises(asyncssh.SFTPPermissionDenied):
                        await sftp.remove(folder)
                # Reading, listing and cleaning up archive/ and results/ are fine.
                assert sorted(await sftp.listdir("archive")) == [".", "..", "old.csv"]
                await sftp.get("archive/old.csv", str(tmp_path / "old.csv"))
                await sftp.remove("archive/old.csv")
                await sftp.remove("/results/old.csv.json")

        asyncio.run(scenario())
        assert (tmp_path / "old.csv").read_bytes() == b"sku\nOLD\n"
        assert sorted(p.name for p in drop.root.iterdir()) == ["archive", "new.csv.part", "results"]
        assert list((drop.root / "archive").iterdir()) == []
        assert list((drop.root / "results").iterdir()) == []
        assert uploads.calls == []


class TestFtp:
    def test_stor_list_rename_retr_dele(
        self, servers: FileServers, drop: Drop, uploads: Intake
    ) -> None:
        data = b"orderNumber,sku\nO1,A\n"
        client = ftp_login(servers, drop)
        try:
            assert stor(client, "orders.csv.part", data).startswith("226")
            listing: list[str] = []
            client.retrlines("LIST", listing.append)
            assert any(line.endswith(" orders.csv.part") for line in listing)
            client.rename("orders.csv.part", "orders.csv")
            assert uploads.wait_for(1) == [(drop.slug, drop.root / "orders.csv", "ftp")]
            assert retr(client, "orders.csv") == data
            client.delete("orders.csv")
            assert sorted(client.nlst()) == ["archive", "results"]
        finally:
            client.quit()
        assert len(uploads.calls) == 1

    def test_each_completed_upload_reported_once(
        self, servers: FileServers, drop: Drop, uploads: Intake
    ) -> None:
        client = ftp_login(servers, drop)
        try:
            stor(client, "products.csv", b"sku\nA\n")
            stor(client, "empty.csv", b"")
        finally:
            client.quit()
        calls = uploads.wait_for(2)
        assert sorted(calls) == [
            (drop.slug, drop.root / "empty.csv", "ftp"),
            (drop.slug, drop.root / "products.csv", "ftp"),
        ]

    def test_bad_login_rejected(
        self, servers: FileServers, drop: Drop, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # pyftpdlib answers a failed login after a delay (3 s), against password guessing.
        monkeypatch.setattr(TenantFTPHandler, "auth_failed_timeout", 0.01)
        assert servers.ftp_port
        for username, password in ((drop.username, "wrong"), ("nobody", drop.password)):
            client = ftplib.FTP()
            client.connect(HOST, servers.ftp_port, timeout=10)
            try:
                assert refused(client.login, username, password).startswith("530")
                assert refused(client.nlst).startswith("530")
            finally:
                client.close()

    def test_tenants_see_only_their_folder(
        self, servers: FileServers, drop: Drop, other_drop: Drop
    ) -> None:
        mine = ftp_login(servers, drop)
        theirs = ftp_login(servers, other_drop)
        try:
            stor(mine, "mine.csv", b"sku\n")
            theirs.cwd("..")
            assert theirs.pwd() == "/"
            assert "mine.csv" not in theirs.nlst()
            assert refused(retr, theirs, f"../{drop.slug}/mine.csv").startswith("550")
            assert refused(retr, theirs, f"/../../files/{drop.slug}/mine.csv").startswith("550")
        finally:
            mine.quit()
            theirs.quit()

    def test_path_escapes_refused(
        self, servers: FileServers, drop: Drop, outside: Path, uploads: Intake
    ) -> None:
        client = ftp_login(servers, drop)
        try:
            assert refused(retr, client, "/../../etc/passwd").startswith("550")
            assert refused(retr, client, "leak.csv").startswith("550")
            assert refused(client.size, "leak.csv").startswith("550")
            assert refused(client.cwd, "escape").startswith("550")
            assert refused(client.nlst, "escape").startswith("550")
            assert refused(stor, client, "escape/new.csv", b"x").startswith("550")
            assert refused(client.delete, "leak.csv").startswith("550")
            assert refused(client.rename, "leak.csv", "mine.csv").startswith("550")
            # Listings never show where a link outside points.
            listing: list[str] = []
            client.retrlines("LIST", listing.append)
            assert not any(str(outside) in line for line in listing)
        finally:
            client.quit()
        assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
        assert (outside / "secret.txt").read_text() == "secret"
        assert uploads.wait_for(0) == []

    def test_uploads_only_into_root(
        self, servers: FileServers, drop: Drop, uploads: Intake
    ) -> None:
        (drop.root / "archive" / "old.csv").write_bytes(b"sku\nOLD\n")
        client = ftp_login(servers, drop)
        try:
            for folder in ("archive", "results"):
                assert refused(stor, client, f"{folder}/new.csv", b"x").startswith("550")
                assert refused(client.rmd, folder).startswith("550")
            assert refused(client.mkd, "new").startswith("550")
            assert refused(client.sendcmd, "STOU").startswith("500")
            stor(client, "new.csv.part", b"sku\n")
            assert refused(client.rename, "new.csv.part", "archive/new.csv").startswith("550")
            assert retr(client, "archive/old.csv") == b"sku\nOLD\n"
            client.delete("archive/old.csv")
        finally:
            client.quit()
        assert sorted(p.name for p in drop.root.iterdir()) == ["archive", "new.csv.part", "results"]
        assert list((drop.root / "archive").iterdir()) == []
        assert uploads.wait_for(0) == []

    def test_curl_upload(
        self, servers: FileServers, drop: Drop, uploads: Intake, tmp_path: Path
    ) -> None:
        curl = require(CURL, "curl")
        local = tmp_path / "customers.csv"
        local.write_bytes(b"email\na@example.com\n")
        login, url = f"{drop.username}:{drop.password}", f"ftp://{HOST}:{servers.ftp_port}/"
        done = subprocess.run(
            [curl, "--silent", "--show-error", "--fail", "--user", login, "-T", str(local), url],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        assert uploads.wait_for(1) == [(drop.slug, drop.root / "customers.csv", "ftp")]
        assert (drop.root / "customers.csv").read_bytes() == local.read_bytes()


class TestLftp:
    @pytest.mark.parametrize("protocol", ["ftp", "sftp"])
    def test_lftp_put_and_list(
        self, servers: FileServers, drop: Drop, uploads: Intake, tmp_path: Path, protocol: str
    ) -> None:
        lftp = require(LFTP, "lftp")
        local = tmp_path / "Products.csv"
        local.write_bytes(b"sku,title\nL-1,Lftp\n")
        port = servers.ftp_port if protocol == "ftp" else servers.sftp_port
        script = (
            "set sftp:auto-confirm yes; set net:max-retries 1; set net:timeout 10; "
            f"open -u {drop.username},{drop.password} {protocol}://{HOST}:{port}; "
            f"put {local} -o Products.csv; cls -1"
        )
        done = subprocess.run(
            [lftp, "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "HOME": str(tmp_path)},
        )
        assert done.returncode == 0, done.stderr
        assert "Products.csv" in done.stdout.split()
        assert uploads.wait_for(1) == [(drop.slug, drop.root / "Products.csv", protocol)]
        assert (drop.root / "Products.csv").read_bytes() == local.read_bytes()


class TestFileServers:
    def test_port_in_use_is_a_clear_error(self, migrated: None) -> None:
        with socket.socket() as taken:
            taken.bind((HOST, 0))
            taken.listen()
            port = taken.getsockname()[1]
            with pytest.raises(FileServerError, match=f"SFTP port {port} on {HOST} is already"):
                FileServers(HOST, port, 0).start()
            with pytest.raises(FileServerError, match=f"FTP port {port} on {HOST} is already"):
                FileServers(HOST, 0, port).start()

    def test_stop_closes_sessions_promptly(self, migrated: None, drop: Drop) -> None:
        running = FileServers(HOST, 0, 0)
        running.start()
        assert running.sftp_port and running.ftp_port
        sftp_port, ftp_port = running.sftp_port, running.ftp_port
        ftp_client = ftp_login(running, drop)
        loop = asyncio.new_event_loop()
        try:
            ssh = loop.run_until_complete(ssh_connect(sftp_port, drop.username, drop.password))
            started = time.monotonic()
            running.stop()
            assert time.monotonic() - started < 3
            loop.run_until_complete(asyncio.wait_for(ssh.wait_closed(), 5))
            with pytest.raises((EOFError, OSError)):
                ftp_client.voidcmd("NOOP")
            for port in (sftp_port, ftp_port):
                with pytest.raises(ConnectionRefusedError):
                    socket.create_connection((HOST, port), timeout=2).close()
        finally:
            ftp_client.close()
            loop.close()
