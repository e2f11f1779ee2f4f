/* stormdesk dispatch console: loads the map layers from /api/v1/layers and draws them.
 *
 * The page (folium) creates the Leaflet map and calls stormdesk.startConsole(map, config).
 * Each layer is fetched as GeoJSON and can be reloaded in place with console.refresh(name).
 * The live layers (outages, affected premises, reports, planned work and the unlocated
 * queue) are reloaded every config.refreshMs while the tab is visible, revalidated so an
 * ETag answers 304, and a layer whose GeoJSON did not change is not redrawn. The side
 * column beside the map (console_side.js) holds search, the region summary, the active
 * outages and the unlocated queue; its last section is the dispatch panel (after a
 * dispatcher logs in): unassigned orders with SLA countdowns, crews and their current
 * routes, and proposals to plan, show and apply (console_dispatch.js). Times and countdowns are
 * worded by console_format.js. Map features are keyboard-inert: the lists are the way in.
 * When every layer has loaded, <html data-console="ready"> is set (or "error").
 */
(function () {
  "use strict";

  const DEVICE_KINDS = {
    breaker: "Breaker",
    recloser: "Recloser",
    switch: "Switch",
    fuse: "Fuse",
    transformer: "Transformer",
  };
  const DEVICE_SIZE = { transformer: 8, fuse: 10 };
  const ROAD_STYLE = {
    1: { color: "#7b8794", weight: 3.5 },
    2: { color: "#9aa5b1", weight: 2.4 },
    3: { color: "#aab3bd", weight: 1.4 },
  };

  // Report classifications: colour and legend label (unlocated reports have no position).
  const CLASSES = {
    new: { color: "#d62728", label: "New (opened an outage)" },
    known: { color: "#f08c00", label: "Known outage" },
    duplicate: { color: "#8a96a3", label: "Duplicate caller" },
    planned: { color: "#2f6fdf", label: "Planned work" },
  };
  const OUTAGE_COLORS = { suspected: "#f08c00", confirmed: "#c81e1e" };
  const PLANNED_COLOR = "#2f6fdf";
  const LIVE_LAYERS = ["planned", "outages", "outage_premises", "reports", "unlocated"];

  const { escapeHtml, tip, plural: count } = window.stormdeskSide;

  function deviceIcon(props) {
    const size = DEVICE_SIZE[props.kind] || 11;
    const open = props.normally_open ? " sd-open" : "";
    return L.divIcon({
      className: `sd-device sd-device-${props.kind}${open}`,
      iconSize: [size, size],
    });
  }

  function substationIcon() {
    return L.divIcon({
      className: "sd-substation",
      iconSize: [22, 22],
      html:
        '<svg viewBox="0 0 22 22" aria-hidden="true">' +
        '<rect x="1" y="1" width="20" height="20" rx="3" fill="#102a43" stroke="#fff" stroke-width="2"/>' +
        '<path d="M12 4 6 12h4.5l-1 6 6-8H11z" fill="#f0b429"/></svg>',
    });
  }

  function clusterIcon(cluster) {
    const markers = cluster.getAllChildMarkers();
    const n = markers.length;
    const size = n < 10 ? 24 : n < 100 ? 30 : 38;
    const critical = markers.some((m) => m.options.sdCritical) ? " sd-cluster-critical" : "";
    return L.divIcon({
      html: `<span>${n}</span>`,
      className: `marker-cluster sd-cluster${critical}`,
      iconSize: L.point(size, size),
    });
  }

  // Below this the legend starts folded and the layer list collapsed to its button: at
  // 1280x720 and 1440x900 the two together hid a third of the map.
  const SMALL_SCREEN = { width: 1600, height: 1000, regionsHeight: 850 };
  function smallScreen() {
    return window.innerWidth < SMALL_SCREEN.width || window.innerHeight < SMALL_SCREEN.height;
  }

  // Street names appear from this zoom on (below it they would cover the map).
  const LABEL_MIN_ZOOM = 17;
  // Labels at most this many per view: the longest named edges win.
  const LABEL_MAX = 60;

  /* Street names from the roads layer's OSM names: at high zoom, one label per street in
   * view, at the middle of its longest visible edge, drawn as non-interactive tooltips. */
  function streetLabels(map) {
    const group = L.layerGroup();
    let edges = [];

    function midpoint(coords) {
      const mid = coords[Math.floor(coords.length / 2)];
      if (coords.length % 2 === 1) return [mid[1], mid[0]];
      const before = coords[coords.length / 2 - 1];
      return [(mid[1] + before[1]) / 2, (mid[0] + before[0]) / 2];
    }

    function redraw() {
      group.clearLayers();
      if (map.getZoom() < LABEL_MIN_ZOOM || !map.hasLayer(group)) return;
      const bounds = map.getBounds();
      const best = {};
      for (const e of edges) {
        if (!bounds.contains(e.at)) continue;
        if (!best[e.name] || best[e.name].length < e.length) best[e.name] = e;
      }
      const shown = Object.values(best)
        .sort((a, b) => b.length - a.length)
        .slice(0, LABEL_MAX);
      for (const e of shown) {
        L.tooltip({ permanent: true, direction: "center", className: "sd-street", interactive: false, opacity: 1 })
          .setLatLng(e.at)
          .setContent(e.html)
          .addTo(group);
      }
    }

    group.setRoads = (collection) => {
      edges = [];
      for (const f of collection.features) {
        const name = f.properties.name;
        if (!name || !f.geometry || f.geometry.type !== "LineString") continue;
        const c = f.geometry.coordinates;
        const length = Math.hypot(c[c.length - 1][0] - c[0][0], c[c.length - 1][1] - c[0][1]);
        edges.push({ name, length, at: L.latLng(midpoint(c)), html: escapeHtml(name) });
      }
      redraw();
    };
    group.on("add", () => window.setTimeout(redraw, 0));
    map.on("zoomend moveend", redraw);
    return group;
  }

  /* Map features are for the mouse: keyboard users reach the outage list instead of
   * tabbing through hundreds of markers and paths (axe: 175 Tab stops before the zoom). */
  function keyboardInert(map) {
    L.Marker.mergeOptions({ keyboard: false });
    const quiet = (root) => {
      for (const node of root.querySelectorAll(".leaflet-marker-pane [tabindex], .leaflet-interactive[tabindex]")) {
        node.setAttribute("tabindex", "-1");
      }
      for (const node of root.querySelectorAll("svg:not([focusable])")) node.setAttribute("focusable", "false");
    };
    const panes = map.getPanes().mapPane;
    new MutationObserver(() => quiet(panes)).observe(panes, { childList: true, subtree: true });
    quiet(panes);
  }

  function buildLayers(map) {
    map.createPane("sd-areas").style.zIndex = 250;
    const roadsPane = map.createPane("sd-roads");
    roadsPane.style.zIndex = 300;
    // The roads canvas sits above the feeder areas; let clicks through to them.
    roadsPane.style.pointerEvents = "none";
    // Outage and planned areas above the roads, below lines, devices and markers.
    map.createPane("sd-outages").style.zIndex = 350;
    map.createPane("sd-affected").style.zIndex = 450;

    return {
      roads: L.geoJSON(null, {
        pane: "sd-roads",
        renderer: L.canvas({ pane: "sd-roads" }),
        interactive: false,
        style: (f) => ROAD_STYLE[f.properties.rank] || ROAD_STYLE[3],
      }),
      feeders: L.geoJSON(null, {
        pane: "sd-areas",
        style: (f) => ({
          className: "sd-feeder",
          color: f.properties.color,
          weight: 1.5,
          opacity: 0.9,
          fillColor: f.properties.color,
          fillOpacity: 0.22,
        }),
        onEachFeature: (f, layer) => {
          const p = f.properties;
          layer.bindTooltip(
            tip(`${p.code} ${p.name}`, [count(p.customers, "customer"), p.region && `region ${p.region}`]),
            { sticky: true }
          );
        },
      }),
      segments: L.geoJSON(null, {
        style: (f) => ({ className: "sd-segment", color: f.properties.color, weight: 2.5, opacity: 0.95 }),
        onEachFeature: (f, layer) => {
          const p = f.properties;
          layer.bindTooltip(tip(`Line on ${p.feeder}`, [`${Math.round(p.length_m)} m`]), { sticky: true });
        },
      }),
      devices: L.geoJSON(null, {
        pointToLayer: (f, latlng) => L.marker(latlng, { icon: deviceIcon(f.properties), keyboard: false }),
        onEachFeature: (f, layer) => {
          const p = f.properties;
          layer.bindTooltip(
            tip(p.code, [
              `${DEVICE_KINDS[p.kind] || p.kind} on ${p.feeder}`,
              p.normally_open && "normally open",
            ])
          );
        },
      }),
      premises: L.markerClusterGroup({
        chunkedLoading: true,
        showCoverageOnHover: false,
        maxClusterRadius: 45,
        disableClusteringAtZoom: 18,
        iconCreateFunction: clusterIcon,
      }),
      planned: L.geoJSON(null, {
        pane: "sd-outages",
        style: () => ({
          className: "sd-planned",
          color: PLANNED_COLOR,
          weight: 2.5,
          dashArray: "7 5",
          fillColor: PLANNED_COLOR,
          fillOpacity: 0.12,
        }),
      }),
      outages: L.geoJSON(null, {
        pane: "sd-outages",
        style: (f) => {
          const color = OUTAGE_COLORS[f.properties.status] || OUTAGE_COLORS.suspected;
          return {
            className: `sd-outage sd-outage-${f.properties.status}`,
            color,
            weight: 3,
            fillColor: color,
            fillOpacity: 0.2,
          };
        },
      }),
      outage_premises: L.geoJSON(null, {
        pane: "sd-affected",
        pointToLayer: (f, latlng) =>
          L.circleMarker(latlng, {
            pane: "sd-affected",
            className: "sd-affected",
            radius: f.properties.critical ? 4.5 : 3,
            color: f.properties.critical ? "#ffffff" : "#7f1d1d",
            weight: 1,
            fillColor: "#e02424",
            fillOpacity: 0.9,
            interactive: false,
          }),
      }),
      reports: L.markerClusterGroup({
        chunkedLoading: true,
        showCoverageOnHover: false,
        maxClusterRadius: 40,
        spiderfyOnMaxZoom: true,
        iconCreateFunction: reportClusterIcon,
      }),
      substations: L.geoJSON(null, {
        pointToLayer: (f, latlng) =>
          L.marker(latlng, { icon: substationIcon(), zIndexOffset: 1000, keyboard: false }),
        onEachFeature: (f, layer) => {
          layer.bindTooltip(escapeHtml(f.properties.name), {
            permanent: true,
            direction: "right",
            offset: [12, 0],
            className: "sd-substation-label",
          });
        },
      }),
    };
  }

  function premiseMarkers(collection) {
    return collection.features.map((f) => {
      const [lon, lat] = f.geometry.coordinates;
      const p = f.properties;
      const critical = Boolean(p.critical);
      const marker = L.circleMarker([lat, lon], {
        className: critical ? "sd-premise sd-critical" : "sd-premise",
        radius: critical ? 5 : 3.5,
        color: critical ? "#ffffff" : "#243b53",
        weight: 1.5,
        fillColor: critical ? "#d64545" : "#ffffff",
        fillOpacity: 1,
        sdCritical: critical,
      });
      marker.bindTooltip(tip(p.address, [p.feeder && `feeder ${p.feeder}`, critical && `critical: ${p.critical}`]));
      return marker;
    });
  }

  function reportClusterIcon(cluster) {
    const markers = cluster.getAllChildMarkers();
    const n = markers.length;
    const counts = {};
    let hazard = false;
    for (const m of markers) {
      counts[m.options.sdClass] = (counts[m.options.sdClass] || 0) + 1;
      hazard = hazard || m.options.sdHazard;
    }
    // A ring split by classification: the share of each answer at a glance.
    let start = 0;
    const stops = Object.keys(CLASSES)
      .filter((c) => counts[c])
      .map((c) => {
        const end = start + (counts[c] / n) * 360;
        const stop = `${CLASSES[c].color} ${start}deg ${end}deg`;
        start = end;
        return stop;
      });
    const size = n < 10 ? 26 : n < 100 ? 32 : 40;
    return L.divIcon({
      html: `<span style="background:conic-gradient(${stops.join(",")})"><b>${n}</b></span>`,
      className: `sd-report-cluster${hazard ? " sd-hazard" : ""}`,
      iconSize: L.point(size, size),
    });
  }

  function reportMarkers(collection, fmt) {
    return collection.features.map((f) => {
      const [lon, lat] = f.geometry.coordinates;
      const p = f.properties;
      const hazard = p.hazard ? " sd-hazard" : "";
      const marker = L.marker([lat, lon], {
        icon: L.divIcon({
          className: `sd-report sd-report-${p.classification}${hazard}`,
          iconSize: [12, 12],
        }),
        keyboard: false,
        sdClass: p.classification,
        sdHazard: Boolean(p.hazard),
      });
      marker.bindTooltip(
        tip(`Report #${p.id}: ${p.classification}`, [
          `${p.category.replace("_", " ")} at ${fmt.time(p.received_at)} via ${p.channel}`,
          p.hazard && "HAZARD",
          p.outage_id && `outage #${p.outage_id}`,
          p.planned_outage_id && `planned outage #${p.planned_outage_id}`,
          p.duplicate_of && `duplicate of #${p.duplicate_of}`,
        ])
      );
      return marker;
    });
  }

  function legendControl() {
    const control = L.control({ position: "bottomright" });
    let body = null;
    control.onAdd = () => {
      // A <details>: the legend folds away (folded at first on small screens, see SMALL_SCREEN).
      const div = L.DomUtil.create("details", "sd-legend-box");
      div.open = !smallScreen();
      div.innerHTML = '<summary class="sd-legend-toggle">Legend</summary><div class="sd-legend"></div>';
      body = div.querySelector(".sd-legend");
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    control.update = (feeders) => {
      const rows = feeders.features.map((f) => {
        const p = f.properties;
        return (
          `<li><span class="sd-sym"><span class="sd-swatch" style="background:${p.color}55;border-color:${p.color}"></span></span>` +
          `${escapeHtml(p.code)} <span class="sd-count">${p.customers}</span></li>`
        );
      });
      const reportRows = Object.entries(CLASSES)
        .map(
          ([name, c]) =>
            `<li><span class="sd-sym"><span class="sd-report sd-report-${name}"></span></span>${c.label}</li>`
        )
        .join("");
      const kinds = Object.entries(DEVICE_KINDS).map(
        ([kind, label]) =>
          `<li><span class="sd-sym"><span class="sd-device sd-device-${kind}"></span></span>${label}</li>`
      );
      body.innerHTML =
        `<h2>Feeders <span class="sd-count">customers</span></h2><ul>${rows.join("")}</ul>` +
        `<h2>Devices</h2><ul>${kinds.join("")}` +
        '<li><span class="sd-sym"><span class="sd-device sd-device-switch sd-open"></span></span>Switch, normally open</li></ul>' +
        '<h2>Premises</h2><ul><li><span class="sd-sym"><span class="sd-premise-dot"></span></span>Service point</li>' +
        '<li><span class="sd-sym"><span class="sd-premise-critical"></span></span>Critical customer</li>' +
        '<li><span class="sd-sym"><span class="sd-affected-dot"></span></span>Without power</li></ul>' +
        "<h2>Outages</h2><ul>" +
        '<li><span class="sd-sym"><span class="sd-area-swatch sd-area-suspected"></span></span>Suspected</li>' +
        '<li><span class="sd-sym"><span class="sd-area-swatch sd-area-confirmed"></span></span>Confirmed</li>' +
        '<li><span class="sd-sym"><span class="sd-area-swatch sd-area-planned"></span></span>Planned work</li></ul>' +
        `<h2>Reports</h2><ul>${reportRows}` +
        '<li><span class="sd-sym"><span class="sd-report sd-report-known sd-hazard"></span></span>Hazard (wire down, pole)</li></ul>';
    };
    return control;
  }

  const { dispatchPanel, poller, TOKEN_KEY } = window.stormdeskDispatch;

  function startConsole(map, config) {
    const status = document.getElementById("sd-status");
    map.setMinZoom(10);
    map.setMaxZoom(20);
    map.attributionControl.addAttribution(config.attribution);

    keyboardInert(map);
    // The region table opens by itself where there is height for it beside the lists.
    document.getElementById("sd-regions-box").open = window.innerHeight >= SMALL_SCREEN.regionsHeight;
    const layers = buildLayers(map);
    const labels = streetLabels(map);
    const legend = legendControl().addTo(map);
    L.control
      .layers(
        null,
        {
          "Roads (base map)": layers.roads,
          "Feeder service areas": layers.feeders,
          "Lines": layers.segments,
          "Devices": layers.devices,
          "Premises": layers.premises,
          "Substations": layers.substations,
          "Planned work": layers.planned,
          "Outage areas": layers.outages,
          "Without power": layers.outage_premises,
          "Reports (24 h)": layers.reports,
          "Street names (zoom in)": labels,
        },
        { collapsed: smallScreen(), position: "topright" }
      )
      .addTo(map);
    for (const layer of Object.values(layers)) layer.addTo(map);
    labels.addTo(map);

    const counts = {};
    const fmt = window.stormdeskFormat.formatter(config.timeZone || "UTC");
    document.getElementById("sd-zone").textContent = `Times in ${fmt.zone} (${fmt.timeZone})`;
    const lastText = {};
    let selected = null;
    let outageData = { features: [] };
    const suspects = L.layerGroup().addTo(map);

    function zoomToOutage(id) {
      // Zoom to the outage the dispatcher picked (a choice, not a refresh: the view moves).
      layers.outages.eachLayer((layer) => {
        if (layer.feature.id === id && layer.getBounds) {
          map.fitBounds(layer.getBounds(), { maxZoom: 17, padding: [40, 40] });
        }
      });
    }

    const panel = window.stormdeskSide.sidePanel({
      fmt,
      apiUrl: config.apiUrl,
      token: () => sessionStorage.getItem(TOKEN_KEY),
      onSelect: (id) => {
        selected = selected === id ? null : id;
        panel.showOutages(outageData, selected);
        if (selected !== null) zoomToOutage(id);
      },
      onHit: (hit) => {
        if (hit.outage_id && outageData.features.some((f) => f.id === hit.outage_id)) {
          selected = hit.outage_id;
          panel.showOutages(outageData, selected);
        }
        if (hit.kind === "outage" && hit.outage_id) zoomToOutage(hit.outage_id);
        else if (hit.lat !== null) map.setView([hit.lat, hit.lon], Math.max(map.getZoom(), 18));
        if (hit.lat !== null) {
          L.popup({ className: "sd-hit-popup", autoClose: true })
            .setLatLng([hit.lat, hit.lon])
            .setContent(tip(hit.label, [hit.detail, hit.outage_id && `in outage #${hit.outage_id}`]))
            .openOn(map);
        }
      },
    });

    function draw(name, collection) {
      if (name === "unlocated") {
        panel.showQueue(collection);
        return;
      }
      const layer = layers[name];
      layer.clearLayers();
      if (name === "premises") layer.addLayers(premiseMarkers(collection));
      else if (name === "reports") layer.addLayers(reportMarkers(collection, fmt));
      else layer.addData(collection);
      if (name === "feeders") {
        legend.update(collection);
        panel.showFeeders(collection);
      }
      if (name === "roads") labels.setRoads(collection);
      if (name === "outages") {
        outageData = collection;
        suspects.clearLayers();
        for (const f of collection.features) {
          const p = f.properties;
          if (p.device_lat === null || p.device_lat === undefined) continue;
          L.circleMarker([p.device_lat, p.device_lon], {
            pane: "sd-outages",
            className: "sd-suspect-device",
            radius: 9,
            color: "#7a0b0b",
            weight: 3,
            fillColor: "#ffd43b",
            fillOpacity: 1,
          })
            .bindTooltip(tip(`${p.device} (${p.device_kind})`, [`suspected device of outage #${p.id}`, p.rule]))
            .addTo(suspects);
        }
        if (selected !== null && !collection.features.some((f) => f.id === selected)) selected = null;
        panel.showOutages(collection, selected);
        layer.eachLayer((l) => {
          const p = l.feature.properties;
          l.bindTooltip(
            tip(`Outage #${p.id} on ${p.device}`, [
              `${p.status} · ${count(p.customers_affected, "customer")} · ${count(p.report_count, "report")}`,
              `ETR ${fmt.time(p.etr)}`,
              p.hazard && "HAZARD reported",
            ]),
            { sticky: true }
          );
          l.on("click", () => {
            selected = p.id;
            panel.showOutages(outageData, selected);
          });
        });
      }
      if (name === "planned") {
        layer.eachLayer((l) => {
          const p = l.feature.properties;
          l.bindTooltip(
            tip(`Planned: ${p.reason}`, [
              `${fmt.time(p.starts_at)}–${fmt.time(p.ends_at)}${p.active_now ? " (under way)" : ""}`,
              count(p.customers_affected, "customer"),
            ]),
            { sticky: true }
          );
        });
      }
    }

    let token = null;
    async function refresh(name) {
      // Every layer fetch carries the staff login (most layers refuse anyone else).
      const headers = { Accept: "application/geo+json", Authorization: `Bearer ${token}` };
      // "no-cache" revalidates: where the server sends an ETag the browser asks with
      // If-None-Match and an unchanged layer costs a 304, not the whole GeoJSON again.
      const response = await fetch(`${config.layersUrl}/${name}`, { headers, cache: "no-cache" });
      if (response.status === 401 && dispatch) dispatch.logout("Your login expired: log in again.");
      if (!response.ok) throw new Error(`layer ${name}: HTTP ${response.status}`);
      const body = await response.text();
      // Unchanged data is neither parsed nor redrawn: open tooltips and spiderfied clusters stay put.
      if (lastText[name] !== body) {
        const collection = JSON.parse(body);
        counts[name] = collection.features.length;
        lastText[name] = body;
        draw(name, collection);
      }
    }

    const everyText = `every ${Math.round(config.refreshMs / 1000)} s while shown`;
    const live = poller(config.refreshMs, async () => {
      try {
        await Promise.all(LIVE_LAYERS.map(refresh));
        panel.stamp(`Layers updated ${fmt.clock(new Date())}, ${everyText}`);
        return true;
      } catch (error) {
        panel.stamp(`Update failed (${error.message}); retrying`);
        console.warn("stormdesk console:", error);
        return false;
      }
    });

    const names = [...Object.keys(layers), "unlocated"];
    let resolveLoaded;
    const loaded = new Promise((resolve) => {
      resolveLoaded = resolve;
    });
    const loadAll = () => Promise.all(names.map(refresh)).then(
      () => {
        status.textContent =
          `${counts.feeders} feeders · ${counts.devices} devices · ` +
          `${counts.premises.toLocaleString("en")} premises · synthetic grid`;
        panel.stamp(`Layers updated ${fmt.clock(new Date())}, ${everyText}`);
        document.documentElement.dataset.console = "ready";
        live.start();
      },
      (error) => {
        status.textContent = `Could not load the map layers (${error.message}); reload to retry.`;
        status.classList.add("sd-error");
        document.documentElement.dataset.console = "error";
        console.error("stormdesk console:", error);
      }
    );

    let started = false;
    const dispatch = dispatchPanel(map, config, fmt, (loginToken) => {
      token = loginToken;
      if (started) return;
      started = true;
      resolveLoaded(loadAll());
    });

    const api = { map, layers, refresh, refreshLive: live.now, loaded, dispatch, labels };
    window.stormdesk.console = api;
    return api;
  }

  window.stormdesk = { startConsole };
})();
