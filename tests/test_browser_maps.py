"""The three maps in a real browser (Playwright driving Debian's Chromium), as their users would use them.

Each map written by the real run on the bundled data (the session's ``bundled_run``) is
opened from ``file://`` with every non-``file:``/``data:`` request aborted, on a desktop
(1400 x 900) and a phone (390 x 844) viewport: no request may leave the page, no console or
JavaScript error; real mouse clicks and taps open the popups of places, zones and hot cells
on a fresh load; search, the panel, labels, the month filter, the layer control and the legend
work; controls leave most of a phone's screen to the map. Skips with the reason when
Playwright or Chromium is missing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from browser import PageLog, assert_clean, assert_not_blank, open_offline, requires_chromium

from hotspots import columns as C
from hotspots.present.maps import build as maps
from hotspots.present.maps.config import AUDIENCES, TITLES

pytestmark = requires_chromium

XSS = "<img src=x onerror=alert(1)>"
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


def open_map(chromium, run, audience: str, viewport: dict[str, int] = DESKTOP) -> tuple[Any, PageLog]:
    """Open one map offline (a touch screen for the phone) and wait until its script says it is ready.

    Every request other than ``file:`` and ``data:`` is aborted and recorded, as in
    :func:`browser.open_offline`.
    """
    phone = viewport["width"] < DESKTOP["width"] / 2
    context = chromium.new_context(viewport=viewport, has_touch=phone, is_mobile=phone)
    page = context.new_page()
    log = PageLog()

    def route(r: Any) -> None:
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            log.blocked_requests.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log.page_errors.append(str(e)))
    page.on("requestfailed", lambda r: log.failed_requests.append(f"{r.url} ({r.failure})"))
    page.on("dialog", lambda d: (log.dialogs.append(d.message), d.dismiss()))
    page.goto((run.out / "maps" / f"{audience}.html").resolve().as_uri(), wait_until="load")
    page.wait_for_function("window.HS && window.HS.ready === true", timeout=15000)
    return page, log


def popup_text(page) -> str:
    page.wait_for_selector(".leaflet-popup-content", timeout=3000)
    return page.locator(".leaflet-popup-content").first.inner_text()


def act(page, script: str, arg: Any = None) -> None:
    """Run ``script`` (a statement, or an arrow function of ``arg``) for its effect, returning nothing.

    Leaflet methods return the map or layer, a huge cyclic object Playwright would try to copy.
    """
    if "=>" in script.split("{", 1)[0]:
        page.evaluate(f"a => {{ ({script})(a); }}", arg)
    else:
        page.evaluate(f"() => {{ {script}; }}")


def close_popup(page) -> None:
    """Close the open popup and wait until it has left the page (it fades out)."""
    act(page, "HS.map.closePopup()")
    page.wait_for_function("!document.querySelector('.leaflet-popup')", timeout=3000)


FIND_SPOT = """([key, fid, zoom]) => {
  /* centre the map on the feature and find a pixel where the feature itself is the topmost element */
  const lay = HS.index[key][fid];
  const ll = lay.feature ? L.latLng(lay.feature.properties.p) : lay.getLatLng();
  HS.map.setView(ll, zoom || HS.map.getZoom(), {animate: false});
  const own = lay._path || lay._icon;
  const box = HS.map.getContainer().getBoundingClientRect();
  const c = HS.map.latLngToContainerPoint(ll);
  /* a finger is wide: keep 30 px from any other marker (the browser may give the tap to it) */
  const icons = Array.from(document.querySelectorAll('.leaflet-marker-icon')).filter(i => i !== own)
    .map(i => i.getBoundingClientRect());
  const clear = (x, y) => icons.every(q => x < q.left - 30 || x > q.right + 30 || y < q.top - 30 || y > q.bottom + 30);
  for (let r = 0; r < 150; r += 6) for (let a = 0; a < 360; a += (r ? 30 : 360)) {
    const x = c.x + box.left + r * Math.cos(a * Math.PI / 180), y = c.y + box.top + r * Math.sin(a * Math.PI / 180);
    const el = document.elementFromPoint(x, y);
    if (el && (el === own || (own && own.contains(el))) && (!lay.feature || clear(x, y))) return [x, y];
  }
  return null;
}"""


def click_feature(page, key: str, fid: str, *, zoom: float | None = None, tap: bool = False) -> str | None:
    """Centre the map on a feature, click (or tap) it where nothing lies on top of it, return the popup text.

    None when every pixel near the feature is covered by another layer's feature.
    """
    xy = page.evaluate(FIND_SPOT, [key, fid, zoom])
    if xy is None:
        return None
    if tap:
        page.touchscreen.tap(xy[0], xy[1])
    else:
        page.mouse.click(xy[0], xy[1])
    return popup_text(page)


def visible_controls_share(page) -> float:
    """Share of the viewport covered by visible map controls (union of their boxes, sampled every 2 px)."""
    return page.evaluate(
        """() => {
             const W = innerWidth, H = innerHeight, step = 2;
             const boxes = Array.from(document.querySelectorAll('.leaflet-control'))
               .filter(c => c.offsetParent !== null && !c.hidden)
               .map(c => c.getBoundingClientRect()).filter(r => r.width > 0 && r.height > 0);
             let hit = 0, all = 0;
             for (let y = 0; y < H; y += step) for (let x = 0; x < W; x += step) {
               all++;
               if (boxes.some(r => x >= r.left && x < r.right && y >= r.top && y < r.bottom)) hit++;
             }
             return hit / all;
           }"""
    )


def overlaps(page, a: str, b: str) -> bool:
    """Whether the boxes of the first visible elements matching selectors ``a`` and ``b`` intersect."""
    return page.evaluate(
        """([a, b]) => {
             const r = s => { const e = Array.from(document.querySelectorAll(s)).find(x => x.offsetParent !== null);
                               return e ? e.getBoundingClientRect() : null; };
             const p = r(a), q = r(b);
             return !!(p && q && p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom);
           }""",
        [a, b],
    )


# --------------------------------------------------------------------------------------
# loads offline and looks like a map
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("audience", AUDIENCES)
def test_map_loads_offline_clean_fast_and_drawn(chromium, bundled_run, audience):
    path = bundled_run.out / "maps" / f"{audience}.html"
    assert path.stat().st_size < 5e6, f"{audience}.html is {path.stat().st_size / 1e6:.1f} MB"
    page, log = open_map(chromium, bundled_run, audience)
    try:
        assert page.locator(".hs-title h1").inner_text() == TITLES[audience]
        assert bundled_run.run.study.analysis_period in page.locator(".hs-title").inner_text()
        assert page.locator(".hs-legend .hs-legend-title").count() > 0, "no legend section visible"
        assert page.evaluate("document.querySelectorAll('path.leaflet-interactive').length") > 0
        assert page.evaluate("HS.tti") < 5000
        page.locator(".hs-notes summary").click()
        assert "Open Government Licence v3.0" in page.locator(".hs-notes").inner_text()
        assert_not_blank(page)
        assert_clean(log)  # basemap "none": not one request left the page
    finally:
        page.context.close()


# --------------------------------------------------------------------------------------
# clicks that work on a fresh load
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_click_the_rank_1_place_the_zone_and_a_hot_cell(chromium, bundled_run, viewport):
    r = bundled_run.run
    top = r.rank.places.sort_values(C.RANK).iloc[0]
    cell = r.detect.grid.sort_values(C.GI_Z, ascending=False).iloc[0]
    assert cell[C.HOTSPOT_CLASS].startswith("hot")
    cases = [
        ("board", "places", str(top[C.LSOA_CODE]), [str(top[C.LSOA_NAME]), "rank", "Why"]),
        ("outreach", "outreach", "Z01", ["Zone Z01", "Start", "On or near"]),
        ("analyst", "gi_grid", str(cell[C.CELL_ID]), [f"Grid cell {cell[C.CELL_ID]}", "Hot spot, 99 % confidence"]),
    ]
    for audience, key, fid, expected in cases:
        page, log = open_map(chromium, bundled_run, audience, VIEWPORTS[viewport])
        try:
            text = click_feature(page, key, fid, zoom=14, tap=viewport == "phone")
            assert text is not None, f"{audience}: {fid} is covered by other features"
            for e in expected:
                assert e in text, f"{audience}: {e!r} not in popup {text!r}"
            assert "District boundaries" not in text and "Wards" not in text
            assert_clean(log)
        finally:
            page.context.close()


def test_boundaries_never_take_a_click(chromium, bundled_run):
    page, _ = open_map(chromium, bundled_run, "board")
    try:
        info = page.evaluate(
            """() => ['wards', 'districts'].map(k => {
                 const paths = []; HS.groups[k].eachLayer(g => g.eachLayer && g.eachLayer(l => paths.push(l._path)));
                 return [paths.length, paths.filter(p => p.classList.contains('leaflet-interactive')).length,
                         getComputedStyle(HS.map.getPane('hs-outlines')).pointerEvents,
                         +HS.map.getPane('hs-outlines').style.zIndex
                           < +getComputedStyle(HS.map.getPane('overlayPane')).zIndex];
               })"""
        )
        for n, interactive, events, beneath in info:
            assert n > 0 and interactive == 0 and events == "none" and beneath
    finally:
        page.context.close()


@pytest.mark.parametrize("audience", AUDIENCES)
def test_every_layer_on_at_load_opens_its_popup_on_click(chromium, bundled_run, audience):
    """Each interactive layer shown when the page opens: a real click on one of its features opens its popup."""
    page, log = open_map(chromium, bundled_run, audience)
    try:
        layers = page.evaluate(
            "HS.data.layers.filter(l => l.show && l.interactive && (l.features.length || l.points.length))"
            ".map(l => [l.key, l.features.map(f => [f.properties.i, f.properties.t])"
            ".concat(l.points.map(p => [p.i, p.t]))])"
        )
        assert layers
        for key, feats in layers:
            done = False
            for fid, title in feats[:8]:
                close_popup(page)
                text = click_feature(page, key, fid, zoom=15)
                if text is None:
                    continue
                plain = page.evaluate(
                    "t => { const e = document.createElement('textarea'); e.innerHTML = t; return e.value; }", title
                )
                assert text.startswith(plain), f"{audience}/{key}: clicked {plain!r}, popup says {text[:80]!r}"
                done = True
                break
            assert done, f"{audience}: no feature of layer {key!r} could be clicked"
        assert_clean(log)
    finally:
        page.context.close()


# --------------------------------------------------------------------------------------
# find things: search, panel, labels, month filter
# --------------------------------------------------------------------------------------


def search_and_pick(page, text: str) -> str:
    box = page.locator(".hs-q")
    box.fill("")
    box.type(text, delay=5)
    page.wait_for_selector(".hs-results li[data-i]", timeout=3000)
    first = page.locator(".hs-results li[data-i]").first.inner_text()
    box.press("Enter")
    page.wait_for_timeout(150)
    return first


def test_search_finds_places_wards_streets_kits_and_zones(chromium, bundled_run):
    r = bundled_run.run
    top = r.rank.places.sort_values(C.RANK).iloc[0]
    ward = str(r.study.wards[C.WARD_NAME].iloc[0])
    page, log = open_map(chromium, bundled_run, "outreach")
    try:
        first = search_and_pick(page, "Z01")
        assert first.lower().startswith("zone") and "Zone Z01" in popup_text(page)
        close_popup(page)
        first = search_and_pick(page, "Kit 1")
        assert first.lower().startswith("kit") and popup_text(page).startswith("Kit 1:")
        close_popup(page)
        first = search_and_pick(page, ward)
        assert first.lower().startswith("ward") and ward in first and page.evaluate("HS.map.getZoom()") >= 13
        street = page.evaluate("HS.data.search.find(e => e.k === 'street').l")
        first = search_and_pick(page, street.split(",")[0])
        assert first.lower().startswith("street") and page.evaluate("HS.map.getZoom()") >= 16
        assert_clean(log)
    finally:
        page.context.close()
    page, log = open_map(chromium, bundled_run, "board", PHONE)
    try:
        first = search_and_pick(page, str(top[C.LSOA_CODE]))
        assert first.lower().startswith("place") and str(top[C.LSOA_NAME]) in popup_text(page)
        assert_clean(log)
    finally:
        page.context.close()


@pytest.mark.parametrize("audience", ["board", "outreach"])
def test_panel_lists_the_top_items_and_zooms_to_them(chromium, bundled_run, audience):
    page, log = open_map(chromium, bundled_run, audience)
    try:
        zoom = page.evaluate("HS.map.getZoom()")
        item = page.locator(".hs-list a").first
        label = item.inner_text()
        item.click()
        page.wait_for_timeout(150)
        assert page.evaluate("HS.map.getZoom()") > zoom
        text = popup_text(page)
        assert label.split(" \u00b7 ")[0].split(". ", 1)[-1] in text
        page.wait_for_timeout(100)
        for ctl in (".hs-title", ".hs-find", ".leaflet-control-layers", ".hs-legend"):
            assert not overlaps(page, ".leaflet-popup-content-wrapper", ctl), f"popup under {ctl}"
        tabs = page.locator(".hs-tabs button")
        assert tabs.count() == 2  # places or zones, and kits
        tabs.nth(1).click()
        assert page.locator(".hs-list a").first.inner_text().startswith("Kit 1:")
        assert_clean(log)
    finally:
        page.context.close()


def test_labels_districts_wards_streets_and_places(chromium, bundled_run):
    page, log = open_map(chromium, bundled_run, "board")
    try:
        texts = page.evaluate("Array.from(document.querySelectorAll('.hs-label')).map(e => [e.className, e.innerText])")
        assert any("districts" in c for c, _ in texts), "no district name at county zoom"
        assert not any("street" in c for c, _ in texts), "street names before street zoom"
        top = bundled_run.run.rank.places.sort_values(C.RANK).iloc[0]
        act(
            page,
            "code => HS.map.setView(HS.index.places[code].feature.properties.p, 15, {animate: false})",
            str(top[C.LSOA_CODE]),
        )
        page.wait_for_timeout(200)
        texts = page.evaluate("Array.from(document.querySelectorAll('.hs-label')).map(e => [e.className, e.innerText])")
        streets = [t for c, t in texts if "street" in c]
        assert len(streets) >= 5, texts
        generic = {"Supermarket", "Parking Area", "Nightclub", "Petrol Station", "Shopping Area"}
        assert not generic & set(streets)
        assert any("wards" in c for c, _ in texts) and any(f"1 \u00b7 {top[C.LSOA_NAME]}" == t for _, t in texts)
        # labels never take a click
        assert page.evaluate("getComputedStyle(HS.map.getPane('hs-labels')).pointerEvents") == "none"
        assert_clean(log)
    finally:
        page.context.close()


def test_month_filter_on_the_analyst_map(chromium, bundled_run):
    page, log = open_map(chromium, bundled_run, "analyst")
    try:
        months = page.evaluate("HS.data.months")
        assert len(months) > 1
        select = page.locator(".hs-month select")
        select.select_option(label=months[-1])
        page.wait_for_timeout(100)
        shown_last = page.evaluate("HS.shownPoints")
        select.select_option(value="-1")
        shown_all = page.evaluate("HS.shownPoints")
        assert 0 < shown_last < shown_all
        assert page.evaluate("HS.map.hasLayer(HS.groups.monthly)")
        select.select_option(label=months[-1])
        pid = page.evaluate(
            "m => HS.data.layers.find(l => l.key === 'monthly').points.find(p => p.m.some(x => x[0] === m)).i",
            len(months) - 1,
        )
        act(page, "id => HS.index.monthly[id].openPopup()", pid)
        assert f"In {months[-1]}" in popup_text(page)
        assert_clean(log)
    finally:
        page.context.close()


# --------------------------------------------------------------------------------------
# readable on a phone, colours and shapes
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("audience", AUDIENCES)
def test_controls_cover_under_35_percent_of_a_phone(chromium, bundled_run, audience):
    page, log = open_map(chromium, bundled_run, audience, PHONE)
    try:
        share = visible_controls_share(page)
        assert share < 0.35, f"{audience}: controls cover {share:.0%} of a 390x844 screen"
        assert page.locator(".leaflet-control-layers-expanded").count() == 0, "layer control not collapsed"
        assert not page.locator(".hs-legend details").evaluate("d => d.open"), "legend not collapsed"
        assert_clean(log)
    finally:
        page.context.close()


def test_popup_opens_clear_of_controls_on_a_phone(chromium, bundled_run):
    page, log = open_map(chromium, bundled_run, "board", PHONE)
    try:
        top = bundled_run.run.rank.places.sort_values(C.RANK).iloc[0]
        # put the place just below the search box (its popup would open upwards, under the controls), tap it
        xy = page.evaluate(
            """code => { const p = HS.index.places[code].feature.properties.p;
                 HS.map.setView(p, 15, {animate: false});
                 const below = document.querySelector('.hs-find').getBoundingClientRect().bottom + 25;
                 const pt = HS.map.latLngToContainerPoint(p);
                 HS.map.panBy([0, pt.y - below], {animate: false});
                 const q = HS.map.latLngToContainerPoint(p); return [q.x, q.y]; }""",
            str(top[C.LSOA_CODE]),
        )
        page.touchscreen.tap(*xy)
        assert str(top[C.LSOA_NAME]) in popup_text(page)
        page.wait_for_timeout(450)
        for ctl in (
            ".hs-title",
            ".hs-find",
            ".leaflet-control-layers",
            ".hs-legend",
            ".leaflet-control-zoom",
            ".hs-notes",
        ):
            assert not overlaps(page, ".leaflet-popup-content-wrapper", ctl), f"popup under {ctl}"
        box = page.evaluate(
            "(() => { const r = document.querySelector('.leaflet-popup').getBoundingClientRect();"
            " return [r.left, r.right]; })()"
        )
        assert box[0] >= 0 and box[1] <= PHONE["width"]
        assert_clean(log)
    finally:
        page.context.close()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_legend_never_over_the_layer_list(chromium, bundled_run, viewport):
    page, log = open_map(chromium, bundled_run, "analyst", VIEWPORTS[viewport])
    try:
        if viewport == "phone":
            page.locator(".hs-legend summary").tap()
            page.locator(".leaflet-control-layers-toggle").tap()
        for box in page.locator(".leaflet-control-layers-overlays input").all():
            if not box.is_checked():
                box.tap() if viewport == "phone" else box.click()
        page.wait_for_timeout(200)
        assert page.locator(".hs-legend section").count() >= 8
        assert not overlaps(page, ".hs-legend", ".leaflet-control-layers")
        bottom = page.evaluate("document.querySelector('.hs-legend').getBoundingClientRect().bottom")
        assert bottom <= VIEWPORTS[viewport]["height"], "legend runs off the screen"
        assert_clean(log)
    finally:
        page.context.close()


def test_kits_and_start_points_differ_by_shape(chromium, bundled_run):
    page, log = open_map(chromium, bundled_run, "outreach")
    try:
        kits = page.evaluate("Array.from(document.querySelectorAll('.hs-kit svg rect')).length")
        starts = page.evaluate("Array.from(document.querySelectorAll('.hs-start svg polygon')).length")
        assert kits == len(bundled_run.run.sites.kits) and starts == len(bundled_run.run.sites.outreach)
        assert page.evaluate("document.querySelectorAll('.hs-kit svg polygon, .hs-start svg rect').length") == 0
        body = page.locator("body").inner_text()
        assert "venue:" not in body and "incident_location" not in body and "e+0" not in body
        assert_clean(log)
    finally:
        page.context.close()


# --------------------------------------------------------------------------------------
# markup in the data
# --------------------------------------------------------------------------------------


def test_markup_in_data_renders_as_text_and_runs_nothing(chromium, bundled_run, tmp_path):
    r = bundled_run.run
    venues = r.study.venues.copy()
    venues.loc[venues.index[0], C.VENUE_NAME] = XSS
    venues.loc[venues.index[0], C.VENUE_ADDRESS] = "`${alert(2)}`</script><script>alert(3)</script>"
    study = dataclasses.replace(r.study, venues=venues.iloc[:1])
    outreach = r.sites.outreach.copy()
    outreach.loc[outreach.index[0], C.REASON] = XSS
    results = dict(maps.stage_results(r.detect, r.rank, r.sites), outreach=outreach)
    path = maps.write_map(maps.build_map("outreach", results, study), tmp_path / "xss.html")
    page, log = open_offline(chromium, path, settle_ms=0)
    try:
        page.wait_for_function("window.HS && HS.ready")
        act(page, "HS.index.venues.v0.openPopup()")
        text = popup_text(page)
        assert XSS in text and "${alert(2)}" in text
        close_popup(page)
        act(page, "HS.index.outreach.Z01.openPopup()")
        assert XSS in popup_text(page)
        page.locator(".hs-q").fill("img src")
        page.wait_for_timeout(100)
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
        assert_clean(log)  # no dialog fired, no request for 'x'
    finally:
        page.context.close()


# --------------------------------------------------------------------------------------
# base maps and `hotspots serve`
# --------------------------------------------------------------------------------------

PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8ff"
    "ff3f0005fe02fea7d605b30000000049454e44ae426082"
)


def test_online_basemap_asks_only_its_tile_host_with_a_referer_when_served(chromium, bundled_run, tmp_path):
    from hotspots.present.maps.serve import MapServer

    r = bundled_run.run
    run_dir = tmp_path / "run"
    page_ = maps.build_map("board", maps.stage_results(r.detect, r.rank, r.sites), r.study, basemap="openstreetmap")
    maps.write_map(page_, run_dir / "maps" / "board.html")
    seen: dict[str, list[Any]] = {"file": [], "http": []}

    def visit(url: str, kind: str) -> None:
        context = chromium.new_context(viewport=DESKTOP)
        page = context.new_page()

        def route(route_: Any) -> None:
            req = route_.request
            if req.url.startswith(("file:", "data:")) or req.url.startswith(server.url):
                route_.continue_()
                return
            seen[kind].append((req.url, req.headers.get("referer")))
            if kind == "file":  # as the tile server does without a Referer
                route_.fulfill(status=403, content_type="text/plain", body=b"Referer is required")
            else:
                route_.fulfill(status=200, content_type="image/png", body=PNG_1X1)

        page.route("**/*", route)
        page.goto(url, wait_until="load")
        page.wait_for_function("window.HS && HS.ready")
        page.wait_for_timeout(500)
        notice = page.locator(".hs-notice")
        if kind == "file":
            assert notice.is_visible() and "hotspots serve" in notice.inner_text()
        else:
            assert not notice.is_visible()
        context.close()

    with MapServer(run_dir) as server:
        visit((run_dir / "maps" / "board.html").as_uri(), "file")
        visit(server.url + "maps/board.html", "http")
    for kind in ("file", "http"):
        hosts = {u.split("/")[2] for u, _ in seen[kind]}
        assert hosts == {"tile.openstreetmap.org"}, f"{kind}: requests to {hosts}"
    assert all(ref is None for _, ref in seen["file"]), "a file page sent a Referer"
    assert all(ref and ref.startswith("http://127.0.0.1:") for _, ref in seen["http"]), seen["http"][:3]


def test_serve_gives_an_index_and_refuses_a_folder_without_maps(bundled_run, tmp_path):
    import urllib.request

    from hotspots.errors import InputError
    from hotspots.present.maps.serve import MapServer

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with MapServer(bundled_run.out) as server:
        assert server.url.startswith("http://127.0.0.1:")
        index = opener.open(server.url, timeout=10).read().decode()
        assert all(f"maps/{a}.html" in index for a in AUDIENCES) and "report.html" in index
        assert len(opener.open(server.url + "maps/board.html", timeout=10).read()) > 100_000
        with pytest.raises(InputError, match=r"cannot listen on 127.0.0.1 port \d+ .*choose another with --port"):
            MapServer(bundled_run.out, port=int(server.url.rsplit(":", 1)[1].strip("/")))
    with pytest.raises(InputError, match=r"holds no maps \(maps/\*.html\)"):
        MapServer(tmp_path)
