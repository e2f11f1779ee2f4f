/* stormdesk dispatch console: loads the map layers from /api/v1/layers and draws them.
 *
 * The page (folium) creates the Leaflet map and calls stormdesk.startConsole(map, config).
 * Each layer is fetched as GeoJSON and can be reloaded in place with console.refresh(name),
 * so live data (outages, crews) can update without reloading the page.
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
      const kinds = Object.entries(DEVICE_KINDS).map(
        ([kind, label]) =>
          `<li><span class="sd-sym"><span class="sd-device sd-device-${kind}"></span></span>${label}</li>`
      );
      control.getContainer().innerHTML =
        `<h2>Feeders <span class="sd-count">customers</span></h2><ul>${rows.join("")}</ul>` +
        `<h2>Devices</h2><ul>${kinds.join("")}` +
        '<li><span class="sd-sym"><span class="sd-device sd-device-switch sd-open"></span></span>Switch, normally open</li></ul>' +
        '<h2>Premises</h2><ul><li><span class="sd-sym"><span class="sd-premise-dot"></span></span>Service point</li>' +
        '<li><span class="sd-sym"><span class="sd-premise-critical"></span></span>Critical customer</li></ul>';
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
        },
        { collapsed: false, position: "topright" }
      )
      .addTo(map);
    for (const layer of Object.values(layers)) layer.addTo(map);

    const counts = {};

    async function refresh(name) {
      const response = await fetch(`${config.layersUrl}/${name}`, {
        headers: { Accept: "application/geo+json" },
      });
      if (!response.ok) throw new Error(`layer ${name}: HTTP ${response.status}`);
      const collection = await response.json();
      const layer = layers[name];
      layer.clearLayers();
      if (name === "premises") layer.addLayers(premiseMarkers(collection));
      else layer.addData(collection);
      if (name === "feeders") legend.update(collection);
      counts[name] = collection.features.length;
      return collection;
    }

    const loaded = Promise.all(Object.keys(layers).map(refresh)).then(
      () => {
        status.textContent =
          `${counts.feeders} feeders · ${counts.devices} devices · ` +
          `${counts.premises.toLocaleString("en")} premises · synthetic grid`;
        document.documentElement.dataset.console = "ready";
      },
      (error) => {
        status.textContent = `Could not load the map layers (${error.message}); reload to retry.`;
        status.classList.add("sd-error");
        document.documentElement.dataset.console = "error";
        console.error("stormdesk console:", error);
      }
    );

    const api = { map, layers, refresh, loaded };
    window.stormdesk.console = api;
    return api;
  }

  window.stormdesk = { startConsole };
})();
