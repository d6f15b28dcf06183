"""The offline asset pipeline: install from pinned npm packages with integrity checks, and inlining.

Installs run against a stand-in ``npm`` and hand-made tarballs: no network.
"""

from __future__ import annotations

import io
import json
import stat
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

from hotspots.present import assets

requires_assets = pytest.mark.skipif(
    bool(assets.problems(deep=False)),
    reason=f"offline map assets not installed; {assets.INSTALL_HINT}",
)


def _tarball(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _fake_npm(tmp_path: Path, tgz: Path) -> Path:
    """An executable that behaves like `npm pack --json --pack-destination DIR spec` for one tarball."""
    script = tmp_path / "npm"
    script.write_text(
        textwrap.dedent(f"""\
        #!{sys.executable}
        import json, shutil, sys
        args = sys.argv[1:]
        dest = args[args.index("--pack-destination") + 1]
        shutil.copy({str(tgz)!r}, dest)
        print(json.dumps([{{"name": "demo", "version": "1.0.0", "filename": {tgz.name!r}}}]))
        """)
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def _lock(tmp_path: Path, integrity: str) -> Path:
    lock = tmp_path / "lock.json"
    lock.write_text(
        json.dumps(
            {
                "packages": [
                    {
                        "name": "demo",
                        "version": "1.0.0",
                        "integrity": integrity,
                        "license": "MIT",
                        "files": ["dist/*.js"],
                        "licenses": ["LICENSE"],
                    }
                ]
            }
        )
    )
    return lock


def test_install_verifies_extracts_only_wanted_files_and_is_idempotent(tmp_path):
    tgz = _tarball(
        tmp_path / "demo-1.0.0.tgz",
        {
            "dist/demo.js": b"var demo = 1;",
            "dist/demo.js.map": b"{}",
            "src/x.js": b"x",
            "LICENSE": b"MIT demo",
            "../escape.js": b"bad",
        },
    )
    lock = _lock(tmp_path, assets.sri(tgz))
    npm = _fake_npm(tmp_path, tgz)
    dest = tmp_path / "vendor"
    assert assets.install(dest=dest, lock=lock, npm=str(npm)) == {"demo": "installed"}
    files = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert files == ["demo/LICENSE", "demo/dist/demo.js", "installed.json"]
    # second call: nothing fetched (npm that would fail is never called)
    assert assets.install(dest=dest, lock=lock, npm="no-such-npm-here") == {"demo": "present"}
    assert assets.problems(dest=dest, lock=lock) == {}
    (dest / "demo" / "dist" / "demo.js").write_text("tampered")
    assert "file changed since install" in assets.problems(dest=dest, lock=lock)["demo"]


def test_assets_command_line_check_and_install(tmp_path, capsys):
    tgz = _tarball(tmp_path / "demo-1.0.0.tgz", {"dist/demo.js": b"1", "LICENSE": b"MIT"})
    lock, npm, dest = str(_lock(tmp_path, assets.sri(tgz))), str(_fake_npm(tmp_path, tgz)), str(tmp_path / "v")
    assert assets.main(["check", "--dest", dest, "--lock", lock]) == 1
    assert "demo: not installed" in capsys.readouterr().err
    assert assets.main(["install", "--dest", dest, "--lock", lock, "--npm", npm]) == 0
    assert "installed demo" in capsys.readouterr().out
    assert assets.main(["install", "--dest", dest, "--lock", lock, "--npm", "no-such-npm-here"]) == 0
    assert "all 1 packages present" in capsys.readouterr().out
    assert assets.main(["check", "--dest", dest, "--lock", lock]) == 0
    assert assets.main(["install", "--force", "--dest", dest, "--lock", lock, "--npm", "no-such-npm-here"]) == 2
    assert "error: npm was not found" in capsys.readouterr().err


def test_install_refuses_a_tarball_that_fails_its_integrity(tmp_path):
    tgz = _tarball(tmp_path / "demo-1.0.0.tgz", {"dist/demo.js": b"evil", "LICENSE": b"MIT"})
    lock = _lock(tmp_path, "sha512-" + "A" * 86 + "==")
    dest = tmp_path / "vendor"
    with pytest.raises(assets.AssetError, match=r"integrity check failed for demo@1.0.0 .*nothing was extracted"):
        assets.install(dest=dest, lock=lock, npm=str(_fake_npm(tmp_path, tgz)))
    assert not (dest / "demo").exists()


def test_install_without_npm_says_how_to_fix(tmp_path):
    tgz = _tarball(tmp_path / "demo-1.0.0.tgz", {"dist/demo.js": b"1", "LICENSE": b"MIT"})
    with pytest.raises(assets.AssetError, match=r"npm was not found .*install Node.js with npm"):
        assets.install(dest=tmp_path / "v", lock=_lock(tmp_path, assets.sri(tgz)), npm="no-such-npm-here")


def test_lock_manifest_pins_every_package_with_sha512():
    pkgs = assets.read_lock()
    names = {p.name for p in pkgs}
    assert names == {"leaflet"}  # the page's own script and style are ours (hotspots/present/maps/ui)
    assert all(p.integrity.startswith("sha512-") and len(p.integrity) == 95 for p in pkgs)
    assert all(pkg in names for pkg, _ in assets.URL_MAP.values())


def test_bad_lock_manifest_is_named(tmp_path):
    bad = tmp_path / "lock.json"
    bad.write_text(
        json.dumps({"packages": [{"name": "x", "version": "1", "integrity": "md5-abc", "files": [], "licenses": []}]})
    )
    with pytest.raises(assets.AssetError, match=r"package 'x' integrity must be a sha512 value"):
        assets.read_lock(bad)


def test_missing_assets_error_says_how_to_install(tmp_path):
    with pytest.raises(
        assets.AssetError, match=r"offline map assets are not ready .*python -m hotspots.present.assets install"
    ):
        assets.require_installed(dest=tmp_path / "empty")


def test_inline_css_keeps_woff2_only_as_data_uris(tmp_path):
    (tmp_path / "css").mkdir()
    (tmp_path / "webfonts").mkdir()
    (tmp_path / "webfonts" / "f.woff2").write_bytes(b"wOF2")
    (tmp_path / "webfonts" / "f.ttf").write_bytes(b"ttf")
    css = (
        '@font-face{font-family:X;src:url(../webfonts/f.woff2) format("woff2"),'
        'url(../webfonts/f.ttf) format("truetype")}'
    )
    out = assets.inline_css(css, tmp_path / "css" / "all.css")
    assert out == '@font-face{font-family:X;src:url("data:font/woff2;base64,d09GMg==") format("woff2")}'
    with pytest.raises(assets.AssetError, match=r"references the external URL 'https://x.test/a.png'"):
        assets.inline_css("a{background:url(https://x.test/a.png)}", tmp_path / "css" / "all.css")


@requires_assets
def test_inline_html_inlines_leaflet_and_refuses_any_other_address():
    page = (
        '<html><head><link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"/>'
        '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"></script></head><body></body></html>'
    )
    out = assets.inline_html(page)
    assert "<script src" not in out and "Leaflet 1.9.3" in out and 'id="third-party-licences"' in out
    assert "data:image/png;base64," in out  # the layer-control icon, from leaflet.css
    with pytest.raises(assets.AssetError, match=r"1 external URL\(s\) that are not vendored: https://example.org/t.js"):
        assets.inline_html(page.replace("</head>", '<script src="https://example.org/t.js"></script></head>'))
    with pytest.raises(assets.AssetError, match=r"not vendored: http:"):
        assets.inline_html(page.replace("<body>", '<body><img src="http://x.test/p.png">'))
    tiles = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert tiles in assets.inline_html(
        page.replace("<body>", f"<body>{tiles}"), allow=("https://tile.openstreetmap.org/",)
    )


def test_python_m_assets_runs_the_command_line(tmp_path):
    import subprocess

    out = subprocess.run(
        [sys.executable, "-m", "hotspots.present.assets", "check", "--dest", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 1 and "leaflet: not installed" in out.stderr


def test_external_urls_scans_only_where_a_url_can_start_and_finds_the_same():
    """The prefiltered scan finds exactly what scanning every position with the pattern finds."""
    import random

    from hotspots.present.assets import inline

    def every_position(html):
        return [m.span() for m in inline._EXTERNAL_RE.finditer(html)]

    def prefiltered(html):
        return [m.span() for m in inline._external_matches(html)]

    cases = ["///host.com", "a//b.c//d.e", "xhttp:", "ahttp://x.y", "HTTPS://A.B", "hTtPs:x", "http//a.b"]
    cases += ["https:////a.b", "\u017f http:", "//a", "//a.", "////a.b.c", "http:http:", "Khttp://k.K", ""]
    rng = random.Random(0)
    cases += ["".join(rng.choice("/htpsHTPS:.ab-_ \"'x") for _ in range(rng.randint(0, 25))) for _ in range(5000)]
    for html in cases:
        assert prefiltered(html) == every_position(html), html
    page = 'a <a href="https://tile.example/{z}"> b //cdn.x.org/y.js c HTTP: d'
    assert assets.external_urls(page) == ["https://tile.example/{z}", "//cdn.x.org/y.js", "HTTP:"]
    assert assets.external_urls(page, allow=("https://tile.example/",)) == ["//cdn.x.org/y.js", "HTTP:"]
