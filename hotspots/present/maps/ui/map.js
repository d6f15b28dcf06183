/* hotspots map page: draws the layers in #hs-data with Leaflet; search, panel, legend, labels,
   month filter. Written for this project (MIT, like the package); no other library. Every text
   in the data is escaped HTML already (hotspots.present.maps.text.esc), so it is inserted as is. */
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('hs-data').textContent);
  var W = window.innerWidth, H = window.innerHeight;
  var SMALL = W < 700 || H < 560;
  var TOUCH = window.matchMedia && window.matchMedia('(hover: none)').matches;
  var HS = window.HS = { data: D, groups: {}, index: {}, month: -1, ready: false };

  var map = L.map('map', { zoomControl: false, minZoom: 7, maxZoom: 19, zoomSnap: 0.5, wheelPxPerZoomLevel: 90 });
  HS.map = map;
  map.attributionControl.setPrefix('Leaflet');

  function makePane(name, z, clickable) {
    var p = map.createPane(name);
    p.style.zIndex = String(z);
    if (!clickable) { p.style.pointerEvents = 'none'; }
    return p;
  }
  makePane('hs-outlines', 350, false);
  makePane('hs-rings', 420, false);
  makePane('hs-labels', 450, false);
  makePane('hs-points', 590, true);
  var PANE = { outlines: 'hs-outlines', features: 'overlayPane', rings: 'hs-rings', points: 'hs-points', markers: 'markerPane' };
  /* dots are SVG in their own pane; its svg element lets clicks through to the areas below (map.css) */
  var dots = L.svg({ pane: 'hs-points', padding: 0.2 });

  map.fitBounds(D.bounds, { animate: false, padding: SMALL ? [4, 4] : [16, 16] });

  /* ---------------------------------------------------------------- popups and tooltips */
  var popupOptions = {
    maxWidth: Math.min(360, W - 48),
    minWidth: Math.min(220, W - 60),
    maxHeight: Math.round(SMALL ? H * 0.42 : Math.min(460, H * 0.6)),
    autoPan: false,
    className: 'hs-popup'
  };

  function monthRow(p) {
    if (!p.m || HS.month < 0) { return ''; }
    var n = 0;
    for (var i = 0; i < p.m.length; i++) { if (p.m[i][0] === HS.month) { n = p.m[i][1]; } }
    return '<tr><th>In ' + D.months[HS.month] + '</th><td>' + n + '</td></tr>';
  }

  function popupHtml(lay, p) {
    var labels = p.f || lay.fields, rows = monthRow(p);
    for (var i = 0; i < p.v.length; i++) {
      if (p.v[i] !== '' && p.v[i] !== null && labels[i] !== undefined) {
        rows += '<tr><th>' + labels[i] + '</th><td>' + p.v[i] + '</td></tr>';
      }
    }
    return '<div class="hs-pop"><div class="hs-pop-title">' + p.t + '</div>' +
      (rows ? '<table>' + rows + '</table>' : '') + '</div>';
  }

  function tipHtml(lay, p) {
    var labels = p.f || lay.fields, out = '<b>' + p.t + '</b>';
    for (var i = 0; i < Math.min(lay.tip, p.v.length); i++) {
      if (p.v[i] !== '') { out += '<br><span class="hs-tip-k">' + labels[i] + ':</span> ' + p.v[i]; }
    }
    return out;
  }

  function bindInfo(lay, layer, p) {
    layer.bindPopup(function () { return popupHtml(lay, p); }, popupOptions);
    if (!TOUCH) { layer.bindTooltip(function () { return tipHtml(lay, p); }, { sticky: true, className: 'hs-tip', direction: 'auto' }); }
  }

  /* ---------------------------------------------------------------- markers */
  function markerIcon(shape, text, colour) {
    var svg;
    if (shape === 'kit') {
      svg = '<svg width="30" height="30" viewBox="0 0 30 30" aria-hidden="true">' +
        '<rect x="3" y="5" width="22" height="22" rx="3" fill="' + colour + '" stroke="#fff" stroke-width="2"/>' +
        '<path d="M14 10v12M8 16h12" stroke="#fff" stroke-width="3.2" stroke-linecap="round"/></svg>' +
        (text ? '<span class="hs-badge">' + text + '</span>' : '');
      return L.divIcon({ className: 'hs-marker hs-kit', html: svg, iconSize: [30, 30], iconAnchor: [14, 16], popupAnchor: [0, -12], tooltipAnchor: [12, 0] });
    }
    svg = '<svg width="30" height="28" viewBox="0 0 30 28" aria-hidden="true">' +
      '<polygon points="15,2 28,26 2,26" fill="' + colour + '" stroke="#000" stroke-width="1.8" stroke-linejoin="round"/></svg>' +
      (text ? '<span class="hs-badge hs-badge-start">' + text + '</span>' : '');
    return L.divIcon({ className: 'hs-marker hs-start', html: svg, iconSize: [30, 28], iconAnchor: [15, 26], popupAnchor: [0, -22], tooltipAnchor: [12, -12] });
  }

  function dotRadius(lay, p) {
    var base = lay.style.radius || 4;
    if (!p.m) { return base; }
    var n = 0;
    if (HS.month < 0) { for (var i = 0; i < p.m.length; i++) { n += p.m[i][1]; } } else {
      for (var j = 0; j < p.m.length; j++) { if (p.m[j][0] === HS.month) { n = p.m[j][1]; } }
    }
    return n > 0 ? base + 1.6 * Math.sqrt(n) : 0;
  }

  /* ---------------------------------------------------------------- layers */
  function fillOf(lay, c) {
    var f = lay.style.fill;
    if (Array.isArray(f)) { return f[Math.min(c, f.length - 1)]; }
    return f === undefined ? 0.6 : f;
  }

  function buildLayer(lay) {
    var group = L.featureGroup();
    var index = HS.index[lay.key] = {};
    if (lay.features.length) {
      var gj = L.geoJSON({ type: 'FeatureCollection', features: lay.features }, {
        pane: PANE[lay.pane] || 'overlayPane',
        interactive: lay.interactive,
        style: function (f) {
          var c = f.properties.c, colour = lay.palette[c] || '#777777', dash = lay.style.dash;
          return {
            fillColor: colour, fillOpacity: fillOf(lay, c), color: lay.style.line || colour,
            weight: lay.style.weight === undefined ? 1 : lay.style.weight, opacity: lay.style.weight === 0 ? 0 : 0.9,
            /* outline: lines only (the area inside stays clickable for the layers beneath) */
            fill: !lay.style.outline, dashArray: (Array.isArray(dash) ? dash[c] : dash) || null
          };
        },
        onEachFeature: function (f, layer) {
          index[f.properties.i] = layer;
          if (!lay.interactive) { return; }
          bindInfo(lay, layer, f.properties);
          layer.on('mouseover', function () { layer.setStyle({ weight: 3, color: '#111111', opacity: 1 }); });
          layer.on('mouseout', function () { gj.resetStyle(layer); });
        }
      });
      group.addLayer(gj);
    }
    lay.points.forEach(function (p) {
      var colour = lay.palette[p.c] || '#333333', m;
      if (p.s === 'dot') {
        m = L.circleMarker(p.ll, { renderer: dots, pane: 'hs-points', radius: dotRadius(lay, p), fillColor: colour, fillOpacity: 0.85, color: '#ffffff', weight: 1 });
        m.hsPoint = p;
      } else {
        m = L.marker(p.ll, { icon: markerIcon(p.s, p.n, p.s === 'start' ? colour : colour), pane: 'markerPane', riseOnHover: true, alt: '' });
      }
      if (p.r) {
        group.addLayer(L.circle(p.ll, { radius: p.r, pane: 'hs-rings', interactive: false, color: colour, weight: 1.5, dashArray: '5 4', fillColor: colour, fillOpacity: 0.07 }));
      }
      bindInfo(lay, m, p);
      index[p.i] = m;
      group.addLayer(m);
    });
    return group;
  }

  D.layers.forEach(function (lay) {
    var g = buildLayer(lay);
    HS.groups[lay.key] = g;
    if (lay.show) { g.addTo(map); }
  });

  /* ---------------------------------------------------------------- base map */
  var bases = null;
  if (D.basemap) {
    var b = D.basemap;
    var tiles = L.tileLayer(b.url, {
      attribution: b.attribution, subdomains: b.subdomains || 'abc', maxZoom: b.maxZoom,
      maxNativeZoom: b.maxZoom, crossOrigin: false
    });
    bases = {};
    bases[b.name + ' (online)'] = tiles;
    bases['No base map'] = L.layerGroup();
    tiles.addTo(map);
    var failed = 0;
    tiles.on('tileerror', function () {
      failed += 1;
      if (failed === 3) { HS.notice('Base-map tiles did not load. Offline, or the page was opened as a file: ' +
        'open the maps with <code>hotspots serve RUN_DIR</code> (tile servers refuse requests without a web address).'); }
    });
  }

  /* ---------------------------------------------------------------- controls */
  function control(position, cls, html) {
    var c = L.control({ position: position });
    c.onAdd = function () {
      var div = L.DomUtil.create('div', cls + ' leaflet-control');
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    c.addTo(map);
    return c.getContainer();
  }

  control('topleft', 'hs-title', '<h1>' + D.title + '</h1><div class="hs-sub">' + D.subtitle + '</div>');

  /* find: search box and panel */
  var panelHtml = '';
  if (D.panel.length) {
    panelHtml = '<details class="hs-panel"' + (SMALL || D.audience === 'analyst' ? '' : ' open') + '><summary>' +
      D.panel.map(function (p) { return p.title; }).join(' &middot; ') + '</summary><div class="hs-tabs" role="tablist">' +
      D.panel.map(function (p, i) {
        return '<button type="button" role="tab" data-tab="' + i + '"' + (i === 0 ? ' aria-selected="true"' : '') + '>' + p.title + '</button>';
      }).join('') + '</div><ol class="hs-list"></ol></details>';
  }
  var find = control('topleft', 'hs-find',
    '<input type="search" class="hs-q" placeholder="' + D.searchHint + '" aria-label="Search the map" autocomplete="off">' +
    '<ul class="hs-results" role="listbox" hidden></ul>' + panelHtml);
  var q = find.querySelector('.hs-q'), results = find.querySelector('.hs-results');

  function showPanel(i) {
    var list = find.querySelector('.hs-list');
    if (!list) { return; }
    var p = D.panel[i];
    list.innerHTML = p.items.map(function (it, k) {
      return '<li><a href="#" data-layer="' + p.layer + '" data-id="' + it[1] + '" data-k="' + k + '">' + it[0] + '</a></li>';
    }).join('');
    Array.prototype.forEach.call(find.querySelectorAll('.hs-tabs button'), function (btn) {
      btn.setAttribute('aria-selected', btn.getAttribute('data-tab') === String(i) ? 'true' : 'false');
    });
  }
  if (D.panel.length) { showPanel(0); }
  find.addEventListener('click', function (ev) {
    var t = ev.target.closest('button[data-tab], a[data-layer], li[data-i]');
    if (!t) { return; }
    ev.preventDefault();
    if (t.hasAttribute('data-tab')) { showPanel(+t.getAttribute('data-tab')); return; }
    if (t.hasAttribute('data-i')) { choose(D.search[+t.getAttribute('data-i')]); return; }
    goTo(t.getAttribute('data-layer'), t.getAttribute('data-id'), null, null);
  });

  var plainEl = document.createElement('textarea');
  function decoded(s) { plainEl.innerHTML = s; return plainEl.value; }
  function plain(s) { return decoded(s).toLowerCase(); }

  function search(text) {
    var words = text.toLowerCase().trim().split(/\s+/).filter(Boolean);
    if (!words.length) { return []; }
    var hits = [];
    for (var i = 0; i < D.search.length && hits.length < 400; i++) {
      var e = D.search[i];
      if (e.plain === undefined) { e.plain = plain(e.l); }
      var ok = true;
      for (var w = 0; w < words.length; w++) { if (e.plain.indexOf(words[w]) < 0) { ok = false; break; } }
      if (!ok) { continue; }
      var score = e.plain.indexOf(words[0]) === 0 ? 0 : (e.plain.indexOf(' ' + words[0]) >= 0 ? 1 : 2);
      hits.push([score, i]);
    }
    hits.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
    return hits.slice(0, 8).map(function (h) { return h[1]; });
  }

  var active = -1;
  function renderResults() {
    var ids = search(q.value);
    active = ids.length ? 0 : -1;
    results.innerHTML = ids.length ? ids.map(function (i, k) {
      var e = D.search[i];
      return '<li role="option" data-i="' + i + '"' + (k === 0 ? ' class="hs-active"' : '') + '><span class="hs-kind">' +
        e.k + '</span>' + e.l + '</li>';
    }).join('') : (q.value.trim() ? '<li class="hs-none">No match</li>' : '');
    results.hidden = !results.innerHTML;
  }
  q.addEventListener('input', renderResults);
  q.addEventListener('keydown', function (ev) {
    var items = results.querySelectorAll('li[data-i]');
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      if (!items.length) { return; }
      ev.preventDefault();
      active = (active + (ev.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length;
      Array.prototype.forEach.call(items, function (li, k) { li.className = k === active ? 'hs-active' : ''; });
    } else if (ev.key === 'Enter' && active >= 0 && items[active]) {
      ev.preventDefault();
      choose(D.search[+items[active].getAttribute('data-i')]);
    } else if (ev.key === 'Escape') {
      results.hidden = true;
    }
  });

  function choose(e) {
    results.hidden = true;
    q.value = decoded(e.l);
    q.blur();
    goTo(e.ly, e.id, e.p, e.z);
  }

  var pin = null;
  function goTo(key, id, at, zoom) {
    var target = key && HS.index[key] ? HS.index[key][id] : null;
    if (target) {
      var g = HS.groups[key];
      if (!map.hasLayer(g)) { map.addLayer(g); }
      if (target.getBounds) {
        map.fitBounds(target.getBounds(), { maxZoom: Math.max(zoom || 15, 14), animate: false, padding: [40, 40] });
        var f = target.feature ? target.feature.properties.p : null;
        target.openPopup(f ? L.latLng(f[0], f[1]) : target.getBounds().getCenter());
      } else {
        map.setView(target.getLatLng(), Math.max(zoom || 16, map.getZoom()), { animate: false });
        target.openPopup();
      }
      return;
    }
    if (at) {
      map.setView(at, zoom || 16, { animate: false });
      if (pin) { map.removeLayer(pin); }
      pin = L.circleMarker(at, { radius: 14, color: '#000000', weight: 3, fill: false, interactive: false, pane: 'hs-labels' }).addTo(map);
      setTimeout(function () { if (pin) { map.removeLayer(pin); pin = null; } }, 4000);
    }
  }
  HS.goTo = goTo;
  HS.search = search;

  /* month filter (analyst map) */
  if (D.months && HS.groups.monthly) {
    var opts = '<option value="-1">All months</option>' + D.months.map(function (m, i) {
      return '<option value="' + i + '">' + m + '</option>';
    }).join('');
    var mf = control('topleft', 'hs-month', '<label>Incidents in <select aria-label="Month">' + opts + '</select></label>');
    mf.querySelector('select').addEventListener('change', function (ev) { HS.setMonth(+ev.target.value); });
  }
  HS.setMonth = function (i) {
    HS.month = i;
    var g = HS.groups.monthly, lay = null;
    D.layers.forEach(function (l) { if (l.key === 'monthly') { lay = l; } });
    if (!g || !lay) { return; }
    if (!map.hasLayer(g)) { map.addLayer(g); }
    g.eachLayer(function (m) { if (m.hsPoint) { m.setRadius(dotRadius(lay, m.hsPoint)); } });
    HS.shownPoints = 0;
    g.eachLayer(function (m) { if (m.hsPoint && m.getRadius() > 0) { HS.shownPoints += 1; } });
    var sel = document.querySelector('.hs-month select');
    if (sel) { sel.value = String(i); }
  };

  /* layer control: most important first */
  var overlays = {};
  D.layers.slice().reverse().forEach(function (lay) { overlays[lay.name] = HS.groups[lay.key]; });
  L.control.layers(bases, overlays, { collapsed: SMALL, position: 'topright' }).addTo(map);

  /* one legend, listing the layers that are on */
  var legendBox = control('topright', 'hs-legend',
    '<details' + (SMALL ? '' : ' open') + '><summary>Legend</summary><div class="hs-legend-body"></div></details>');
  var legendBody = legendBox.querySelector('.hs-legend-body');
  function swatch(colour, shape) {
    if (shape === 'kit') {
      return '<span class="hs-sw"><svg width="16" height="16" viewBox="0 0 30 30"><rect x="3" y="3" width="24" height="24" rx="3" fill="' +
        colour + '"/><path d="M15 8v14M8 15h14" stroke="#fff" stroke-width="4"/></svg></span>';
    }
    if (shape === 'start') {
      return '<span class="hs-sw"><svg width="16" height="16" viewBox="0 0 30 28"><polygon points="15,2 28,26 2,26" fill="' +
        colour + '" stroke="#000" stroke-width="2"/></svg></span>';
    }
    return '<span class="hs-sw hs-sw-' + shape + '" style="--c:' + colour + '"></span>';
  }
  function renderLegend() {
    var html = '';
    D.layers.slice().reverse().forEach(function (lay) {
      if (!lay.legend || !map.hasLayer(HS.groups[lay.key])) { return; }
      html += '<section data-layer="' + lay.key + '"><div class="hs-legend-title">' + lay.legend.title + '</div>' +
        lay.legend.items.map(function (it) { return '<div class="hs-item">' + swatch(it[0], it[2]) + '<span>' + it[1] + '</span></div>'; }).join('') +
        (lay.legend.note ? '<div class="hs-note">' + lay.legend.note + '</div>' : '') + '</section>';
    });
    legendBody.innerHTML = html || '<div class="hs-note">Switch a layer on to see its key.</div>';
    fitLegend();
  }
  function fitLegend() {
    var top = legendBody.getBoundingClientRect().top;
    legendBody.style.maxHeight = Math.max(80, window.innerHeight - top - 70) + 'px';
  }
  legendBox.querySelector('details').addEventListener('toggle', fitLegend);

  control('bottomleft', 'hs-notes', '<details><summary>About this map</summary>' + D.notes + '</details>');
  L.control.scale({ position: 'bottomleft', imperial: false, maxWidth: 100 }).addTo(map);
  L.control.zoom({ position: 'bottomright' }).addTo(map);
  var noticeBox = control('bottomleft', 'hs-notice', '');
  noticeBox.hidden = true;
  HS.notice = function (html) { noticeBox.innerHTML = html; noticeBox.hidden = false; };

  /* ---------------------------------------------------------------- labels */
  var labelGroup = L.layerGroup().addTo(map);
  function textWidth(s) { return s.replace(/&[^;]+;/g, 'x').replace(/<[^>]*>/g, '').length * 6.4 + 10; }
  function drawLabels() {
    labelGroup.clearLayers();
    var z = map.getZoom(), bounds = map.getBounds().pad(0.05), cand = [];
    D.layers.forEach(function (lay) {
      if (!lay.labels.length || !map.hasLayer(HS.groups[lay.key])) { return; }
      for (var i = 0; i < lay.labels.length; i++) {
        var l = lay.labels[i];
        if (z >= l[3] && z <= l[4] && bounds.contains([l[0], l[1]])) { cand.push(l); }
      }
    });
    cand.sort(function (a, b) { return a[5] - b[5]; });
    var placed = [], n = 0;
    for (var k = 0; k < cand.length && n < 300; k++) {
      var l2 = cand[k], pt = map.latLngToContainerPoint([l2[0], l2[1]]), w = textWidth(l2[2]);
      var box = [pt.x - w / 2, pt.y - 9, pt.x + w / 2, pt.y + 9], clash = false;
      for (var j = 0; j < placed.length; j++) {
        var o = placed[j];
        if (box[0] < o[2] && box[2] > o[0] && box[1] < o[3] && box[3] > o[1]) { clash = true; break; }
      }
      if (clash) { continue; }
      placed.push(box);
      n += 1;
      L.marker([l2[0], l2[1]], {
        pane: 'hs-labels', interactive: false, keyboard: false,
        icon: L.divIcon({ className: 'hs-label hs-label-' + l2[6].split(' ').join(' hs-label-'), html: '<span>' + l2[2] + '</span>', iconSize: null })
      }).addTo(labelGroup);
    }
    HS.labelCount = n;
  }
  var labelTimer = null;
  function queueLabels() { clearTimeout(labelTimer); labelTimer = setTimeout(drawLabels, 30); }
  map.on('moveend zoomend', queueLabels);
  map.on('overlayadd overlayremove layeradd', function (e) {
    if (e.type === 'layeradd' && !(e.layer instanceof L.FeatureGroup)) { return; }
    queueLabels();
    renderLegend();
  });

  /* ---------------------------------------------------------------- popups clear of controls */
  /* Leaflet's own auto-pan is off (popupOptions): it animates, and knows nothing of our controls.
     Here the map is moved once, without animation, so the popup lies inside the map and clear of
     every visible control (below the top ones, above the bottom ones). */
  function placePopup(popup) {
    var el = popup.getElement();
    if (!el || !map.hasLayer(popup)) { return; }
    var m = map.getContainer().getBoundingClientRect(), r = el.getBoundingClientRect(), pad = 10;
    var dx = 0, dy = 0;
    if (r.left < m.left + pad) { dx = r.left - m.left - pad; } else if (r.right > m.right - pad) { dx = r.right - m.right + pad; }
    if (r.top < m.top + pad) { dy = r.top - m.top - pad; } else if (r.bottom > m.bottom - pad) { dy = r.bottom - m.bottom + pad; }
    var left = r.left - dx, right = r.right - dx, top = r.top - dy, bottom = r.bottom - dy, down = 0, up = 0;
    Array.prototype.forEach.call(document.querySelectorAll('.leaflet-control'), function (c) {
      if (c.offsetParent === null || c.hidden) { return; }
      var k = c.getBoundingClientRect();
      if (k.width === 0 || k.right <= left || k.left >= right || k.bottom <= top || k.top >= bottom) { return; }
      if (/top/.test(c.parentNode.className)) { down = Math.max(down, k.bottom + 8 - top); } else { up = Math.max(up, bottom - k.top + 8); }
    });
    dy = dy - down + (down ? 0 : up);
    if (dx !== 0 || dy !== 0) { map.panBy([dx, dy], { animate: false }); }
  }
  HS.placePopup = placePopup;
  map.on('popupopen', function (e) {
    placePopup(e.popup);
    setTimeout(function () { placePopup(e.popup); }, 60);
  });
  map.on('popupopen', function () { if (pin) { map.removeLayer(pin); pin = null; } });
  document.addEventListener('click', function (ev) { if (!find.contains(ev.target)) { results.hidden = true; } });
  window.addEventListener('resize', fitLegend);

  renderLegend();
  drawLabels();
  HS.ready = true;
  HS.tti = performance.now();
  document.documentElement.setAttribute('data-ready', '1');
})();
