/* stormdesk console: the dispatch panel, the side column's last section (dispatcher login).
 *
 * The unassigned queue with SLA countdowns, crews and their current routes on the map,
 * Plan -> proposal drawn dashed with its summary -> Apply (409: someone else changed the
 * assignments; re-plan), manual assign and lock, and a banner offering a re-plan when a
 * priority-1 order is unassigned; the poller that reloads it and the live layers.
 */
(function () {
  "use strict";

  const { escapeHtml, tip, plural: count } = window.stormdeskSide;

  const TOKEN_KEY = "stormdesk.console.token";
  // The console is staff-only: it opens on this login, and every layer fetch carries it.
  const CONSOLE_ROLES = ["dispatcher", "agent", "supervisor", "admin"];
  const DISPATCH_ROLES = ["dispatcher", "admin"];
  const MESSAGE_KEY = "stormdesk.console.message";
  const CREW_COLORS = ["#1f77b4", "#9467bd", "#2ca02c", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#ff7f0e"];
  const CREW_STATUS = { available: "available", en_route: "en route", on_site: "on site", off_shift: "off shift" };

  const countdownText = (seconds) => window.stormdeskFormat.countdown(seconds);

  function minutesText(seconds) {
    const m = Math.round(seconds / 60);
    return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min`;
  }

  /* Dropped orders grouped by reason, largest group first: "12 × no crew has the skills"
   * with the order numbers folded inside, instead of one line per order. */
  function droppedGroups(dropped) {
    const groups = new Map();
    for (const x of dropped) {
      if (!groups.has(x.reason)) groups.set(x.reason, []);
      groups.get(x.reason).push(x);
    }
    return [...groups.entries()]
      .map(([reason, items]) => ({ reason, items: items.sort((a, b) => a.priority - b.priority || a.work_order_id - b.work_order_id) }))
      .sort((a, b) => b.items.length - a.items.length || a.reason.localeCompare(b.reason));
  }

  function droppedHtml(dropped) {
    if (!dropped.length) return "";
    const groups = droppedGroups(dropped).map(
      (g) =>
        `<li><details class="sd-drop-group"><summary><b class="sd-drop-count">${g.items.length}</b> × ${escapeHtml(g.reason)}</summary>` +
        `<p>${g.items.map((x) => `#${x.work_order_id} P${x.priority}`).join(", ")}</p></details></li>`
    );
    return (
      `<div class="sd-dropped-box"><p><b>Dropped</b> ${dropped.length} orders, ${groups.length === 1 ? "1 reason" : `${groups.length} reasons`}</p>` +
      `<ul class="sd-dropped">${groups.join("")}</ul></div>`
    );
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
    let poll = null;
    let message = null; // {kind, html}
    const crewColor = {};
    const lastText = {};

    map.createPane("sd-routes").style.zIndex = 460;
    const routeLayer = L.layerGroup().addTo(map);
    const proposalLayer = L.layerGroup().addTo(map);
    const crewLayer = L.layerGroup().addTo(map);

    // The panel is the side column's last section (console_chrome.html), beside the map.
    const root = document.getElementById("sd-dispatch");
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
      const response = await fetch(`${config.apiUrl}${path}`, { method: opts.method || "GET", headers, body, cache: "no-cache" });
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
      if (poll) poll.stop();
      poll = null;
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

    /* The proposal: its figures and Apply first (they stay in view), then the routes, the
     * changes and the dropped orders grouped by reason, each folded behind a count. */
    function summaryHtml() {
      if (!proposal) return "";
      const s = proposal.summary;
      const d = proposal.diff;
      const used = proposal.routes.filter((r) => r.visits.length);
      const crewList = used
        .map(
          (r) =>
            `<li><span class="sd-crew-dot" style="background:${colorOf(r.crew_id)}"></span>${escapeHtml(r.crew)}: ` +
            r.visits.map((v) => `#${v.work_order_id} ${fmt.timeHtml(v.eta_at)}${v.onsite_met ? "" : " <b class=\"sd-late\">late</b>"}`).join(" → ") +
            "</li>"
        )
        .join("");
      const diff = [
        ...d.assigned.map((x) => `#${x.work_order_id} → ${escapeHtml(x.to_crew)}`),
        ...d.moved.map((x) => `#${x.work_order_id} ${escapeHtml(x.from_crew)} → ${escapeHtml(x.to_crew)}`),
        ...d.unassigned.map((x) => `#${x.work_order_id} off ${escapeHtml(x.from_crew)}`),
      ];
      const counts = [
        d.assigned.length && `${d.assigned.length} assigned`,
        d.moved.length && `${d.moved.length} moved`,
        d.unassigned.length && `${d.unassigned.length} taken off`,
        d.eta_changes.length && `${d.eta_changes.length} ETA changes`,
      ].filter(Boolean);
      const changes = diff.length
        ? `<details class="sd-fold"><summary><b>Changes:</b> ${counts.join(" · ")}</summary><p class="sd-diff">${diff.join(", ")}</p></details>`
        : `<p class="sd-diff"><b>Changes:</b> none${d.eta_changes.length ? ` · ${d.eta_changes.length} ETA changes` : ""}</p>`;
      return (
        `<div class="sd-proposal-box" id="sd-proposal-summary"><h3>Proposal #${proposal.id} <span>dashed on the map</span></h3>` +
        `<p><b>${s.served}</b> of ${count(s.orders, "order")} served by ${count(used.length, "crew")} · ` +
        `<b class="${s.dropped ? "sd-late" : ""}">${s.dropped}</b> dropped · on-site met ${s.onsite_met}, missed ${s.onsite_missed} · ` +
        `travel ${minutesText(s.travel_s)}</p>` +
        '<div class="sd-actions"><button type="button" class="sd-btn sd-primary" data-act="apply">Apply</button>' +
        '<button type="button" class="sd-btn" data-act="discard">Discard</button></div>' +
        '<div class="sd-proposal-more">' +
        changes +
        (used.length ? `<details class="sd-fold"><summary><b>Routes</b> of ${used.length} crews</summary><ul class="sd-routes">${crewList}</ul></details>` : "") +
        droppedHtml(proposal.dropped) +
        "</div></div>"
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
            `<span class="sd-clock" title="on site due ${fmt.full(o.onsite_due_at)}" data-countdown="${left}">` +
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
      root.classList.toggle("sd-logged-in", Boolean(user));
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
      // The head (message, proposal with Apply, Plan) never scrolls away; the queue and the
      // crews below it scroll in what is left of the column.
      const scrolled = root.querySelector(".sd-dispatch-scroll");
      const scrollTop = scrolled ? scrolled.scrollTop : 0;
      root.innerHTML =
        '<div class="sd-dispatch-head">' +
        `<h2>Dispatch <span class="sd-who">${escapeHtml(user.username)} · <button type="button" class="sd-link" data-act="logout">log out</button></span></h2>` +
        banner +
        (message ? `<div class="sd-msg sd-msg-${message.kind}" id="sd-dispatch-msg" role="status">${message.html}</div>` : "") +
        summaryHtml() +
        `<div class="sd-actions"><button type="button" class="sd-btn${proposal ? "" : " sd-primary"}" data-act="plan" id="sd-plan">${proposal ? "Plan again" : "Plan"}</button>` +
        `<span class="sd-version">plan ${current && current.plan_id ? `#${current.plan_id}` : "none"} · state v${current ? current.version : "…"}</span></div>` +
        "</div>" +
        '<div class="sd-dispatch-scroll" tabindex="0" aria-label="Unassigned orders and crews">' +
        `<section><h2>Unassigned <span class="sd-count" id="sd-unassigned-count">${queueCount}</span></h2>` +
        `<ol class="sd-orders" id="sd-orders">${queueHtml()}</ol></section>` +
        `<section><h2>Crews on shift</h2><ol class="sd-crews">${crewsHtml()}</ol></section></div>`;
      root.querySelector(".sd-dispatch-scroll").scrollTop = scrollTop;
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
      if (!token || !canDispatch()) return true;
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
        return true;
      } catch (error) {
        console.warn("stormdesk dispatch:", error);
        return false;
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
      if (poll) poll.stop();
      poll = poller(config.refreshMs, refresh);
      poll.start();
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
    /* Show a proposal without planning (tests measure the panel with many dropped orders). */
    function preview(shown) {
      proposal = shown;
      render();
    }

    return { refresh, plan, apply, logout, preview, proposal: () => proposal };
  }

  /* Calls ``job`` every ``everyMs`` (``job`` answers whether it worked): never two at once,
   * not while the tab is hidden (a console left in a background tab downloads nothing),
   * at once when it is shown again, and up to 6 times slower after failures. */
  function poller(everyMs, job) {
    let timer = null;
    let running = false;
    let failures = 0;

    async function now() {
      if (running) return;
      window.clearTimeout(timer);
      timer = null;
      if (document.visibilityState !== "hidden") {
        running = true;
        try {
          failures = (await job()) ? 0 : Math.min(failures + 1, 5);
        } finally {
          running = false;
        }
      }
      if (everyMs > 0 && document.visibilityState !== "hidden") timer = window.setTimeout(now, everyMs * (1 + failures));
    }

    function start() {
      if (everyMs <= 0) return;
      timer = window.setTimeout(now, everyMs);
      document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "hidden") {
          window.clearTimeout(timer);
          timer = null;
        } else if (timer === null) {
          now();
        }
      });
    }

    function stop() {
      window.clearTimeout(timer);
      timer = null;
      everyMs = 0;
    }

    return { start, now, stop };
  }

  window.stormdeskDispatch = { dispatchPanel, poller, TOKEN_KEY };
})();
