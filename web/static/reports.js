// The supervisor's reports and wallboard: log in (the console's token is reused), fetch
// the report fragments and exports from /api/v1/stats with it, follow the wallboard stream.
(function () {
  "use strict";
  const config = window.stormdeskConfig;
  const TOKEN_KEY = "stormdesk.console.token";
  let token = sessionStorage.getItem(TOKEN_KEY);
  const $ = (id) => document.getElementById(id);

  function headers() {
    return token ? { Authorization: `Bearer ${token}` } : {};
  }

  function showLogin(message) {
    const form = $("login");
    form.hidden = false;
    $("login-error").textContent = message || "";
  }

  async function login(event) {
    event.preventDefault();
    const form = event.target;
    const response = await fetch(`${config.apiUrl}/auth/token`, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
    });
    if (!response.ok) {
      showLogin("login failed");
      return;
    }
    token = (await response.json()).access_token;
    sessionStorage.setItem(TOKEN_KEY, token);
    form.hidden = true;
    start();
  }

  function lang() {
    return $("lang") ? $("lang").value : "en";
  }

  function applyLanguage() {
    document.documentElement.lang = lang();
    document.querySelectorAll("[data-en]").forEach((el) => {
      el.textContent = el.dataset[lang()] || el.dataset.en;
    });
  }

  // --- reports --------------------------------------------------------------------------
  // ?week=YYYY-MM-DD opens the roster plan of that week (&region=CODE: one region's).
  const opened = new URLSearchParams(window.location.search);
  let tab = opened.get("week") ? "roster" : "daily";
  const DATE_PARAM = { indicators: "month", reliability: "end", roster: "week" };
  function query(format) {
    const params = new URLSearchParams({ format, lang: lang() });
    const day = $("date").value;
    if (day) params.set(DATE_PARAM[tab] || "date", day);
    if (tab === "roster" && opened.get("region")) params.set("region", opened.get("region"));
    return `${config.apiUrl}/stats/${tab}?${params}`;
  }

  async function load() {
    const response = await fetch(query("html"), { headers: headers() });
    if (response.status === 401 || response.status === 403) {
      token = null;
      showLogin(response.status === 403 ? "this login may not read reports" : "");
      return;
    }
    $("report").innerHTML = response.ok
      ? await response.text()
      : `<p class="error">${response.status}: ${(await response.text()).slice(0, 300)}</p>`;
  }

  async function download(format) {
    const response = await fetch(query(format), { headers: headers() });
    if (!response.ok) return;
    const blob = await response.blob();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `stormdesk-${tab}-${$("date").value || "today"}.${format}`;
    link.click();
    URL.revokeObjectURL(link.href);
  }

  function reportsPage() {
    const tabs = $("tabs");
    config.tabs.forEach((name) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "tab";
      button.dataset.tab = name;
      button.textContent = name;
      button.setAttribute("aria-pressed", String(name === tab));
      button.addEventListener("click", () => {
        tab = name;
        tabs.querySelectorAll("button").forEach((b) =>
          b.setAttribute("aria-pressed", String(b.dataset.tab === tab)));
        load();
      });
      tabs.appendChild(button);
    });
    if (opened.get("week")) $("date").value = opened.get("week");
    $("date").addEventListener("change", load);
    $("lang").addEventListener("change", () => { applyLanguage(); load(); });
    $("csv").addEventListener("click", () => download("csv"));
    $("xlsx").addEventListener("click", () => download("xlsx"));
  }

  // --- wallboard ------------------------------------------------------------------------
  async function follow() {
    const response = await fetch(`${config.apiUrl}/wallboard/stream`, { headers: headers() });
    if (response.status === 401 || response.status === 403) {
      token = null;
      showLogin("");
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const chunk = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = chunk.split("\n").filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5)).join("\n");
        if (data) drawBoard(JSON.parse(data));
      }
    }
    setTimeout(follow, 2000);
  }

  function cell(label, value, cls) {
    const div = document.createElement("div");
    if (cls) div.className = cls;
    div.textContent = `${label}: ${value === null || value === undefined ? "-" : value}`;
    return div;
  }

  function pct(v) {
    return v === null || v === undefined ? "-" : `${(v * 100).toFixed(1)}%`;
  }

  function drawBoard(board) {
    $("as-of").textContent = board.as_of;
    const root = $("board");
    root.replaceChildren();
    board.regions.forEach((r) => {
      const box = document.createElement("section");
      box.className = "region";
      box.dataset.region = r.region;
      const h = document.createElement("h2");
      h.textContent = r.region;
      box.appendChild(h);
      box.appendChild(cell("calls waiting", r.calls_waiting));
      box.appendChild(cell("longest wait (s)", r.longest_wait_s));
      box.appendChild(cell("service level", pct(r.service_level)));
      box.appendChild(cell("answer rate", pct(r.answer_rate)));
      box.appendChild(cell("abandonment", pct(r.abandon_rate)));
      box.appendChild(cell("agents", JSON.stringify(r.agents)));
      box.appendChild(cell("orders overdue", r.orders_overdue, r.orders_overdue ? "breach" : ""));
      box.appendChild(cell("tickets overdue", r.tickets_overdue, r.tickets_overdue ? "breach" : ""));
      box.appendChild(cell("next 30 min: breaches", r.predicted_breaches,
        r.predicted_breaches ? "breach" : ""));
      box.appendChild(cell("next 30 min: service level", pct(r.predicted_service_level)));
      box.appendChild(cell("next 30 min: late calls", r.predicted_late_calls,
        r.predicted_late_calls ? "breach" : ""));
      box.appendChild(cell("predicted from", r.prediction_basis === "roster"
        ? "forecast x roster" : r.prediction_basis === "current_agents"
          ? "agents working now" : null));
      root.appendChild(box);
    });
  }

  function start() {
    if (!token) {
      showLogin("");
      return;
    }
    if ($("board")) follow();
    else load();
  }

  $("login").addEventListener("submit", login);
  if ($("tabs")) reportsPage();
  applyLanguage();
  start();
})();
