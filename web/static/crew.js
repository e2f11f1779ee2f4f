/* stormdesk crew page: my route on a map, my jobs in route order, one tap per status step.
 *
 * Login is the OAuth2 password flow; the token lives in sessionStorage (gone with the tab).
 * Every status step (en route, on site, restored) and every "need help" goes through a queue
 * kept in localStorage: it is sent at once when the network is there, else kept and retried
 * when the browser fires `online` and every config.retryMs. Steps are idempotent on the
 * server (repeating the current state answers 200), so a retry after a lost answer is safe.
 * The page shows the queued step at once, marked "waiting", and "n updates waiting" on top.
 * While the page is open it posts the crew's position every config.positionMs (if allowed).
 * <html data-crew="login|ready|error"> says where the page is (the browser tests wait on it).
 */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("crew-config").textContent);
  const TOKEN_KEY = "stormdesk.crew.token";
  // Logins that are not crews, and their page (the desk sends department members on to
  // their queue).
  const OTHER_PAGE = {
    agent: { path: "/desk", tokenKey: "stormdesk.desk.token" },
    supervisor: { path: "/desk", tokenKey: "stormdesk.desk.token" },
    dispatcher: { path: "/desk", tokenKey: "stormdesk.desk.token" },
    admin: { path: "/console", tokenKey: "stormdesk.console.token" },
  };
  const QUEUE_PREFIX = "stormdesk.crew.queue.";
  const STEPS = ["en_route", "on_site", "restored"];
  const STATUS_TEXT = {
    new: "New",
    planned: "Planned",
    dispatched: "Dispatched",
    en_route: "En route",
    on_site: "On site",
    restored: "Restored",
    closed: "Closed",
    cancelled: "Cancelled",
  };
  const STEP_TEXT = { en_route: "En route", on_site: "On site", restored: "Restored" };
  // A step is the next one when the order is in one of these states.
  const STEP_FROM = {
    en_route: ["planned", "dispatched"],
    on_site: ["en_route"],
    restored: ["on_site"],
  };
  const PRIORITY_COLOR = { 1: "#c92a2a", 2: "#e8590c", 3: "#1f4f82", 4: "#52606d" };
  const ROAD_STYLE = {
    1: { color: "#9aa5b1", weight: 3.5 },
    2: { color: "#b4bcc6", weight: 2.4 },
    3: { color: "#c6cdd5", weight: 1.4 },
  };
  const CRITICAL_TEXT = {
    life_support: (n) => `${n} life support`,
    hospital: (n) => `${n} ${n === 1 ? "hospital" : "hospitals"}`,
    other_critical: (n) => `${n} other critical`,
  };

  const $ = (id) => document.getElementById(id);
  const time = new Intl.DateTimeFormat("en-GB", {
    timeZone: config.timeZone || "UTC",
    hour: "2-digit",
    minute: "2-digit",
  });

  let token = sessionStorage.getItem(TOKEN_KEY);
  let me = null;
  let orders = [];
  let done = [];
  let route = null;
  let queue = [];
  let flushing = false;
  let timers = [];
  let map = null;
  let roads = null;
  let routeLayer = null;
  let marks = null;
  let fittedFor = "";
  const addresses = {};
  const notes = {};
  let confirming = null; // the order whose Restored tap waits for a second, confirming tap

  /* ---------- small helpers ---------- */

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat(3)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function minutes(seconds) {
    const m = Math.round(Math.abs(seconds) / 60);
    return m >= 90 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min`;
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  }

  function flash(text, kind) {
    const box = $("flash");
    box.textContent = text;
    box.className = `flash ${kind || "error"}`;
    box.hidden = false;
    window.clearTimeout(flash.timer);
    flash.timer = window.setTimeout(() => (box.hidden = true), 8000);
  }

  function setNet(online) {
    const net = $("net");
    net.textContent = online ? "Online" : "Offline";
    net.classList.toggle("off", !online);
  }

  class HttpError extends Error {
    constructor(status, detail) {
      super(detail || `HTTP ${status}`);
      this.status = status;
    }
  }

  async function api(path, options) {
    const opts = options || {};
    const headers = { Accept: "application/json", ...(opts.headers || {}) };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(opts.json);
    }
    const response = await fetch(`${config.apiUrl}${path}`, { method: opts.method || "GET", headers, body: opts.body });
    setNet(true);
    if (response.status === 204) return null;
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const detail = body && (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail));
      if (response.status === 401 && token) logout("Your login has expired: log in again.");
      throw new HttpError(response.status, detail);
    }
    return body;
  }

  /* ---------- login ---------- */

  function showLogin(message) {
    document.documentElement.dataset.crew = "login";
    $("login").hidden = false;
    $("work").hidden = true;
    $("logout").hidden = true;
    $("crew-name").textContent = "Crew";
    const error = $("login-error");
    error.hidden = !message;
    error.textContent = message || "";
  }

  function logout(message) {
    token = null;
    me = null;
    sessionStorage.removeItem(TOKEN_KEY);
    for (const timer of timers) window.clearInterval(timer);
    timers = [];
    renderQueue();
    showLogin(message);
  }

  async function login(event) {
    event.preventDefault();
    const form = new URLSearchParams({ username: $("username").value.trim(), password: $("password").value });
    const button = event.target.querySelector("button");
    button.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(`${config.apiUrl}/auth/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
        body: form,
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(response.status === 401 ? "Wrong username or password." : body.detail || `HTTP ${response.status}`);
      token = body.access_token;
      sessionStorage.setItem(TOKEN_KEY, token);
      $("password").value = "";
      await start();
    } catch (error) {
      showLogin(error instanceof TypeError ? "No network: try again when you are online." : error.message);
    } finally {
      button.removeAttribute("aria-busy");
    }
  }

  /* ---------- the queue ---------- */

  function queueKey() {
    return `${QUEUE_PREFIX}${me ? me.username : "anonymous"}`;
  }

  function loadQueue() {
    try {
      queue = JSON.parse(localStorage.getItem(queueKey()) || "[]");
    } catch (error) {
      queue = [];
    }
  }

  function saveQueue() {
    localStorage.setItem(queueKey(), JSON.stringify(queue));
  }

  function renderQueue() {
    const box = $("queue");
    const n = me ? queue.length : 0;
    box.hidden = n === 0;
    box.dataset.count = String(n);
    box.replaceChildren();
    if (!n) return;
    box.append(
      el("span", { class: "queue-text", text: `${n} ${n === 1 ? "update" : "updates"} waiting` }),
      el("span", { class: "queue-hint", text: navigator.onLine ? "sending…" : "sent when the network is back" }),
      el("button", { type: "button", class: "btn-small", onclick: () => flush(), text: "Retry now" })
    );
  }

  function enqueue(item) {
    queue.push({ ...item, key: uuid(), queued_at: new Date().toISOString() });
    saveQueue();
    renderJobs();
    renderQueue();
    flush();
  }

  async function send(item) {
    if (item.kind === "help") {
      return api(`/work-orders/${item.order}/help`, { method: "POST", json: { note: item.note, request_id: item.key } });
    }
    if (item.kind === "task") {
      return api(`/work-orders/${item.order}/tasks/${item.task}/made-safe`, { method: "POST" });
    }
    return api(`/work-orders/${item.order}/transition`, {
      method: "POST",
      json: { to: item.to, note: item.note, made_safe: Boolean(item.made_safe) },
    });
  }

  async function flush() {
    if (flushing || !me || !queue.length) return;
    flushing = true;
    let sent = 0;
    try {
      while (queue.length) {
        const item = queue[0];
        try {
          const answer = await send(item);
          if (item.kind === "help") flash("Help requested: the dispatcher has been told.", "ok");
          else if (answer) mergeOrder(answer);
        } catch (error) {
          if (!(error instanceof HttpError)) {
            setNet(false); // no answer: keep the step, retry later
            break;
          }
          if (error.status === 401 || error.status >= 500) break;
          // The server refused this step for good (not yours, not allowed now): drop it.
          const what =
            item.kind === "help" ? "Help request" : item.kind === "task" ? "Made safe" : STEP_TEXT[item.to];
          flash(`${what} for job #${item.order} was not accepted: ${error.message}`);
        }
        queue.shift();
        saveQueue();
        sent += 1;
      }
    } finally {
      flushing = false;
      renderQueue();
      renderJobs();
    }
    if (sent) refresh();
  }

  /* ---------- data ---------- */

  function mergeOrder(order) {
    const live = ["new", "planned", "dispatched", "en_route", "on_site"].includes(order.status);
    orders = orders.filter((o) => o.id !== order.id);
    done = done.filter((o) => o.id !== order.id);
    if (live) orders.push(order);
    else done.unshift(order);
  }

  function taskQueued(orderId, taskId) {
    return queue.some((item) => item.kind === "task" && item.order === orderId && item.task === taskId);
  }

  // The status shown: the server's, moved on by steps still waiting in the queue.
  function shownStatus(order) {
    let status = order.status;
    let waiting = false;
    for (const item of queue) {
      if (item.kind === "transition" && item.order === order.id) {
        status = item.to;
        waiting = true;
      }
    }
    return { status, waiting };
  }

  function routeSort(a, b) {
    const seq = (o) => (o.route_seq === null ? 1e9 : o.route_seq);
    const eta = (o) => (o.eta_at ? Date.parse(o.eta_at) : 1e15);
    return seq(a) - seq(b) || eta(a) - eta(b) || b.urgency.score - a.urgency.score || a.id - b.id;
  }

  function facts(order) {
    const terms = {};
    for (const term of order.urgency.breakdown || []) terms[term.term] = term.value;
    return {
      hazard: Boolean(terms.hazard),
      customers: Math.round(terms.customers || 0),
      critical: Object.keys(CRITICAL_TEXT)
        .filter((k) => terms[k])
        .map((k) => CRITICAL_TEXT[k](Math.round(terms[k]))),
    };
  }

  async function lookUpAddresses() {
    const missing = [...orders, ...done].filter((o) => !(o.id in addresses));
    await Promise.all(
      missing.map(async (o) => {
        try {
          const where = await api(`/locate?lon=${o.lon}&lat=${o.lat}`);
          addresses[o.id] = where.nearest_premise ? where.nearest_premise.address : null;
        } catch (error) {
          if (error instanceof HttpError) addresses[o.id] = null;
        }
      })
    );
  }

  async function refresh() {
    if (!me) return;
    try {
      const crew = me.crew_id;
      const [live, restored, current] = await Promise.all([
        api(`/work-orders?live=true&crew=${crew}`),
        api(`/work-orders?status=restored&crew=${crew}`),
        api("/dispatch/current"),
      ]);
      orders = live;
      done = restored.slice(0, 5);
      route = current.routes.find((r) => r.crew_id === crew) || null;
      await lookUpAddresses();
      renderJobs();
      drawMap();
      $("updated").textContent = `Updated ${time.format(new Date())}`;
    } catch (error) {
      if (!(error instanceof HttpError)) {
        setNet(false);
        $("updated").textContent = "Offline: showing the last jobs loaded.";
      } else if (error.status !== 401) {
        flash(`Could not load your jobs: ${error.message}`);
      }
    }
  }

  /* ---------- position ---------- */

  function postPosition() {
    if (!me || !navigator.geolocation || !navigator.onLine) return;
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        const body = { lon: pos.coords.longitude, lat: pos.coords.latitude };
        api(`/crews/${me.crew_id}/position`, { method: "POST", json: body }).then(
          // The first fix moves the route's start off the depot: redraw it now.
          () => route && route.position.source !== "live" && refresh(),
          () => {}
        );
      },
      () => {}, // not allowed or not available: the dispatcher sees the depot position
      { enableHighAccuracy: true, maximumAge: 20000, timeout: 15000 }
    );
  }

  /* ---------- rendering ---------- */

  function navLinks(order) {
    const at = `${order.lat.toFixed(6)},${order.lon.toFixed(6)}`;
    return el(
      "div",
      { class: "nav" },
      el("a", { class: "btn nav-go", href: `geo:${at}?q=${at}`, "data-nav": "geo" }, "Navigate"),
      el(
        "a",
        {
          class: "btn ghost",
          href: `https://www.google.com/maps/dir/?api=1&destination=${at}`,
          target: "_blank",
          rel: "noopener",
          "data-nav": "https",
        },
        "Maps link"
      )
    );
  }

  function jobCard(order, index) {
    const { status, waiting } = shownStatus(order);
    const f = facts(order);
    const address = addresses[order.id] || `${order.lat.toFixed(5)}, ${order.lon.toFixed(5)}`;
    const what = order.kind === "outage" ? `Outage #${order.outage_id}` : `Report #${order.report_id}`;
    const flags = el(
      "div",
      { class: "flags" },
      f.hazard && el("span", { class: "flag hazard" }, "⚠ Hazard"),
      f.customers > 0 && el("span", { class: "flag" }, `${f.customers.toLocaleString("en")} customers off`),
      f.critical.map((c) => el("span", { class: "flag critical" }, c)),
      order.locked && el("span", { class: "flag muted" }, "locked")
    );
    const rows = [];
    if (order.eta_at && ["planned", "dispatched", "en_route"].includes(status)) rows.push(["ETA", time.format(new Date(order.eta_at))]);
    if (order.onsite_countdown_s !== null && ["new", "planned", "dispatched", "en_route"].includes(status)) {
      const late = order.onsite_countdown_s < 0;
      rows.push([
        "On site by",
        `${time.format(new Date(order.onsite_due_at))} (${late ? `${minutes(order.onsite_countdown_s)} late` : `in ${minutes(order.onsite_countdown_s)}`})`,
        late || order.at_risk ? "late" : "",
      ]);
    }
    if (order.restored_at) rows.push(["Restored", time.format(new Date(order.restored_at))]);
    rows.push(["Repair", `about ${minutes(order.repair_s)}`]);
    const live = !["restored", "closed", "cancelled"].includes(status);
    const note = el("textarea", {
      class: "note",
      rows: "2",
      maxlength: "2000",
      placeholder: "Note for the dispatcher (optional)",
      "aria-label": `Note for job ${order.id}`,
    });
    note.value = notes[order.id] || "";
    note.addEventListener("input", () => (notes[order.id] = note.value));
    const takeNote = () => {
      const text = note.value.trim() || null;
      notes[order.id] = "";
      return text;
    };
    const openTasks = (order.tasks || []).filter((t) => t.status === "open" && !taskQueued(order.id, t.id));
    const steps = STEPS.map((step) => {
      const reached = STEPS.indexOf(status) >= STEPS.indexOf(step);
      const next = STEP_FROM[step].includes(status);
      const onclick =
        step === "restored"
          ? () => {
              confirming = order.id;
              renderJobs();
            }
          : () => enqueue({ kind: "transition", order: order.id, to: step, note: takeNote() });
      return el(
        "button",
        {
          type: "button",
          class: `step${next ? " next" : ""}${reached ? " done" : ""}`,
          "data-step": step,
          disabled: !next,
          "aria-pressed": reached ? "true" : "false",
          onclick,
        },
        reached ? `✓ ${STEP_TEXT[step]}` : STEP_TEXT[step]
      );
    });
    const confirm =
      live && confirming === order.id
        ? el(
            "div",
            { class: "confirm", role: "alertdialog", "aria-label": "Confirm power restored" },
            el(
              "p",
              {},
              openTasks.length
                ? `${openTasks.length} make-safe ${openTasks.length === 1 ? "task is" : "tasks are"} still open. ` +
                    "Is every place made safe and the power back?"
                : `Power back for ${f.customers > 0 ? `${f.customers.toLocaleString("en")} customers` : "this job"}?`
            ),
            el(
              "button",
              {
                type: "button",
                class: "btn primary",
                "data-confirm": "restored",
                onclick: () => {
                  confirming = null;
                  enqueue({ kind: "transition", order: order.id, to: "restored", note: takeNote(), made_safe: openTasks.length > 0 });
                },
              },
              openTasks.length ? "All made safe, power restored" : "Yes, restored"
            ),
            el(
              "button",
              {
                type: "button",
                class: "btn",
                onclick: () => {
                  confirming = null;
                  renderJobs();
                },
              },
              "Cancel"
            )
          )
        : null;
    const tasks = (order.tasks || []).length
      ? el(
          "ul",
          { class: "tasks", "aria-label": "Make-safe tasks" },
          order.tasks.map((t) => {
            const queued = taskQueued(order.id, t.id);
            const safe = t.status === "made_safe" || queued;
            return el(
              "li",
              { class: `task${safe ? " safe" : ""}`, "data-task": String(t.id) },
              el("span", { class: "task-note" }, `⚠ ${t.note}`),
              live && !safe
                ? el(
                    "button",
                    {
                      type: "button",
                      class: "btn small",
                      "data-made-safe": String(t.id),
                      onclick: () => enqueue({ kind: "task", order: order.id, task: t.id }),
                    },
                    "Made safe"
                  )
                : el("span", { class: "muted" }, queued ? "made safe · waiting" : "made safe")
            );
          })
        )
      : null;
    const undo =
      status === "restored" && order.undo_s_left
        ? el(
            "button",
            {
              type: "button",
              class: "btn wide",
              "data-undo": String(order.id),
              onclick: () => enqueue({ kind: "transition", order: order.id, to: "on_site", note: "undo: not restored" }),
            },
            `Undo Restored (${Math.ceil(order.undo_s_left / 60)} min left)`
          )
        : null;
    return el(
      "li",
      { class: `job p${order.urgency.priority} s-${status}${waiting ? " waiting" : ""}`, "data-order": String(order.id) },
      el(
        "div",
        { class: "job-head" },
        el("span", { class: "seq", "aria-label": `stop ${index + 1}` }, live ? String(index + 1) : "✓"),
        el(
          "div",
          { class: "job-title" },
          el("strong", { class: "addr" }, address),
          el("span", { class: "sub" }, `${what} · ${order.feeder || "no feeder"} · priority ${order.urgency.priority}`)
        ),
        el("span", { class: `chip c-${status}`, "data-status": status }, waiting ? `${STATUS_TEXT[status]} · waiting` : STATUS_TEXT[status])
      ),
      flags.childNodes.length ? flags : null,
      el("dl", { class: "facts" }, rows.map(([k, v, cls]) => [el("dt", {}, k), el("dd", { class: cls || null }, v)])),
      tasks,
      live ? navLinks(order) : null,
      live ? note : null,
      live ? el("div", { class: "steps", role: "group", "aria-label": "Status" }, steps) : null,
      confirm,
      undo,
      live
        ? el(
            "button",
            {
              type: "button",
              class: "btn help wide",
              "data-help": "",
              onclick: () => enqueue({ kind: "help", order: order.id, note: takeNote() }),
            },
            "Need help"
          )
        : null
    );
  }

  function renderJobs() {
    if (!me) return;
    const live = [...orders].sort(routeSort);
    const jobs = $("jobs");
    jobs.replaceChildren(...live.map(jobCard), ...done.map((o) => jobCard(o, 0)));
    if (!live.length && !done.length) jobs.append(el("li", { class: "empty" }, "No jobs assigned to your crew right now."));
    const p1 = live.filter((o) => o.urgency.priority === 1).length;
    const hazards = live.filter((o) => facts(o).hazard).length;
    const position = route && route.position;
    $("summary").replaceChildren(
      ...[
        el("strong", {}, `${live.length} ${live.length === 1 ? "job" : "jobs"}`),
        p1 ? el("span", { class: "flag critical" }, `${p1} priority 1`) : null,
        hazards ? el("span", { class: "flag hazard" }, `${hazards} hazard`) : null,
        position
          ? el("span", { class: "muted" }, position.source === "live" ? "GPS position shared" : "at the depot (no GPS)")
          : null,
      ].filter(Boolean)
    );
  }

  function ensureMap() {
    if (map) return;
    map = L.map("map", { zoomSnap: 0.25, minZoom: 11, maxZoom: 19, zoomControl: true });
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("© OpenStreetMap contributors, ODbL");
    roads = L.geoJSON(null, {
      renderer: L.canvas(),
      interactive: false,
      style: (f) => ROAD_STYLE[f.properties.rank] || ROAD_STYLE[3],
    }).addTo(map);
    routeLayer = L.layerGroup().addTo(map);
    marks = L.layerGroup().addTo(map);
    map.setView([60.1699, 24.9384], 14);
  }

  function drawMe(latlng, source) {
    marks.eachLayer((layer) => layer.options.sdMe && marks.removeLayer(layer));
    L.circleMarker(latlng, {
      sdMe: true,
      radius: 9,
      color: "#fff",
      weight: 3,
      fillColor: source === "live" ? "#1864ab" : "#52606d",
      fillOpacity: 1,
      className: "crew-me",
    })
      .bindTooltip(source === "live" ? "You are here" : "Depot")
      .addTo(marks);
  }

  async function loadRoads(bounds) {
    // At least a few blocks around: one job at the crew's own position is a point, no box.
    const c = bounds.getCenter();
    const halfLat = Math.max((bounds.getNorth() - bounds.getSouth()) / 2, 0.004);
    const halfLon = Math.max((bounds.getEast() - bounds.getWest()) / 2, 0.008);
    const box = [c.lng - halfLon, c.lat - halfLat, c.lng + halfLon, c.lat + halfLat].map((v) => v.toFixed(5));
    try {
      const collection = await api(`/layers/roads?bbox=${box.join(",")}`);
      roads.clearLayers();
      roads.addData(collection);
    } catch (error) {
      // The base map is decoration: the job list has already answered.
    }
  }

  function drawMap() {
    ensureMap();
    routeLayer.clearLayers();
    marks.clearLayers();
    const points = [];
    const live = [...orders].sort(routeSort);
    if (route) {
      for (const visit of route.visits) {
        const coords = (visit.geometry && visit.geometry.coordinates) || [];
        if (coords.length < 2) continue;
        const line = coords.map(([x, y]) => [y, x]);
        L.polyline(line, { color: "#fff", weight: 8, opacity: 0.9, interactive: false }).addTo(routeLayer);
        L.polyline(line, { color: "#1f4f82", weight: 4.5, opacity: 0.95, className: "crew-route", interactive: false }).addTo(routeLayer);
        points.push(...line);
      }
      const p = route.position;
      points.push([p.lat, p.lon]);
      drawMe([p.lat, p.lon], p.source);
    }
    live.forEach((order, i) => {
      const hazard = facts(order).hazard ? " hazard" : "";
      L.marker([order.lat, order.lon], {
        icon: L.divIcon({
          className: `job-pin${hazard}`,
          html: `<span style="background:${PRIORITY_COLOR[order.urgency.priority] || "#1f4f82"}">${i + 1}</span>`,
          iconSize: [28, 28],
        }),
        keyboard: false,
      })
        .bindTooltip(addresses[order.id] || `Job #${order.id}`)
        .on("click", () => {
          const card = document.querySelector(`[data-order="${order.id}"]`);
          if (card) card.scrollIntoView({ behavior: "smooth", block: "start" });
        })
        .addTo(marks);
      points.push([order.lat, order.lon]);
    });
    // Fit the view when the set of jobs changes, not on every refresh (the crew may have zoomed).
    const key = `${live.map((o) => o.id).join(",")}|${route ? route.position.source : ""}`;
    if (points.length && key !== fittedFor) {
      fittedFor = key;
      const bounds = L.latLngBounds(points);
      map.invalidateSize();
      map.fitBounds(bounds, { padding: [28, 28], maxZoom: 16 });
      loadRoads(bounds.pad(0.6));
    }
  }

  /* ---------- start ---------- */

  async function start() {
    try {
      me = await api("/auth/me");
    } catch (error) {
      if (error instanceof HttpError) return logout(error.status === 401 ? null : error.message);
      document.documentElement.dataset.crew = "error";
      return flash("No network: reload when you are online.");
    }
    if (me.crew_id === null || me.crew_id === undefined) {
      const elsewhere = OTHER_PAGE[me.role];
      if (elsewhere) {
        // Not a crew: the page that serves this login gets the token (same tab and origin).
        sessionStorage.setItem(elsewhere.tokenKey, token);
        sessionStorage.removeItem(TOKEN_KEY);
        window.location.assign(`${config.apiUrl.replace(/\/api\/v1$/, "")}${elsewhere.path}`);
        return;
      }
      const name = me.username;
      logout(`The login ${name} is not linked to a crew: log in with a crew account.`);
      return;
    }
    loadQueue();
    $("login").hidden = true;
    $("work").hidden = false;
    $("logout").hidden = false;
    try {
      const crews = await api("/crews");
      const crew = crews.features.find((f) => f.id === me.crew_id);
      $("crew-name").textContent = crew ? `${crew.properties.code} · ${crew.properties.name}` : me.username;
    } catch (error) {
      $("crew-name").textContent = me.username;
    }
    ensureMap();
    await refresh();
    renderQueue();
    flush();
    postPosition();
    timers = [
      window.setInterval(refresh, config.refreshMs),
      window.setInterval(flush, config.retryMs),
      window.setInterval(postPosition, config.positionMs),
    ];
    document.documentElement.dataset.crew = "ready";
  }

  window.addEventListener("online", () => {
    setNet(true);
    renderQueue();
    flush();
  });
  window.addEventListener("offline", () => {
    setNet(false);
    renderQueue();
  });
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", () => logout(null));
  setNet(navigator.onLine);
  if (token) start();
  else showLogin(null);
})();
