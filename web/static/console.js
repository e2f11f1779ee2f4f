/* stormdesk dispatch console: loads the map layers from /api/v1/layers and draws them.
 *
 * The page (folium) creates the Leaflet map and calls stormdesk.startConsole(map, config).
 * Each layer is fetched as GeoJSON and can be reloaded in place with console.refresh(name).
 * The live layers (outages, affected premises, reports, planned work and the unlocated
 * queue) are reloaded every config.refreshMs without touching the map view; a layer whose
 * GeoJSON did not change is not redrawn. The side panel lists the active outages (click one
 * for the roll-up explanation) and the unlocated queue. Below it, the dispatch panel (after
 * a dispatcher logs in) lists unassigned orders with SLA countdowns, draws crews and their
 * current routes, and plans, shows and applies proposals (dispatchPanel).
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

  // English plurals: the word for n ("1 report", "2 reports"); ``many`` for irregular ones.
  function noun(n, one, many) {
    return Number(n) === 1 ? one : many || `${one}s`;
  }

  function count(n, one, many) {
    return `${Number(n).toLocaleString("en")} ${noun(n, one, many)}`;
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
        ? `${count(out, "customer")} without power`
        : "No active outages.";
      document.getElementById("sd-outage-list").innerHTML = features
        .map((f) => {
          const p = { ...f.properties, started_fmt: fmt.time(f.properties.started_at) };
          const open = p.id === selected;
          return (
            `<li class="sd-outage-item sd-${escapeHtml(p.status)}${open ? " sd-open" : ""}" data-outage="${p.id}">` +
            `<div class="sd-outage-head"><strong>${escapeHtml(p.device)}</strong>` +
            `<span class="sd-kind">${escapeHtml(p.device_kind)}</span>` +
            `<span class="sd-etr" title="estimated restoration time told to customers">ETR ${fmt.time(p.etr)}</span></div>` +
            (p.etr_dispatcher && Date.parse(p.etr_dispatcher) !== Date.parse(p.etr)
              ? `<div class="sd-etr-conflict" role="note">Your ETR ${fmt.time(p.etr_dispatcher)} is not told: ` +
                `the crew cannot make it, customers hear ${fmt.time(p.etr)}.</div>`
              : "") +
            `<div class="sd-outage-facts">#${p.id} ${escapeHtml(p.status)} · ${escapeHtml(p.feeder)} · ` +
            `<b>${p.customers_affected}</b> ${noun(p.customers_affected, "customer")} · <b>${p.report_count}</b> ${noun(p.report_count, "report")}` +
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

  /* ---------- the dispatch panel (dispatcher login) ----------
   * The unassigned queue with SLA countdowns, crews and their current routes on the map,
   * Plan -> proposal drawn dashed with its summary -> Apply (409: someone else changed the
   * assignments; re-plan), manual assign and lock, and a banner offering a re-plan when a
   * priority-1 order is unassigned. Reloaded every config.refreshMs while logged in.
   */
  const TOKEN_KEY = "stormdesk.console.token";
  // The console is staff-only: it opens on this login, and every layer fetch carries it.
  const CONSOLE_ROLES = ["dispatcher", "agent", "supervisor", "admin"];
  const DISPATCH_ROLES = ["dispatcher", "admin"];
  const MESSAGE_KEY = "stormdesk.console.message";
  const CREW_COLORS = ["#1f77b4", "#9467bd", "#2ca02c", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#ff7f0e"];
  const CREW_STATUS = { available: "available", en_route: "en route", on_site: "on site", off_shift: "off shift" };

  function countdownText(seconds) {
    const late = seconds < 0;
    const s = Math.abs(seconds);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = s % 60;
    const body = h ? `${h}:${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}` : `${m}:${String(sec).padStart(2, "0")}`;
    return late ? `−${body}` : body;
  }

  function minutesText(seconds) {
    const m = Math.round(seconds / 60);
    return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min`;
  }

  function article(word) {
    return /^[aeiou]/i.test(word) ? "an" : "a";
  }

  function dispatchPanel(map, config, fmt, onLogin) {
    let token = sessionStorage.getItem(TOKEN_KEY);
    let user = null;
    const canDispatch = () => Boolean(user) && DISPATCH_ROLES.includes(user.role);
    let orders = [];
    let crews = [];
    let current = null;
    let proposal = null;
    let fetchedAt = 0;
    let timer = null;
    let message = null; // {kind, html}
    const crewColor = {};
    const lastText = {};

    map.createPane("sd-routes").style.zIndex = 460;
    const routeLayer = L.layerGroup().addTo(map);
    const proposalLayer = L.layerGroup().addTo(map);
    const crewLayer = L.layerGroup().addTo(map);

    const control = L.control({ position: "topleft" });
    control.onAdd = () => {
      const div = L.DomUtil.create("div", "sd-dispatch");
      div.id = "sd-dispatch";
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    control.addTo(map);
    const root = control.getContainer();
    root.addEventListener("submit", onSubmit);
    root.addEventListener("click", onClick);

    async function api(path, options) {
      const opts = options || {};
      const headers = { Accept: "application/json" };
      if (token) headers.Authorization = `Bearer ${token}`;
      let body;
      if (opts.json !== undefined) {
        headers["Content-Type"] = "application/json";
        body = JSON.stringify(opts.json);
      }
      const response = await fetch(`${config.apiUrl}${path}`, { method: opts.method || "GET", headers, body });
      const answer = await response.json().catch(() => null);
      if (response.status === 401) {
        logout("Your login expired: log in again.");
      }
      if (!response.ok) {
        const detail = answer && answer.detail;
        const error = new Error(typeof detail === "string" ? detail : `HTTP ${response.status}`);
        error.status = response.status;
        throw error;
      }
      return answer;
    }

    function say(kind, html) {
      message = kind ? { kind, html } : null;
      render();
    }

    function logout(text) {
      const hadData = Boolean(user);
      token = null;
      user = null;
      proposal = null;
      sessionStorage.removeItem(TOKEN_KEY);
      if (hadData) {
        // Staff data is on the map: start over from a blank page with the login.
        if (text) sessionStorage.setItem(MESSAGE_KEY, text);
        window.location.reload();
        return;
      }
      if (timer) window.clearInterval(timer);
      timer = null;
      routeLayer.clearLayers();
      proposalLayer.clearLayers();
      crewLayer.clearLayers();
      message = text ? { kind: "error", html: escapeHtml(text) } : null;
      render();
    }

    async function onSubmit(event) {
      if (event.target.id !== "sd-login") return;
      event.preventDefault();
      const form = event.target;
      const data = new URLSearchParams({ username: form.username.value.trim(), password: form.password.value });
      try {
        const response = await fetch(`${config.apiUrl}/auth/token`, {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
          body: data,
        });
        const answer = await response.json().catch(() => ({}));
        if (!response.ok) throw new Error(response.status === 401 ? "Wrong username or password." : answer.detail || `HTTP ${response.status}`);
        if (!CONSOLE_ROLES.includes(answer.role)) {
          const role = String(answer.role);
          throw new Error(`${article(role) === "an" ? "An" : "A"} ${role} login cannot open the console: use a dispatcher, agent or supervisor login.`);
        }
        token = answer.access_token;
        sessionStorage.setItem(TOKEN_KEY, token);
        message = null;
        await start();
      } catch (error) {
        say("error", escapeHtml(error.message));
      }
    }

    async function onClick(event) {
      const button = event.target.closest("button[data-act]");
      if (!button) {
        const crew = event.target.closest("[data-crew]");
        if (crew) zoomToCrew(Number(crew.dataset.crew));
        return;
      }
      const act = button.dataset.act;
      if (act === "logout") return logout(null);
      if (act === "plan") return plan();
      if (act === "apply") return apply();
      if (act === "discard") {
        proposal = null;
        proposalLayer.clearLayers();
        return say(null);
      }
      if (act === "assign") return assign(Number(button.dataset.order));
    }

    async function plan() {
      say("busy", `Planning… (solver runs ${config.planTimeLimitS} s)`);
      root.querySelectorAll("button[data-act=plan]").forEach((b) => (b.disabled = true));
      try {
        proposal = await api("/dispatch/plan", { method: "POST", json: { time_limit_s: config.planTimeLimitS } });
        drawProposal();
        message = null;
      } catch (error) {
        message = { kind: "error", html: `Plan failed: ${escapeHtml(error.message)}` };
      }
      render();
    }

    async function apply() {
      if (!proposal) return;
      try {
        const answer = await api(`/dispatch/plans/${proposal.id}/apply`, { method: "POST" });
        message = {
          kind: "ok",
          html: `Plan #${answer.plan_id} applied: ${count(answer.changed.length, "order")} changed, now the current routes.`,
        };
        proposal = null;
        proposalLayer.clearLayers();
        await refresh();
      } catch (error) {
        if (error.status === 409) {
          proposal = null;
          proposalLayer.clearLayers();
          message = {
            kind: "conflict",
            html:
              "<strong>Not applied: someone else changed the plan.</strong> Assignments changed " +
              'since this proposal was made. <button type="button" class="sd-btn" data-act="plan">Re-plan</button>',
          };
          await refresh();
        } else {
          message = { kind: "error", html: `Apply failed: ${escapeHtml(error.message)}` };
        }
        render();
      }
    }

    async function assign(orderId) {
      const row = root.querySelector(`[data-order-row="${orderId}"]`);
      const crewId = row.querySelector("select").value;
      const lock = row.querySelector("input[type=checkbox]").checked;
      if (!crewId) return say("error", `Choose a crew for order #${orderId} first.`);
      try {
        await api(`/work-orders/${orderId}/assign`, { method: "POST", json: { crew_id: Number(crewId), lock } });
        message = { kind: "ok", html: `Order #${orderId} assigned${lock ? " and locked" : ""}.` };
        await refresh();
      } catch (error) {
        say("error", `Assign #${orderId} failed: ${escapeHtml(error.message)}`);
      }
    }

    function colorOf(crewId) {
      if (!(crewId in crewColor)) crewColor[crewId] = CREW_COLORS[Object.keys(crewColor).length % CREW_COLORS.length];
      return crewColor[crewId];
    }

    function zoomToCrew(crewId) {
      const crew = crews.find((f) => f.id === crewId);
      if (!crew) return;
      const [lon, lat] = crew.geometry.coordinates;
      const points = [[lat, lon]];
      const route = current && current.routes.find((r) => r.crew_id === crewId);
      for (const v of (route && route.visits) || []) for (const [x, y] of v.geometry.coordinates) points.push([y, x]);
      map.fitBounds(L.latLngBounds(points), { maxZoom: 17, padding: [60, 60] });
    }

    function lines(visits, options) {
      for (const visit of visits) {
        const coords = (visit.geometry && visit.geometry.coordinates) || [];
        if (coords.length < 2) continue;
        L.polyline(
          coords.map(([x, y]) => [y, x]),
          { pane: "sd-routes", interactive: false, ...options }
        ).addTo(options.layer);
      }
    }

    function drawRoutes() {
      routeLayer.clearLayers();
      for (const route of (current && current.routes) || []) {
        const color = colorOf(route.crew_id);
        lines(route.visits, { layer: routeLayer, color, weight: 4, opacity: 0.85, className: "sd-route" });
        route.visits.forEach((v, i) => {
          const order = orders.find((o) => o.id === v.work_order_id);
          if (!order) return;
          L.marker([order.lat, order.lon], {
            pane: "sd-routes",
            icon: L.divIcon({ className: "sd-stop", html: `<span style="background:${color}">${i + 1}</span>`, iconSize: [18, 18] }),
            keyboard: false,
          })
            .bindTooltip(tip(`Order #${order.id} · ${route.crew} stop ${i + 1}`, [`${order.status.replace("_", " ")} · P${order.urgency.priority}`, v.eta_at && `ETA ${fmt.time(v.eta_at)}`, v.locked && "locked"]))
            .addTo(routeLayer);
        });
      }
    }

    function drawProposal() {
      proposalLayer.clearLayers();
      for (const route of (proposal && proposal.routes) || []) {
        lines(route.visits, {
          layer: proposalLayer,
          color: colorOf(route.crew_id),
          weight: 4,
          opacity: 0.95,
          dashArray: "8 7",
          className: "sd-proposal",
        });
      }
    }

    function drawCrews() {
      crewLayer.clearLayers();
      for (const f of crews) {
        const p = f.properties;
        const [lon, lat] = f.geometry.coordinates;
        const color = colorOf(f.id);
        L.marker([lat, lon], {
          icon: L.divIcon({
            className: `sd-crew sd-crew-${p.status}${p.on_shift ? "" : " sd-off"}`,
            html: `<span style="border-color:${color}">${escapeHtml(p.code.replace("CREW-", "C"))}</span>`,
            iconSize: [30, 20],
          }),
          zIndexOffset: 900,
          keyboard: false,
        })
          .bindTooltip(
            tip(`${p.code} ${p.name}`, [
              `${CREW_STATUS[p.status] || p.status}${p.on_shift ? "" : " · off shift"} · ${count(p.open_orders, "open order")}`,
              `skills: ${p.skills.join(", ")}`,
              p.position_source === "live"
                ? `GPS ${fmt.time(p.position_at)}`
                : p.position_source === "stop"
                  ? `at its last stop ${fmt.time(p.position_at)}`
                  : "at the depot",
            ])
          )
          .addTo(crewLayer);
      }
    }

    function summaryHtml() {
      if (!proposal) return "";
      const s = proposal.summary;
      const d = proposal.diff;
      const crewList = proposal.routes
        .filter((r) => r.visits.length)
        .map(
          (r) =>
            `<li><span class="sd-crew-dot" style="background:${colorOf(r.crew_id)}"></span>${escapeHtml(r.crew)}: ` +
            r.visits.map((v) => `#${v.work_order_id} ${fmt.time(v.eta_at)}${v.onsite_met ? "" : " <b class=\"sd-late\">late</b>"}`).join(" → ") +
            "</li>"
        )
        .join("");
      const diff = [
        ...d.assigned.map((x) => `#${x.work_order_id} → ${escapeHtml(x.to_crew)}`),
        ...d.moved.map((x) => `#${x.work_order_id} ${escapeHtml(x.from_crew)} → ${escapeHtml(x.to_crew)}`),
        ...d.unassigned.map((x) => `#${x.work_order_id} off ${escapeHtml(x.from_crew)}`),
      ];
      const dropped = proposal.dropped.map((x) => `<li>#${x.work_order_id} P${x.priority}: ${escapeHtml(x.reason)}</li>`).join("");
      return (
        `<div class="sd-proposal-box" id="sd-proposal-summary"><h3>Proposal #${proposal.id} <span>dashed on the map</span></h3>` +
        `<p><b>${s.served}</b> of ${count(s.orders, "order")} served by ${count(proposal.routes.filter((r) => r.visits.length).length, "crew")} · ` +
        `<b class="${s.dropped ? "sd-late" : ""}">${s.dropped}</b> dropped · on-site met ${s.onsite_met}, missed ${s.onsite_missed} · ` +
        `travel ${minutesText(s.travel_s)}</p>` +
        `<ul class="sd-routes">${crewList}</ul>` +
        `<p class="sd-diff"><b>Changes:</b> ${diff.length ? diff.join(", ") : "none"}` +
        `${d.eta_changes.length ? ` · ${d.eta_changes.length} ETA changes` : ""}</p>` +
        (dropped ? `<p><b>Dropped</b></p><ul class="sd-dropped">${dropped}</ul>` : "") +
        '<div class="sd-actions"><button type="button" class="sd-btn sd-primary" data-act="apply">Apply</button>' +
        '<button type="button" class="sd-btn" data-act="discard">Discard</button></div></div>'
      );
    }

    function crewOptions(order) {
      const fit = crews.filter((f) => f.properties.on_shift && order.required_skills.every((s) => f.properties.skills.includes(s)));
      return (
        '<option value="">crew…</option>' +
        fit.map((f) => `<option value="${f.id}">${escapeHtml(f.properties.code)} (${f.properties.open_orders})</option>`).join("")
      );
    }

    function queueHtml() {
      const elapsed = Math.floor((Date.now() - fetchedAt) / 1000);
      const queue = orders.filter((o) => o.crew_id === null && o.status === "new");
      if (!queue.length) return '<li class="sd-more">No unassigned orders.</li>';
      return queue
        .map((o) => {
          const left = o.onsite_countdown_s === null ? null : o.onsite_countdown_s - elapsed;
          const risk = o.overdue || (left !== null && left < 0) ? " sd-overdue" : o.at_risk ? " sd-risk" : "";
          const esc = o.escalation_level > 0 ? ` sd-escalated` : "";
          const what = o.kind === "outage" ? `outage #${o.outage_id}` : `report #${o.report_id}`;
          const customers = (o.urgency.breakdown.find((t) => t.term === "customers") || {}).value;
          const hazard = o.urgency.breakdown.some((t) => t.term === "hazard");
          return (
            `<li class="sd-order p${o.urgency.priority}${risk}${esc}" data-order-row="${o.id}">` +
            `<div class="sd-order-head"><b>#${o.id}</b><span class="sd-prio">P${o.urgency.priority}</span>` +
            `<span class="sd-what">${escapeHtml(what)} · ${escapeHtml(o.feeder || "")}</span>` +
            `<span class="sd-clock" title="seconds to the on-site deadline (${fmt.time(o.onsite_due_at)})" data-countdown="${left}">` +
            `${left === null ? "" : countdownText(left)}</span></div>` +
            `<div class="sd-order-facts">${customers ? `${count(Math.round(customers), "customer")} · ` : ""}` +
            `score ${o.urgency.score}${hazard ? ' · <span class="sd-hazard-tag">hazard</span>' : ""}` +
            `${o.reports > 1 ? ` · ${o.reports} reports` : ""}` +
            `${o.open_tasks ? ` · <span class="sd-hazard-tag">${o.open_tasks} make-safe</span>` : ""}` +
            `${o.escalation_level > 0 ? ` · <span class="sd-esc-tag">escalated L${o.escalation_level}</span>` : ""}</div>` +
            `<div class="sd-assign"><select aria-label="crew for order ${o.id}">${crewOptions(o)}</select>` +
            `<label><input type="checkbox" aria-label="lock order ${o.id}"> lock</label>` +
            `<button type="button" class="sd-btn" data-act="assign" data-order="${o.id}">Assign</button></div></li>`
          );
        })
        .join("");
    }

    function crewsHtml() {
      const routes = {};
      for (const r of (current && current.routes) || []) routes[r.crew_id] = r;
      return crews
        .filter((f) => f.properties.on_shift || (routes[f.id] && routes[f.id].visits.length))
        .map((f) => {
          const p = f.properties;
          const visits = (routes[f.id] && routes[f.id].visits) || [];
          const stops = visits.map((v) => `#${v.work_order_id}${v.locked ? "🔒" : ""}`).join(" → ") || "idle";
          return (
            `<li data-crew="${f.id}"><span class="sd-crew-dot" style="background:${colorOf(f.id)}"></span>` +
            `<b>${escapeHtml(p.code)}</b> <span class="sd-kind">${CREW_STATUS[p.status] || p.status}</span>` +
            `<span class="sd-stops">${stops}</span></li>`
          );
        })
        .join("");
    }

    function render() {
      if (!user) {
        root.innerHTML =
          '<h2>Log in</h2><p class="sd-login-note" id="sd-login-note">The console is for staff: log in to see the map and to dispatch.</p>' +
          '<form id="sd-login" autocomplete="on"><input name="username" placeholder="username" autocomplete="username" aria-label="username" required>' +
          '<input name="password" type="password" placeholder="password" autocomplete="current-password" aria-label="password" required>' +
          '<button type="submit" class="sd-btn sd-primary">Log in</button></form>' +
          (message ? `<p class="sd-msg sd-msg-${message.kind}">${message.html}</p>` : "");
        return;
      }
      if (!canDispatch()) {
        root.innerHTML =
          `<h2>Console <span class="sd-who">${escapeHtml(user.username)} · <button type="button" class="sd-link" data-act="logout">log out</button></span></h2>` +
          `<p class="sd-login-note">View only: ${article(user.role)} ${escapeHtml(user.role)} login sees the map; a dispatcher login dispatches.</p>`;
        return;
      }
      const unassignedP1 = (current && current.unassigned_priority_1) || [];
      const banner =
        unassignedP1.length && !proposal
          ? `<div class="sd-banner" id="sd-replan-banner"><b>${unassignedP1.length}</b> priority-1 ` +
            `${unassignedP1.length === 1 ? "order is" : "orders are"} not assigned. ` +
            '<button type="button" class="sd-btn sd-primary" data-act="plan">Re-plan now</button></div>'
          : "";
      const queueCount = orders.filter((o) => o.crew_id === null && o.status === "new").length;
      root.innerHTML =
        `<h2>Dispatch <span class="sd-who">${escapeHtml(user.username)} · <button type="button" class="sd-link" data-act="logout">log out</button></span></h2>` +
        banner +
        (message ? `<div class="sd-msg sd-msg-${message.kind}" id="sd-dispatch-msg">${message.html}</div>` : "") +
        summaryHtml() +
        `<div class="sd-actions"><button type="button" class="sd-btn sd-primary" data-act="plan" id="sd-plan">${proposal ? "Plan again" : "Plan"}</button>` +
        `<span class="sd-version">plan ${current && current.plan_id ? `#${current.plan_id}` : "none"} · state v${current ? current.version : "…"}</span></div>` +
        `<section><h2>Unassigned <span class="sd-count" id="sd-unassigned-count">${queueCount}</span></h2>` +
        `<ol class="sd-orders" id="sd-orders">${queueHtml()}</ol></section>` +
        `<section><h2>Crews on shift</h2><ol class="sd-crews">${crewsHtml()}</ol></section>`;
    }

    // The countdowns tick every second without refetching (the SLA is seconds to on site).
    function tick() {
      if (!user) return;
      const elapsed = Math.floor((Date.now() - fetchedAt) / 1000);
      for (const node of root.querySelectorAll(".sd-clock[data-countdown]")) {
        const row = node.closest("[data-order-row]");
        const order = orders.find((o) => String(o.id) === row.dataset.orderRow);
        if (!order || order.onsite_countdown_s === null) continue;
        const left = order.onsite_countdown_s - elapsed;
        node.textContent = countdownText(left);
        if (left < 0) row.classList.add("sd-overdue");
      }
    }

    async function refresh() {
      if (!token || !canDispatch()) return;
      try {
        const [o, c, cur] = await Promise.all([
          api("/work-orders?live=true"),
          api("/crews"),
          api("/dispatch/current"),
        ]);
        orders = o;
        crews = c.features;
        current = cur;
        fetchedAt = Date.now();
        const text = JSON.stringify([c, cur.routes]);
        if (lastText.map !== text) {
          lastText.map = text;
          drawCrews();
          drawRoutes();
        }
        // Re-render unless the dispatcher is choosing a crew (it would close the select).
        const busy = root.contains(document.activeElement) && document.activeElement.tagName !== "BUTTON";
        if (!busy) render();
        document.documentElement.dataset.dispatch = "ready";
      } catch (error) {
        console.warn("stormdesk dispatch:", error);
      }
    }

    async function start() {
      try {
        user = await api("/auth/me");
      } catch (error) {
        return logout(error.status === 401 ? "Your login expired: log in again." : error.message);
      }
      if (!CONSOLE_ROLES.includes(user.role)) return logout(`The ${user.role} login cannot open the console.`);
      render();
      onLogin(token);
      await refresh();
      if (timer) window.clearInterval(timer);
      if (config.refreshMs > 0) timer = window.setInterval(refresh, config.refreshMs);
    }

    window.setInterval(tick, 1000);
    const left = sessionStorage.getItem(MESSAGE_KEY);
    if (left) {
      sessionStorage.removeItem(MESSAGE_KEY);
      message = { kind: "error", html: escapeHtml(left) };
    }
    render();
    if (token) start();
    else document.documentElement.dataset.console = "login";
    return { refresh, plan, apply, logout };
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
    const suspects = L.layerGroup().addTo(map);
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
        panel.showOutages(collection, selected, fmt);
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
      const response = await fetch(`${config.layersUrl}/${name}`, { headers });
      if (response.status === 401 && dispatch) dispatch.logout("Your login expired: log in again.");
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
    let resolveLoaded;
    const loaded = new Promise((resolve) => {
      resolveLoaded = resolve;
    });
    const loadAll = () => Promise.all(names.map(refresh)).then(
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

    let started = false;
    const dispatch = dispatchPanel(map, config, fmt, (loginToken) => {
      token = loginToken;
      if (started) return;
      started = true;
      resolveLoaded(loadAll());
    });

    const api = { map, layers, refresh, refreshLive, loaded, dispatch };
    window.stormdesk.console = api;
    return api;
  }

  window.stormdesk = { startConsole };
})();
