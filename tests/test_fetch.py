"""``hotspots fetch`` against a local server replaying real police.uk archive formats (no network)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import socket
import zipfile
from pathlib import Path

import pytest

from hotspots.errors import InputError
from hotspots.io import fetch as F
from hotspots.io.crime import POLICE_UK_COLUMNS
from hotspots.io.load import read_police_uk

NOTTS = "2019-09/2019-09-nottinghamshire-street.csv"
NOTTS_MONTH = (
    Path(__file__).resolve().parent.parent / "data/crime/police_uk/2019-09/2019-09-nottinghamshire-street.csv.gz"
)
NOTTS_BYTES = gzip.decompress(NOTTS_MONTH.read_bytes())


@pytest.fixture(scope="module")
def archives():
    """Fixture archives built from real police.uk files: month of archive -> zip bytes.

    ``2019-10``: the real Nottinghamshire 2019-09 file and West Yorkshire 2017-07 and 2018-07
    (first five rows; 2018-07 with a ZIP64 local header). ``2018-07``: West Yorkshire 2016-07,
    2017-07 and 2018-07.
    """
    from policeuk_server import build_zip, real_members

    m = real_members()
    return {
        "2019-10": build_zip(
            {k: v for k, v in m.items() if "2016-11" <= k[:7] <= "2019-10"},
            zip64={"2018-07/2018-07-west-yorkshire-street.csv"},
        ),
        "2018-07": build_zip({k: v for k, v in m.items() if k[:7] <= "2018-07"}),
    }


@pytest.fixture()
def server(archives):
    from policeuk_server import ArchiveServer

    with ArchiveServer(archives) as s:
        yield s


@pytest.fixture()
def client():
    return F.PoliteClient(min_interval=0.0, backoff=0.0, retries=2, timeout=10)


def _fetch(server, client, out, *, force="nottinghamshire", start="2019-09", end="2019-09", **kw):
    kw.setdefault("stream", io.StringIO())
    return F.fetch_police_uk(force, start, end, out, index_url=server.index_url, client=client, **kw)


def _member_span(archive: bytes, name: str) -> tuple[int, int]:
    info = zipfile.ZipFile(io.BytesIO(archive)).getinfo(name)
    return info.header_offset, info.compress_size


# -- months and index ------------------------------------------------------------------


def test_month_range():
    assert F.month_range("2019-11", "2020-02") == ["2019-11", "2019-12", "2020-01", "2020-02"]
    assert F.month_range("2024-03", "2024-03") == ["2024-03"]
    assert len(F.month_range("2010-12", "2026-07")) == 188


@pytest.mark.parametrize(
    ("start", "end", "match"),
    [
        ("2019-13", "2020-01", r"--from '2019-13' is not a month written YYYY-MM"),
        ("2019-01", "19-02", r"--to '19-02' is not a month"),
        ("2020-02", "2020-01", r"--from 2020-02 is after --to 2020-01"),
        ("1990-01", "2030-01", r"spans more than 240 months"),
    ],
)
def test_month_range_errors(start, end, match):
    with pytest.raises(InputError, match=match):
        F.month_range(start, end)


def test_parse_archive_index_variants():
    html = (
        "<a href=\"/data/archive/2024-10.zip\">Oct</a> <a href='2024-09.zip'>Sep</a> "
        '<a href="https://policeuk-data.s3.amazonaws.com/archive/2024-08.zip">Aug</a> '
        '<a href="/data/archive/latest.zip">latest</a> <a href="/data/archive/2024-13.zip">bad</a>'
    )
    got = F.parse_archive_index(html, "https://data.police.uk/data/archive/")
    assert got == {
        "2024-08": "https://policeuk-data.s3.amazonaws.com/archive/2024-08.zip",
        "2024-09": "https://data.police.uk/data/archive/2024-09.zip",
        "2024-10": "https://data.police.uk/data/archive/2024-10.zip",
    }
    assert F.parse_archive_index("<html>no links</html>") == {}


# -- fetching --------------------------------------------------------------------------


def test_fetch_one_month_reads_only_the_forces_member(server, client, archives, tmp_path):
    res = _fetch(server, client, tmp_path)
    path = tmp_path / NOTTS
    assert path.read_bytes() == NOTTS_BYTES  # byte for byte the published file
    assert res.files == [
        {"month": "2019-09", "path": NOTTS, "status": "downloaded", "rows": 11_472, "archive": "2019-10.zip"}
    ]
    assert res.missing == []
    # index, tail of the zip (via the redirect), local header, member data: nothing else
    s3 = "/s3/archive/2019-10.zip"
    ranges = server.ranges(s3)
    offset, csize = _member_span(archives["2019-10"], NOTTS)
    assert ranges[0] == "bytes=-131072"
    assert ranges[-1].startswith("bytes=") and ranges[-1].endswith(f"-{offset + 30 + len(NOTTS) + csize - 1}")
    assert len(ranges) == 3 and res.requests == 4
    wy_offset, _ = _member_span(archives["2019-10"], "2017-07/2017-07-west-yorkshire-street.csv")
    assert not any(r and r.startswith(f"bytes={wy_offset}") for r in ranges)
    # the frozen loader reads it as it reads the bundled month
    assert len(read_police_uk(path).frame) == 11_472
    man = json.loads(res.manifest.read_text())
    entry = man["files"][NOTTS]
    assert entry["rows"] == 11_472 and entry["size"] == len(NOTTS_BYTES)
    assert entry["sha256"] == hashlib.sha256(NOTTS_BYTES).hexdigest()
    assert entry["archive"] == "2019-10.zip" and entry["archive_url"].endswith(s3)
    assert not list(tmp_path.rglob("*.part")) and not list(tmp_path.rglob("*.tmp"))


def test_second_run_skips_files_that_match_the_checksum(server, client, tmp_path):
    _fetch(server, client, tmp_path)
    n_before = len(server.log)
    res = _fetch(server, client, tmp_path)
    assert res.files[0]["status"] == "unchanged" and res.files[0]["rows"] == 11_472
    new = server.log[n_before:]
    assert [r for _, p, r in new if p.startswith("/s3/")] == ["bytes=-131072"]  # directory only, no data


def test_changed_file_is_replaced(server, client, tmp_path):
    (tmp_path / "2019-09").mkdir()
    (tmp_path / NOTTS).write_bytes(NOTTS_BYTES[:1000])
    res = _fetch(server, client, tmp_path)
    assert res.files[0]["status"] == "replaced"
    assert (tmp_path / NOTTS).read_bytes() == NOTTS_BYTES


def test_dropped_connection_resumes_in_the_same_run(server, client, archives, tmp_path):
    server.drop_after["/s3/archive/2019-10.zip"] = 100_000
    _fetch(server, client, tmp_path)
    assert (tmp_path / NOTTS).read_bytes() == NOTTS_BYTES
    offset, csize = _member_span(archives["2019-10"], NOTTS)
    start = offset + 30 + len(NOTTS)
    ranges = server.ranges("/s3/archive/2019-10.zip")
    assert ranges[-2:] == [f"bytes={start}-{start + csize - 1}", f"bytes={start + 100_000}-{start + csize - 1}"]


def test_interrupted_run_resumes_from_the_part_file(server, client, archives, tmp_path):
    offset, csize = _member_span(archives["2019-10"], NOTTS)
    start = offset + 30 + len(NOTTS)
    (tmp_path / "2019-09").mkdir()
    (tmp_path / (NOTTS + ".part")).write_bytes(archives["2019-10"][start : start + 250_000])
    res = _fetch(server, client, tmp_path)
    assert res.files[0]["status"] == "downloaded"
    assert (tmp_path / NOTTS).read_bytes() == NOTTS_BYTES
    assert server.ranges("/s3/archive/2019-10.zip")[-1] == f"bytes={start + 250_000}-{start + csize - 1}"
    assert not (tmp_path / (NOTTS + ".part")).exists()


def test_connection_that_keeps_dropping_is_a_one_line_error(server, archives, tmp_path):
    client = F.PoliteClient(min_interval=0, backoff=0, retries=0)

    class Drop(dict):
        def pop(self, key, default=None):  # drop every data response, not just the next
            return 5_000 if key == "/s3/archive/2019-10.zip" else default

    server.drop_after = Drop()
    with pytest.raises(
        InputError,
        match=(
            r"the connection kept dropping \(\d[\d,]* of [\d,]+ bytes after 3 tries\); run the same "
            r"command again to resume"
        ),
    ):
        _fetch(server, client, tmp_path)
    assert (tmp_path / (NOTTS + ".part")).stat().st_size == 15_000  # kept for the next run


def test_corrupted_download_fails_its_checksum(server, client, archives, tmp_path):
    data = bytearray(archives["2019-10"])
    offset, csize = _member_span(archives["2019-10"], NOTTS)
    pos = offset + 30 + len(NOTTS) + csize // 2
    data[pos : pos + 8] = b"\x00" * 8
    server.corrupt["/s3/archive/2019-10.zip"] = bytes(data)
    with pytest.raises(
        InputError,
        match=(
            r"does not match the archive's checksum \(CRC-32 [0-9a-f]{8}, [\d,]+ bytes; expected [0-9a-f]{8}, "
            r"2,546,522 bytes\)\. The damaged copy was deleted"
        ),
    ):
        _fetch(server, client, tmp_path)
    assert not (tmp_path / NOTTS).exists() and not list(tmp_path.rglob("*.part"))


def test_zip64_local_header_and_older_archive(server, client, tmp_path):
    res = _fetch(
        server, client, tmp_path, force="West Yorkshire Police", start="2016-07", end="2018-07", allow_missing=True
    )
    got = {f["month"]: f["archive"] for f in res.files}
    assert got == {"2016-07": "2018-07.zip", "2017-07": "2019-10.zip", "2018-07": "2019-10.zip"}  # newest first
    assert len(res.missing) == 22 and res.missing[0] == "2016-08"
    tiny = Path(__file__).parent / "fixtures/policeuk_tiny"
    for m in got:
        name = f"{m}/{m}-west-yorkshire-street.csv"
        assert (tmp_path / name).read_bytes() == (tiny / name).read_bytes()
    assert all(f["rows"] == 5 for f in res.files)


def test_missing_month_is_an_error_before_any_download(server, client, tmp_path):
    with pytest.raises(
        InputError,
        match=(
            r"nottinghamshire: no street-level file for 1 of 2 month\(s\) \(2019-08\) in the archives "
            r"listed at .*Use --allow-missing to fetch the other 1 month\(s\)\."
        ),
    ):
        _fetch(server, client, tmp_path, start="2019-08", end="2019-09")
    assert not (tmp_path / "2019-09").exists()
    res = _fetch(server, client, tmp_path, start="2019-08", end="2019-09", allow_missing=True)
    assert res.missing == ["2019-08"] and res.files[0]["month"] == "2019-09"


def test_months_after_the_newest_archive(server, client, tmp_path):
    with pytest.raises(
        InputError,
        match=r"no street-level file for 2 of 2 month\(s\) \(2020-01, 2020-02\).*The newest archive is 2019-10\.",
    ):
        _fetch(server, client, tmp_path, start="2020-01", end="2020-02", allow_missing=True)


def test_named_archive_skips_the_index(server, client, tmp_path):
    res = _fetch(server, client, tmp_path, archive="2019-10")
    assert res.files[0]["status"] == "downloaded"
    assert ("GET", "/data/archive/", None) not in server.log


def test_unknown_archive_is_http_404(server, client, tmp_path):
    with pytest.raises(
        InputError,
        match=r"answered HTTP 404 Not Found for http://127\.0\.0\.1:\d+/data/archive/2020-01\.zip; it is not there",
    ):
        _fetch(server, client, tmp_path, archive="2020-01")


def test_unknown_force_fails_before_any_request(server, client, tmp_path):
    with pytest.raises(InputError, match=r"unknown police force 'nottinghamshir'\. Did you mean 'nottinghamshire'"):
        _fetch(server, client, tmp_path, force="nottinghamshir")
    assert server.log == [] and client.requests == 0


def test_offline_is_one_line(tmp_path, client):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(
        InputError,
        match=(
            r"cannot reach 127\.0\.0\.1:\d+ \(http://127\.0\.0\.1:\d+/data/archive/\): .*Connection "
            r"refused.*Check the internet connection"
        ),
    ):
        F.fetch_police_uk(
            "nottinghamshire",
            "2019-09",
            "2019-09",
            tmp_path,
            index_url=f"http://127.0.0.1:{port}/data/archive/",
            client=client,
        )


def test_unknown_host_is_one_line(tmp_path, client):
    with pytest.raises(InputError, match=r"cannot reach no-such-host\.invalid .*Check the internet connection"):
        F.fetch_police_uk(
            "gwent",
            "2019-09",
            "2019-09",
            tmp_path,
            index_url="http://no-such-host.invalid/data/archive/",
            client=client,
        )


def test_index_without_archives(server, client, tmp_path):
    server.index = "<html><p>Archive moved</p></html>"
    with pytest.raises(InputError, match=r"no YYYY-MM\.zip archive is linked from .*Pass --archive YYYY-MM"):
        _fetch(server, client, tmp_path)


def test_server_ignoring_ranges_is_explained(server, client, tmp_path):
    server.ignore_range = True
    with pytest.raises(
        InputError, match=r"does not serve parts of files \(HTTP 200 to a Range request.*--archive-file"
    ):
        _fetch(server, client, tmp_path)


def test_retry_after_503_then_success(server, tmp_path):
    slept: list[float] = []
    client = F.PoliteClient(min_interval=0, backoff=0.5, retries=2, sleep=slept.append)
    server.fail_once["/data/archive/"] = 503
    res = _fetch(server, client, tmp_path)
    assert res.files[0]["status"] == "downloaded"
    assert slept[0] == 0.0  # Retry-After: 0 honoured
    client2 = F.PoliteClient(min_interval=0, backoff=0.5, retries=0, sleep=slept.append)
    server.fail_once["/data/archive/"] = 503
    with pytest.raises(InputError, match=r"answered HTTP 503 .* for http://127"):
        _fetch(server, client2, tmp_path)


def test_rate_limit_spaces_requests():
    now = [100.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    client = F.PoliteClient(min_interval=1.5, sleep=sleep, clock=lambda: now[0])
    client._wait_turn()
    now[0] += 0.25
    client._wait_turn()
    now[0] += 2.0
    client._wait_turn()
    assert slept == [pytest.approx(1.25)]


def test_local_archive_file_needs_no_network(archives, tmp_path):
    z = tmp_path / "2019-10.zip"
    z.write_bytes(archives["2019-10"])
    client = F.PoliteClient(min_interval=0)
    res = F.fetch_police_uk(
        "nottinghamshire", "2019-09", "2019-09", tmp_path / "out", archive_file=z, client=client, progress=False
    )
    assert (tmp_path / "out" / NOTTS).read_bytes() == NOTTS_BYTES and client.requests == 0
    assert res.files[0]["archive"] == "2019-10.zip" and res.missing == []
    with pytest.raises(InputError, match=r"--archive-file .*none\.zip not found"):
        F.fetch_police_uk("nottinghamshire", "2019-09", "2019-09", tmp_path / "o", archive_file=tmp_path / "none.zip")
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="is not a zip archive"):
        F.fetch_police_uk("nottinghamshire", "2019-09", "2019-09", tmp_path / "o", archive_file=bad)


def test_unwritable_out_is_one_line(server, client, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match=r"cannot create --out .*file/police_uk"):
        _fetch(server, client, blocker / "police_uk")


def test_progress_lines_when_not_a_terminal(server, client, tmp_path):
    stream = io.StringIO()
    _fetch(server, client, tmp_path, stream=stream)
    assert stream.getvalue() == f"[1/1] {NOTTS}: downloaded, 11,472 rows\n"


def test_progress_bar_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    s = Tty()
    bar = F.Progress(2_000_000, 1, stream=s)
    bar.start_file("2019-09/x-street.csv")
    bar.advance(1_000_000)
    bar.end_file("downloaded")
    out = s.getvalue()
    assert "\r[1/1] [###############               ]  50.0%     1.0/2.0 MB" in out and out.endswith("\n")


# -- CSV checks ------------------------------------------------------------------------

HEADER = ",".join(POLICE_UK_COLUMNS)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", r"empty file \(no header\)"),
        ("Month,Longitude,Latitude\n2019-09,1,2\n", r"column\(s\) 'Crime type' missing from the header"),
        (
            HEADER + "\n,2019-09,a,b,1,2,loc,E01,n,Robbery,,\n,2019-09,a,b,1,2\n",
            r"line 3 has 6 fields, the header 12; the file is damaged",
        ),
        (HEADER + "\n,2019-08,a,b,1,2,loc,E01,n,Robbery,,\n", r"line 2 is for month '2019-08', not '2019-09'"),
    ],
)
def test_check_street_csv_errors(tmp_path, text, match):
    p = tmp_path / "f.csv"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=match):
        F.check_street_csv(p, month="2019-09")


def test_check_street_csv_counts_rows_and_lines(tmp_path):
    p = tmp_path / "f.csv"
    p.write_text(
        HEADER + '\n,2019-09,a,b,1,2,"On or near\nX",E01,n,Robbery,,\n,2019-09,a,b,1,2,loc,E01,n,Robbery,,',
        encoding="utf-8",
    )
    assert F.check_street_csv(p, month="2019-09") == {"rows": 2, "lines": 3}


def test_directory_of_a_full_size_archive(tmp_path, client):
    """A directory as large as a real archive's (44 forces x 36 months x 3 files = 4,752 members):
    one month still costs 5 requests and about tail + directory + member bytes. The other
    members are placeholders (only their names matter: they are never read)."""
    from policeuk_server import ArchiveServer

    from hotspots.prepare.forces import list_forces

    forces = [*list_forces()["force"], "btp"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for mo in F.month_range("2016-10", "2019-09"):
            for f in forces:
                for kind in ("street", "outcomes", "stop-and-search"):
                    name = f"{mo}/{mo}-{f}-{kind}.csv"
                    zf.writestr(name, NOTTS_BYTES if name == NOTTS else b"Crime ID,Month\n")
    z = buf.getvalue()
    infos = zipfile.ZipFile(io.BytesIO(z)).infolist()
    assert len(infos) == 4_752
    member = next(i for i in infos if i.filename == NOTTS)
    cd_start = max(i.header_offset for i in infos)  # the directory follows the last member
    with ArchiveServer({"2019-09": z}) as s:
        res = F.fetch_police_uk(
            "nottinghamshire", "2019-09", "2019-09", tmp_path, index_url=s.index_url, client=client, progress=False
        )
    assert (tmp_path / NOTTS).read_bytes() == NOTTS_BYTES
    assert res.requests == 5
    assert res.bytes_received < 131_072 + (len(z) - cd_start) + member.compress_size + 5_000


# -- the CLI: init, fetch, then check (the three commands for a new force) ---------------


def _cli(*args: str):
    import logging
    import warnings

    from click.testing import CliRunner

    from hotspots.cli import main

    lg = logging.getLogger("hotspots")
    saved = (lg.handlers[:], lg.level, lg.propagate, warnings.showwarning)
    try:
        return CliRunner().invoke(main, list(args))
    finally:
        lg.handlers[:], lg.level, lg.propagate = saved[0], saved[1], saved[2]
        warnings.showwarning = saved[3]


def test_fetch_errors_are_one_line_exit_2(tmp_path):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    cases = [
        (["--force", "nottinghamshir", "--from", "2019-09", "--to", "2019-09"], "error: unknown police force"),
        (["--force", "gwent", "--from", "2019-9", "--to", "2019-09"], "error: --from '2019-9' is not a month"),
        (
            ["--force", "gwent", "--from", "2019-09", "--to", "2019-09", "--index-url", f"http://127.0.0.1:{port}/x/"],
            f"error: cannot reach 127.0.0.1:{port}",
        ),
    ]
    for args, message in cases:
        r = _cli("fetch", *args, "--out", str(tmp_path / "o"), "--no-progress")
        assert r.exit_code == 2, r.output
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(message), r.stderr
    r = _cli("fetch", "--from", "2019-09", "--to", "2019-09")
    assert r.exit_code == 2 and "give --config FILE.toml (written by `hotspots init`) or --force NAME" in r.output


def test_three_commands_for_a_new_force(server, tmp_path, monkeypatch):
    """init -> fetch (from the local archive server) -> check: the area and incidents of the bundled example."""
    import functools

    monkeypatch.setattr(F, "PoliteClient", functools.partial(F.PoliteClient, min_interval=0.0))  # a local server
    cfg = tmp_path / "notts" / "notts.toml"
    r = _cli("init", "--force", "Nottinghamshire Police", "--out", str(cfg))
    assert r.exit_code == 0, r.output
    r = _cli("fetch", "--config", str(cfg), "--from", "2019-09", "--to", "2019-09", "--index-url", server.index_url)
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith(f"nottinghamshire: 1 month file(s) in {cfg.parent / 'police_uk'} (1 downloaded")
    assert "11,472 rows" in r.stdout
    assert (cfg.parent / "police_uk" / NOTTS).read_bytes() == NOTTS_BYTES
    r = _cli("check", "--config", str(cfg))
    assert r.exit_code == 0, r.output
    assert "679 LSOAs" in r.stdout and "3,163 incidents in scope" in r.stdout
    assert "673 of 679 area LSOAs have police.uk rows" in r.stdout
