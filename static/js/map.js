/* CityDiplo maps: draws every element with a data-map attribute.
 *
 * data-map names the json_script element holding {"points": [{lat, lng, name, url,
 * focus}], "link_focus": true|false} (lines from the focus city to the others) or,
 * for many markers,
 * {"compact": [[lat, lng, name, slug]], "url_template": ".../__slug__/"}.
 * data-tile-url and data-tile-attribution come from settings.MAP_TILE_URL and
 * MAP_TILE_ATTRIBUTION. Markers and lines are vectors, so they are drawn whether or
 * not the tiles load (offline, blocked tile server); data-outline-url names a small
 * vendored land outline drawn beneath the tiles, so coastlines show even then.
 */
(function () {
  "use strict";

  var SINGLE_POINT_ZOOM = 10; // one city: show its surroundings, not half a continent
  // Up to this many markers, each is a tab stop. Past it, and on the overview maps of
  // compact data (the home page's 2,000 cities), keyboard users would tab for minutes:
  // the page's lists and search serve them instead.
  var KEYBOARD_MARKERS = 200;

  // Zooms and fades are drawn as animations unless the reader's system asks for
  // reduced motion (WCAG 2.3.3): then the map moves in one step.
  function mapOptions() {
    var calm = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    return {
      scrollWheelZoom: false,
      zoomSnap: 0.25,
      zoomAnimation: !calm,
      fadeAnimation: !calm,
      markerZoomAnimation: !calm
    };
  }

  function readPoints(data) {
    if (data.compact) {
      return data.compact.map(function (row) {
        return {
          lat: row[0],
          lng: row[1],
          name: row[2],
          url: data.url_template.replace("__slug__", encodeURIComponent(row[3])),
          focus: false
        };
      });
    }
    return data.points || [];
  }

  function nearFocus(points) {
    // Take the short way round the globe from the focus city (Tokyo to San Francisco
    // crosses the Pacific, not Europe).
    var focus = points.filter(function (p) { return p.focus; })[0];
    if (!focus) { return; }
    points.forEach(function (p) {
      if (p.lng - focus.lng > 180) { p.lng -= 360; }
      if (focus.lng - p.lng > 180) { p.lng += 360; }
    });
  }

  // Names are editors' text: they go into the page as text nodes, never as HTML
  // (Leaflet treats a string given to bindTooltip or bindPopup as markup).
  function tooltip(point) {
    var label = document.createElement("span");
    label.textContent = point.name;
    return label;
  }

  function popup(point) {
    var link = document.createElement("a");
    link.href = point.url;
    link.textContent = point.name;
    return link;
  }

  function reachableByKeyboard(marker, point) {
    // A vector marker is an SVG path: make it a focusable button that shows its name
    // on focus and opens its popup (a link to the record) on Enter or Space.
    var element = marker.getElement();
    if (!element) { return; }
    element.setAttribute("tabindex", "0");
    element.setAttribute("role", "button");
    element.setAttribute("aria-label", point.name + ", map marker");
    element.setAttribute("aria-haspopup", "dialog");
    element.addEventListener("focus", function () { marker.openTooltip(); });
    element.addEventListener("blur", function () { marker.closeTooltip(); });
    element.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" && event.key !== " ") { return; }
      event.preventDefault();
      marker.openPopup();
      var link = marker.getPopup().getElement().querySelector(".leaflet-popup-content a");
      if (link) { link.focus(); }
    });
  }

  function drawOutline(map, url) {
    if (!url || !window.fetch) { return; }
    map.createPane("land").style.zIndex = 150;  // beneath the tiles (200)
    fetch(url).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (land) {
      if (land) {
        L.geoJSON(land, { pane: "land", className: "map-land", interactive: false }).addTo(map);
      }
    }).catch(function () { /* markers are drawn already; the outline is a nicety */ });
  }

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-map"));
    if (!source || typeof L === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var points = readPoints(data);
    nearFocus(points);

    var map = L.map(element, mapOptions());
    var tiles = L.tileLayer(element.getAttribute("data-tile-url"), {
      attribution: element.getAttribute("data-tile-attribution"),
      maxZoom: 18
    });
    tiles.on("tileerror", function () { element.classList.add("map-no-tiles"); });
    tiles.addTo(map);
    drawOutline(map, element.getAttribute("data-outline-url"));

    var focus = points.filter(function (p) { return p.focus; })[0];
    points.forEach(function (p) {
      if (data.link_focus && focus && !p.focus) {
        L.polyline([[focus.lat, focus.lng], [p.lat, p.lng]], {
          className: "map-line", weight: 2, interactive: false
        }).addTo(map);
      }
    });
    var bounds = [];
    var keyboard = !data.compact && points.length <= KEYBOARD_MARKERS;
    var focusable = [];
    points.forEach(function (p) {
      var marker = L.circleMarker([p.lat, p.lng], {
        radius: p.focus ? 8 : (points.length > 200 ? 3.5 : 6),
        className: p.focus ? "map-marker map-marker-focus" : "map-marker",
        weight: 1.5,
        fillOpacity: 0.85
      });
      marker.bindTooltip(tooltip(p));
      marker.bindPopup(popup(p));
      marker.addTo(map);
      if (keyboard) { focusable.push([marker, p]); }
      bounds.push([p.lat, p.lng]);
    });

    if (bounds.length === 0) {
      map.setView([20, 0], 1);
    } else if (bounds.length === 1) {
      map.setView(bounds[0], SINGLE_POINT_ZOOM);
    } else {
      map.fitBounds(bounds, { padding: [24, 24], maxZoom: 7 });
    }
    // Only now, with a view set, has each marker its SVG element.
    focusable.forEach(function (pair) { reachableByKeyboard(pair[0], pair[1]); });
    element.setAttribute("data-zoom", String(map.getZoom())); // for tests and debugging
    element.classList.add("map-ready");
  }

  document.querySelectorAll("[data-map]").forEach(draw);
}());
