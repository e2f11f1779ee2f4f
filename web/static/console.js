/* stormdesk dispatch console: loads the map layers from /api/v1/layers and draws them.
 *
 * The page (folium) creates the Leaflet map and calls stormdesk.startConsole(map, config).
 * Each layer is fetched as GeoJSON and can be reloaded in place with console.refresh(name).
 * The live layers (outages, affected premises, reports, planned work and the unlocated
 * queue) are reloaded every config.refreshMs without touching the map view; a layer whose
 * GeoJSON did not change is not redrawn. The side panel lists the active outages (click one
 * for the roll-up explanation) and the unlocated queue.
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

  function escapeHtml(value) {
    const div = document.createElement("div");
    div.textContent = value === null || value === undefined ? "" : String(value);
    return div.innerHTML;
  }

  function tip(title, lines) {
    const rest = lines.filter(Boolean).map((l) => `<span>${escapeHtml(l)}</span>`);
    return `<div class="sd-tip"><strong>${escapeHtml(title)}</strong>${rest.join("<br>")}</div>`;
  }

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
            tip(`${p.code} ${p.name}`, [`${p.customers} customers`, p.region && `region ${p.region}`]),
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
    control.onAdd = () => {
      const div = L.DomUtil.create("div", "sd-legend");
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
      control.getContainer().innerHTML =
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

  function formatter(timeZone) {
    const time = new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit" });
    const clock = new Intl.DateTimeFormat("en-GB", {
      timeZone,
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    return {
      time: (iso) => (iso ? time.format(new Date(iso)) : "–"),
      clock: (date) => clock.format(date),
    };
  }

  const RULE_TEXT = {
    "roll-up": "Rolled up: reports below several transformers point at one device.",
    "new report": "Opened on the transformer of the first report.",
    "opened by dispatcher": "Opened by a dispatcher.",
  };

  function explanationHtml(p) {
    const e = p.explanation || {};
    const rows = [[RULE_TEXT[e.rule] || e.rule || "", ""]];
    if (e.rule === "roll-up") {
      const t = e.thresholds || {};
      rows.push(
        ["At roll-up", `${e.reporting_premises} of ${e.customers_below} premises below ${e.device} had reported`],
        [
          "Share",
          `${Math.round((e.share || 0) * 100)}% (rule: ${t.min_premises}+ premises, ` +
            `${Math.round((t.min_share || 0) * 100)}%+ within ${t.window_min} min)`,
        ],
        ["Merged", (e.merged_outages || []).map((id) => `#${id}`).join(", ") || "none"]
      );
    }
    rows.push(["Started", p.started_fmt], ["Critical", String(p.critical_affected)]);
    if (p.cause) rows.push(["Cause", p.cause]);
    const html = rows.map(([k, v]) =>
      v ? `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>` : `<p>${escapeHtml(k)}</p>`
    );
    return `<dl class="sd-explain">${html.join("")}</dl>`;
  }

  function panelControl(onSelect) {
    const control = L.control({ position: "topleft" });
    control.onAdd = () => {
      const div = L.DomUtil.create("div", "sd-panel");
      div.innerHTML =
        '<section class="sd-panel-outages"><h2>Active outages <span class="sd-count" id="sd-outage-count">…</span></h2>' +
        '<p class="sd-panel-sum" id="sd-outage-sum"></p><ol class="sd-outage-list" id="sd-outage-list"></ol></section>' +
        '<section class="sd-panel-queue"><h2>Unlocated queue <span class="sd-count" id="sd-unlocated-count">…</span></h2>' +
        '<ol class="sd-queue-list" id="sd-unlocated-list"></ol>' +
        '<p class="sd-note">Reports no premise matched. Locating them is not in the console yet: ' +
        "POST /api/v1/reports/{id}/locate (dispatcher login), then they are classified as usual.</p></section>" +
        '<p class="sd-updated" id="sd-updated"></p>';
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      div.addEventListener("click", (event) => {
        const item = event.target.closest("[data-outage]");
        if (item) onSelect(Number(item.dataset.outage));
      });
      return div;
    };
    control.showOutages = (collection, selected, fmt) => {
      const features = [...collection.features].sort(
        (a, b) => b.properties.customers_affected - a.properties.customers_affected || a.id - b.id
      );
      const out = features.reduce((n, f) => n + f.properties.customers_affected, 0);
      document.getElementById("sd-outage-count").textContent = String(features.length);
      document.getElementById("sd-outage-sum").textContent = features.length
        ? `${out.toLocaleString("en")} customers without power`
        : "No active outages.";
      document.getElementById("sd-outage-list").innerHTML = features
        .map((f) => {
          const p = { ...f.properties, started_fmt: fmt.time(f.properties.started_at) };
          const open = p.id === selected;
          return (
            `<li class="sd-outage-item sd-${escapeHtml(p.status)}${open ? " sd-open" : ""}" data-outage="${p.id}">` +
            `<div class="sd-outage-head"><strong>${escapeHtml(p.device)}</strong>` +
            `<span class="sd-kind">${escapeHtml(p.device_kind)}</span>` +
            `<span class="sd-etr" title="estimated restoration time">ETR ${fmt.time(p.etr)}</span></div>` +
            `<div class="sd-outage-facts">#${p.id} ${escapeHtml(p.status)} · ${escapeHtml(p.feeder)} · ` +
            `<b>${p.customers_affected}</b> customers · <b>${p.report_count}</b> reports` +
            `${p.hazard ? ' · <span class="sd-hazard-tag">hazard</span>' : ""}</div>` +
            (open ? explanationHtml(p) : "") +
            "</li>"
          );
        })
        .join("");
    };
    control.showQueue = (collection, fmt) => {
      const features = [...collection.features].sort((a, b) => b.id - a.id);
      const shown = features.slice(0, 8).map((f) => {
        const p = f.properties;
        const hazard = p.hazard ? ' · <span class="sd-hazard-tag">hazard</span>' : "";
        return (
          `<li><span>#${p.id}</span> ${fmt.time(p.received_at)} · ` +
          `${escapeHtml(p.category.replace("_", " "))} · ${escapeHtml(p.channel)}${hazard}</li>`
        );
      });
      if (features.length > shown.length) {
        shown.push(`<li class="sd-more">and ${features.length - shown.length} more</li>`);
      }
      document.getElementById("sd-unlocated-count").textContent = String(features.length);
      document.getElementById("sd-unlocated-list").innerHTML = shown.length
        ? shown.join("")
        : '<li class="sd-more">Empty.</li>';
    };
    control.stamp = (text) => {
      document.getElementById("sd-updated").textContent = text;
    };
    return control;
  }

  function startConsole(map, config) {
    const status = document.getElementById("sd-status");
    map.setMinZoom(10);
    map.setMaxZoom(20);
    map.attributionControl.addAttribution(config.attribution);

    const layers = buildLayers(map);
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
        },
        { collapsed: false, position: "topright" }
      )
      .addTo(map);
    for (const layer of Object.values(layers)) layer.addTo(map);

    const counts = {};
    const fmt = formatter(config.timeZone || "UTC");
    const lastText = {};
    let selected = null;
    let outageData = { features: [] };
    const panel = panelControl((id) => {
      selected = selected === id ? null : id;
      panel.showOutages(outageData, selected, fmt);
      if (selected === null) return;
      // Zoom to the outage the dispatcher picked (a choice, not a refresh: the view moves).
      layers.outages.eachLayer((layer) => {
        if (layer.feature.id === id && layer.getBounds) {
          map.fitBounds(layer.getBounds(), { maxZoom: 17, padding: [40, 40] });
        }
      });
    }).addTo(map);

    function draw(name, collection) {
      if (name === "unlocated") {
        panel.showQueue(collection, fmt);
        return;
      }
      const layer = layers[name];
      layer.clearLayers();
      if (name === "premises") layer.addLayers(premiseMarkers(collection));
      else if (name === "reports") layer.addLayers(reportMarkers(collection, fmt));
      else layer.addData(collection);
      if (name === "feeders") legend.update(collection);
      if (name === "outages") {
        outageData = collection;
        if (selected !== null && !collection.features.some((f) => f.id === selected)) selected = null;
        panel.showOutages(collection, selected, fmt);
        layer.eachLayer((l) => {
          const p = l.feature.properties;
          l.bindTooltip(
            tip(`Outage #${p.id} on ${p.device}`, [
              `${p.status} · ${p.customers_affected} customers · ${p.report_count} reports`,
              `ETR ${fmt.time(p.etr)}`,
              p.hazard && "HAZARD reported",
            ]),
            { sticky: true }
          );
          l.on("click", () => {
            selected = p.id;
            panel.showOutages(outageData, selected, fmt);
          });
        });
      }
      if (name === "planned") {
        layer.eachLayer((l) => {
          const p = l.feature.properties;
          l.bindTooltip(
            tip(`Planned: ${p.reason}`, [
              `${fmt.time(p.starts_at)}–${fmt.time(p.ends_at)}${p.active_now ? " (under way)" : ""}`,
              `${p.customers_affected} customers`,
            ]),
            { sticky: true }
          );
        });
      }
    }

    async function refresh(name) {
      const response = await fetch(`${config.layersUrl}/${name}`, {
        headers: { Accept: "application/geo+json" },
      });
      if (!response.ok) throw new Error(`layer ${name}: HTTP ${response.status}`);
      const body = await response.text();
      const collection = JSON.parse(body);
      counts[name] = collection.features.length;
      // Unchanged data is not redrawn: open tooltips and spiderfied clusters stay put.
      if (lastText[name] !== body) {
        lastText[name] = body;
        draw(name, collection);
      }
      return collection;
    }

    async function refreshLive() {
      try {
        await Promise.all(LIVE_LAYERS.map(refresh));
        panel.stamp(`Live layers updated ${fmt.clock(new Date())}, every ${Math.round(config.refreshMs / 1000)} s`);
      } catch (error) {
        panel.stamp(`Update failed (${error.message}); retrying`);
        console.warn("stormdesk console:", error);
      }
    }

    const names = [...Object.keys(layers), "unlocated"];
    const loaded = Promise.all(names.map(refresh)).then(
      () => {
        status.textContent =
          `${counts.feeders} feeders · ${counts.devices} devices · ` +
          `${counts.premises.toLocaleString("en")} premises · synthetic grid`;
        panel.stamp(`Live layers updated ${fmt.clock(new Date())}, every ${Math.round(config.refreshMs / 1000)} s`);
        document.documentElement.dataset.console = "ready";
        if (config.refreshMs > 0) window.setInterval(refreshLive, config.refreshMs);
      },
      (error) => {
        status.textContent = `Could not load the map layers (${error.message}); reload to retry.`;
        status.classList.add("sd-error");
        document.documentElement.dataset.console = "error";
        console.error("stormdesk console:", error);
      }
    );

    const api = { map, layers, refresh, refreshLive, loaded };
    window.stormdesk.console = api;
    return api;
  }

  window.stormdesk = { startConsole };
})();
