"""Helpers for the file-drop tests: a tenant's SFTP/FTP login, real clients, waiting for the
import of a dropped file, reading its report."""

from __future__ import annotations

import asyncio
import csv
import ftplib
import io
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh

from tests.conftest import Tenant

HOST = "127.0.0.1"


@dataclass
class Ports:
    sftp: int
    ftp: int


class Dropper:
    """A tenant, seen through its file drop and its Data API."""

    def __init__(self, tenant: Tenant, ports: Ports) -> None:
        self.tenant = tenant
        self.ports = ports
        self.slug = tenant.slug
        self.username = tenant.creds["sftp_username"]
        self.password = tenant.creds["sftp_password"]

    # --- clients ------------------------------------------------------------------------

    @asynccontextmanager
    async def _sftp(self) -> AsyncIterator[asyncssh.SFTPClient]:
        async with (
            asyncssh.connect(
                HOST,
                self.ports.sftp,
                username=self.username,
                password=self.password,
                known_hosts=None,
            ) as conn,
            conn.start_sftp_client() as sftp,
        ):
            yield sftp

    def sftp_put(self, name: str, data: bytes, *, final_name: str | None = None) -> None:
        """Upload by SFTP; with ``final_name``, upload as ``name`` then rename."""

        async def go() -> None:
            async with self._sftp() as sftp:
                async with sftp.open(name, "wb") as f:
                    await f.write(data)
                if final_name is not None:
                    await sftp.rename(name, final_name)

        asyncio.run(go())

    def sftp_get(self, path: str) -> bytes:
        async def go() -> bytes:
            async with self._sftp() as sftp, sftp.open(path, "rb") as f:
                data: bytes = await f.read()
                return data

        return asyncio.run(go())

    def sftp_list(self, path: str = ".") -> list[str]:
        async def go() -> list[str]:
            async with self._sftp() as sftp:
                return sorted(await sftp.listdir(path))

        return [n for n in asyncio.run(go()) if n not in (".", "..")]

    def ftp_put(self, name: str, data: bytes) -> None:
        with ftplib.FTP() as ftp:
            ftp.connect(HOST, self.ports.ftp, timeout=10)
            ftp.login(self.username, self.password)
            ftp.storbinary(f"STOR {name}", io.BytesIO(data))

    # --- the import of a dropped file ------------------------------------------------------

    def imports(self, file_name: str) -> list[dict[str, Any]]:
        response = self.tenant.get("/data/v1/Import", count=100)
        assert response.status_code == 200, response.text
        return [i for i in response.json()["data"] if i["fileName"] == file_name]

    def wait_import(self, file_name: str, *, nth: int = 1, timeout: float = 60) -> dict[str, Any]:
        """The ``nth`` import of a file name once finished and its report written."""
        deadline = time.monotonic() + timeout
        while True:
            found = sorted(self.imports(file_name), key=lambda i: i["resourceId"])
            if len(found) >= nth:
                result = self.tenant.wait(found[nth - 1]["resourceId"], timeout=timeout)
                if self.report_lines(file_name, missing_ok=True) is not None and (
                    f"# import: {result['resourceId']}" in self.report_text(file_name)
                ):
                    return result
            if time.monotonic() > deadline:
                raise AssertionError(f"no finished import of {file_name}: {found}")
            time.sleep(0.05)

    def report_text(self, file_name: str) -> str:
        return self.sftp_get(f"results/{file_name}.result.csv").decode()

    def report_lines(
        self, file_name: str, *, missing_ok: bool = False
    ) -> list[dict[str, str]] | None:
        """The report's table (without its ``#`` summary lines)."""
        try:
            text = self.report_text(file_name)
        except (asyncssh.SFTPError, OSError):
            if missing_ok:
                return None
            raise
        table = [line for line in text.splitlines(keepends=True) if not line.startswith("#")]
        return list(csv.DictReader(io.StringIO("".join(table))))

    def report_summary(self, file_name: str) -> dict[str, str]:
        text = self.report_text(file_name)
        pairs = [line[2:].split(": ", 1) for line in text.splitlines() if line.startswith("# ")]
        return {k: v for k, v in pairs}

    def wait_listed(self, path: str, name: str, timeout: float = 10) -> list[str]:
        deadline = time.monotonic() + timeout
        while name not in (listed := self.sftp_list(path)):
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} not in {path}: {listed}")
            time.sleep(0.05)
        return listed


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def data_dir_path(*parts: str) -> Path:
    from retailhub.config import get_settings

    return get_settings().data_dir.resolve().joinpath(*parts)
