/* The map of a filtered list: <details data-list-map="URL of ?...&format=geojson">.
 *
 * Nothing is fetched until the reader opens the map, so the list page stays light
 * whatever the number of rows. Points (cities, members) are clustered with
 * Leaflet.markercluster; twinnings are drawn as lines between their two places, up to
 * LINE_LIMIT of them, with their places clustered beneath. Names are inserted as text,
 * never as HTML. data-tile-url and data-tile-attribution are as for map.js.
 */
(function () {
  "use strict";

  var LINE_LIMIT = 3000;

  function textElement(tag, text) {
    var element = document.createElement(tag);
    element.textContent = text;
    return element;
  }

  function link(text, href) {
    var element = textElement("a", text);
    element.href = href;
    return element;
  }

  function cityUrl(template, slug) {
    return template.replace("__slug__", encodeURIComponent(slug));
  }

  function marker(lat, lng, name, href) {
    var circle = L.circleMarker([lat, lng], {
      radius: 5, className: "map-marker", weight: 1.5, fillOpacity: 0.85
    });
    circle.bindTooltip(textElement("span", name));
    circle.bindPopup(link(name, href));
    return circle;
  }

  function draw(details, collection) {
    var element = details.querySelector(".map");
    var status = details.querySelector(".list-map-status");
    // As static/js/map.js: no animated zooms or fades where the reader's system asks
    // for reduced motion, and no animated cluster splits either.
    var calm = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var map = L.map(element, {
      scrollWheelZoom: false,
      zoomSnap: 0.25,
      zoomAnimation: !calm,
      fadeAnimation: !calm,
      markerZoomAnimation: !calm
    });
    var tiles = L.tileLayer(element.getAttribute("data-tile-url"), {
      attribution: element.getAttribute("data-tile-attribution"), maxZoom: 18
    });
    tiles.on("tileerror", function () { element.classList.add("map-no-tiles"); });
    tiles.addTo(map);

    var cityTemplate = details.getAttribute("data-city-url");
    var clusters = L.markerClusterGroup({
      showCoverageOnHover: false, chunkedLoading: true, animate: !calm
    });
    var seen = {};
    var lines = 0;
    var features = collection.features || [];
    var lineCount = features.filter(function (f) {
      return f.geometry.type === "LineString";
    }).length;
    var tooMany = lineCount > LINE_LIMIT;
    // Hundreds of lines draw faster on one canvas than as SVG paths.
    var lineRenderer = lineCount > 200 ? L.canvas() : undefined;

    function addPlace(lng, lat, slug, name) {
      if (seen[slug]) { return; }
      seen[slug] = true;
      clusters.addLayer(marker(lat, lng, name, cityUrl(cityTemplate, slug)));
    }

    features.forEach(function (feature) {
      var p = feature.properties;
      var c = feature.geometry.coordinates;
      if (feature.geometry.type === "Point") {
        addPlace(c[0], c[1], p.slug, p.name);
        return;
      }
      addPlace(c[0][0], c[0][1], p.city_a, p.city_a_name);
      addPlace(c[1][0], c[1][1], p.city_b, p.city_b_name);
      if (!tooMany) {
        var line = L.polyline([[c[0][1], c[0][0]], [c[1][1], c[1][0]]], {
          className: "map-line", weight: 1.5, renderer: lineRenderer
        });
        line.bindTooltip(textElement("span", p.city_a_name + " – " + p.city_b_name));
        line.addTo(map);
        lines += 1;
      }
    });
    map.addLayer(clusters);

    var places = Object.keys(seen).length;
    if (places) {
      map.fitBounds(clusters.getBounds(), { padding: [24, 24], maxZoom: 8 });
    } else {
      map.setView([20, 0], 1);
    }
    var message = places === 1 ? "1 place on the map" : places.toLocaleString() + " places on the map";
    if (lines) {
      message += lines === 1 ? ", 1 twinning drawn as a line"
        : ", " + lines.toLocaleString() + " twinnings drawn as lines";
    }
    if (tooMany) {
      message += "; lines are drawn for up to " + LINE_LIMIT.toLocaleString() +
        " twinnings: filter further to see them";
    }
    status.textContent = message + ". Places without coordinates are not shown.";
    element.classList.add("map-ready");
  }

  function open(details) {
    if (details.getAttribute("data-loaded") || typeof L === "undefined") { return; }
    details.setAttribute("data-loaded", "1");
    var status = details.querySelector(".list-map-status");
    status.textContent = "Loading the map…";
    fetch(details.getAttribute("data-list-map")).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    }).then(function (collection) {
      draw(details, collection);
    }).catch(function () {
      status.textContent = "The map could not be loaded; the list below has every result.";
    });
  }

  document.querySelectorAll("details[data-list-map]").forEach(function (details) {
    details.addEventListener("toggle", function () {
      if (details.open) { open(details); }
    });
    if (details.open) { open(details); }
  });
}());
