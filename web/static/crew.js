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
 * English and Chinese: every text is in STRINGS; the switch in the header changes it.
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
  // Every text of the page, in English and Chinese (the status page's scheme: a switch in the
  // header, remembered in localStorage under the same key, else the browser's languages).
  // Counted texts are plural forms by Intl.PluralRules: "one" and "other" in English,
  // "other" only in Chinese.
  const STRINGS = {
    en: {
      page: "Crew",
      title: "crew",
      language: "Language",
      logout: "Log out",
      loginTitle: "Crew login",
      username: "Username",
      password: "Password",
      login: "Log in",
      workTitle: "My route and jobs",
      mapLabel: "Map of my route",
      jobsLabel: "My jobs in route order",
      credit: "synthetic grid for demonstration",
      noscript: "The crew page needs JavaScript.",
      online: "Online",
      offline: "Offline",
      expired: "Your login has expired: log in again.",
      wrongPassword: "Wrong username or password.",
      noNetworkLogin: "No network: try again when you are online.",
      noNetworkReload: "No network: reload when you are online.",
      notLinked: "The login {name} is not linked to a crew: log in with a crew account.",
      updatesWaiting: { one: "{n} update waiting", other: "{n} updates waiting" },
      sending: "sending…",
      sentLater: "sent when the network is back",
      retryNow: "Retry now",
      helpRequested: "Help requested: the dispatcher has been told.",
      helpRequest: "Help request",
      madeSafe: "Made safe",
      notAccepted: "{what} for job #{id} was not accepted: {error}",
      updated: "Updated {time}",
      offlineJobs: "Offline: showing the last jobs loaded.",
      loadFailed: "Could not load your jobs: {error}",
      navigate: "Navigate",
      mapsLink: "Maps link",
      outageN: "Outage #{id}",
      reportN: "Report #{id}",
      jobN: "Job #{id}",
      hazard: "⚠ Hazard",
      customersOff: { one: "{n} customer off", other: "{n} customers off" },
      life_support: { one: "{n} life-support customer", other: "{n} life-support customers" },
      hospital: { one: "{n} hospital", other: "{n} hospitals" },
      other_critical: { one: "{n} other critical customer", other: "{n} other critical customers" },
      locked: "locked",
      eta: "ETA",
      onsiteBy: "On site by",
      lateBy: "{m} late",
      dueIn: "in {m}",
      restoredAt: "Restored",
      repair: "Repair",
      about: "about {m}",
      hoursMinutes: "{h} h {m} min",
      minutes: "{m} min",
      notePlaceholder: "Note for the dispatcher (optional)",
      noteLabel: "Note for job {id}",
      confirmLabel: "Confirm power restored",
      openTasks: {
        one: "{n} make-safe task is still open. Is every place made safe and the power back?",
        other: "{n} make-safe tasks are still open. Is every place made safe and the power back?",
      },
      powerBackFor: { one: "Power back for {n} customer?", other: "Power back for {n} customers?" },
      powerBackJob: "Power back for this job?",
      allSafe: "All made safe, power restored",
      yesRestored: "Yes, restored",
      cancel: "Cancel",
      tasksLabel: "Make-safe tasks",
      madeSafeWaiting: "made safe · waiting",
      madeSafeDone: "made safe",
      undo: "Undo Restored ({n} min left)",
      stop: "stop {n}",
      noFeeder: "no feeder",
      priority: "priority {n}",
      waiting: "{status} · waiting",
      statusGroup: "Status",
      needHelp: "Need help",
      noJobs: "No jobs assigned to your crew right now.",
      jobs: { one: "{n} job", other: "{n} jobs" },
      priorityOne: "{n} priority 1",
      hazards: { one: "{n} hazard", other: "{n} hazards" },
      gpsShared: "GPS position shared",
      atDepot: "at the depot (no GPS)",
      youAreHere: "You are here",
      depot: "Depot",
      status: {
        new: "New",
        planned: "Planned",
        dispatched: "Dispatched",
        en_route: "En route",
        on_site: "On site",
        restored: "Restored",
        closed: "Closed",
        cancelled: "Cancelled",
      },
    },
    "zh-CN": {
      page: "抢修班组",
      title: "抢修班组",
      language: "语言",
      logout: "退出登录",
      loginTitle: "抢修班组登录",
      username: "用户名",
      password: "密码",
      login: "登录",
      workTitle: "我的路线和工单",
      mapLabel: "我的路线地图",
      jobsLabel: "按路线顺序排列的工单",
      credit: "演示用模拟电网",
      noscript: "抢修班组页面需要启用 JavaScript。",
      online: "在线",
      offline: "离线",
      expired: "登录已过期，请重新登录。",
      wrongPassword: "用户名或密码错误。",
      noNetworkLogin: "没有网络：请联网后重试。",
      noNetworkReload: "没有网络：请联网后刷新页面。",
      notLinked: "账号 {name} 没有关联抢修班组，请使用班组账号登录。",
      updatesWaiting: { other: "{n} 条更新待发送" },
      sending: "正在发送…",
      sentLater: "网络恢复后自动发送",
      retryNow: "立即重试",
      helpRequested: "已请求支援，调度员已收到通知。",
      helpRequest: "支援请求",
      madeSafe: "已排险",
      notAccepted: "工单 #{id} 的“{what}”未被接受：{error}",
      updated: "更新于 {time}",
      offlineJobs: "离线：显示最近一次加载的工单。",
      loadFailed: "无法加载工单：{error}",
      navigate: "导航",
      mapsLink: "地图链接",
      outageN: "停电 #{id}",
      reportN: "报修 #{id}",
      jobN: "工单 #{id}",
      hazard: "⚠ 危险",
      customersOff: { other: "{n} 户停电" },
      life_support: { other: "{n} 户生命支持用户" },
      hospital: { other: "{n} 家医院" },
      other_critical: { other: "{n} 户其他重要用户" },
      locked: "已锁定",
      eta: "预计到达",
      onsiteBy: "到场时限",
      lateBy: "已超时 {m}",
      dueIn: "还剩 {m}",
      restoredAt: "恢复时间",
      repair: "修复用时",
      about: "约 {m}",
      hoursMinutes: "{h} 小时 {m} 分钟",
      minutes: "{m} 分钟",
      notePlaceholder: "给调度员的备注（可选）",
      noteLabel: "工单 {id} 的备注",
      confirmLabel: "确认已恢复供电",
      openTasks: { other: "还有 {n} 项排险任务未完成。所有地点都已排除危险并恢复供电了吗？" },
      powerBackFor: { other: "{n} 户已恢复供电了吗？" },
      powerBackJob: "该工单已恢复供电了吗？",
      allSafe: "已全部排险，已恢复供电",
      yesRestored: "是，已恢复",
      cancel: "取消",
      tasksLabel: "排险任务",
      madeSafeWaiting: "已排险 · 待发送",
      madeSafeDone: "已排险",
      undo: "撤销“已恢复”（还剩 {n} 分钟）",
      stop: "第 {n} 站",
      noFeeder: "无馈线",
      priority: "优先级 {n}",
      waiting: "{status} · 待发送",
      statusGroup: "状态",
      needHelp: "请求支援",
      noJobs: "目前没有分配给您班组的工单。",
      jobs: { other: "{n} 个工单" },
      priorityOne: "{n} 个一级工单",
      hazards: { other: "{n} 处危险" },
      gpsShared: "已共享 GPS 位置",
      atDepot: "在驻地（无 GPS）",
      youAreHere: "您在这里",
      depot: "驻地",
      status: {
        new: "新建",
        planned: "已计划",
        dispatched: "已派工",
        en_route: "在途",
        on_site: "已到场",
        restored: "已恢复",
        closed: "已关闭",
        cancelled: "已取消",
      },
    },
  };
  const LANGS = Object.keys(STRINGS);
  const LANG_KEY = "stormdesk.lang";
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
  const CRITICAL = ["life_support", "hospital", "other_critical"];

  const $ = (id) => document.getElementById(id);
  let lang = chooseLanguage();
  let time = clock();

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

  /* ---------- language ---------- */

  function chooseLanguage() {
    let stored = null;
    try {
      stored = localStorage.getItem(LANG_KEY);
    } catch (error) {
      // Storage is off: fall back to the browser's languages.
    }
    if (LANGS.includes(stored)) return stored;
    for (const tag of navigator.languages || [navigator.language]) {
      const lower = String(tag).toLowerCase();
      if (lower.startsWith("zh")) return "zh-CN";
      if (lower.startsWith("en")) return "en";
    }
    return "en";
  }

  function clock() {
    return new Intl.DateTimeFormat(lang === "zh-CN" ? "zh-CN" : "en-GB", {
      timeZone: config.timeZone || "UTC",
      hour: "2-digit",
      minute: "2-digit",
    });
  }

  function fill(text, params) {
    return String(text).replace(/\{(\w+)\}/g, (_, name) => (params && name in params ? params[name] : ""));
  }

  function t(key, params) {
    return fill(key in STRINGS[lang] ? STRINGS[lang][key] : STRINGS.en[key], params);
  }

  // A counted text: the plural form of n in the page's language ("1 job", "2 jobs", "2 个工单").
  function tn(key, n, params) {
    const forms = STRINGS[lang][key] || STRINGS.en[key];
    const form = forms[new Intl.PluralRules(lang).select(n)] || forms.other;
    return fill(form, { ...params, n: Number(n).toLocaleString(lang) });
  }

  function statusText(status) {
    return STRINGS[lang].status[status] || status;
  }

  function applyLanguage() {
    document.documentElement.lang = lang;
    document.title = `${document.querySelector(".utility").textContent} — ${t("title")}`;
    time = clock();
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-aria-label]")) {
      node.setAttribute("aria-label", t(node.dataset.i18nAriaLabel));
    }
    for (const button of document.querySelectorAll(".lang button")) {
      button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
    }
    if (!me) $("crew-name").textContent = t("page");
    setNet(!$("net").classList.contains("off"));
    renderQueue();
    renderJobs();
    if (map) drawMap();
  }

  function setLanguage(next) {
    if (!LANGS.includes(next) || next === lang) return;
    lang = next;
    try {
      localStorage.setItem(LANG_KEY, lang);
    } catch (error) {
      // Storage is off: the choice lasts for this visit.
    }
    applyLanguage();
  }

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
    return m >= 90 ? t("hoursMinutes", { h: Math.floor(m / 60), m: m % 60 }) : t("minutes", { m });
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
    net.textContent = online ? t("online") : t("offline");
    net.classList.toggle("off", !online);
  }

  class HttpError extends Error {
    constructor(status, detail) {
      super(detail || `HTTP ${status}`);
      this.status = status;
    }
  }

  // No answer at all (offline, server gone): the only error that means "Offline". Anything
  // else thrown while drawing is a bug and must surface, not pass for a network drop (a
  // shadowed t() once hid a hazard job behind "Offline").
  class NetworkError extends Error {}

  async function api(path, options) {
    const opts = options || {};
    const headers = { Accept: "application/json", ...(opts.headers || {}) };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(opts.json);
    }
    let response;
    try {
      response = await fetch(`${config.apiUrl}${path}`, { method: opts.method || "GET", headers, body: opts.body });
    } catch (error) {
      throw new NetworkError(error.message);
    }
    setNet(true);
    if (response.status === 204) return null;
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const detail = body && (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail));
      if (response.status === 401 && token) logout(t("expired"));
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
    $("crew-name").textContent = t("page");
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
      if (!response.ok) throw new Error(response.status === 401 ? t("wrongPassword") : body.detail || `HTTP ${response.status}`);
      token = body.access_token;
      sessionStorage.setItem(TOKEN_KEY, token);
      $("password").value = "";
    } catch (error) {
      showLogin(error instanceof TypeError ? t("noNetworkLogin") : error.message);
      return;
    } finally {
      button.removeAttribute("aria-busy");
    }
    // Outside the try: start() says for itself when the network is gone, and a bug in it
    // must not read as "no network" on the login form.
    await start();
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
      el("span", { class: "queue-text", text: tn("updatesWaiting", n) }),
      el("span", { class: "queue-hint", text: navigator.onLine ? t("sending") : t("sentLater") }),
      el("button", { type: "button", class: "btn-small", onclick: () => flush(), text: t("retryNow") })
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
          if (item.kind === "help") flash(t("helpRequested"), "ok");
          else if (answer) mergeOrder(answer);
        } catch (error) {
          if (error instanceof NetworkError) {
            setNet(false); // no answer: keep the step, retry later
            break;
          }
          if (!(error instanceof HttpError)) throw error;
          if (error.status === 401 || error.status >= 500) break;
          // The server refused this step for good (not yours, not allowed now): drop it.
          const what =
            item.kind === "help" ? t("helpRequest") : item.kind === "task" ? t("madeSafe") : statusText(item.to);
          flash(t("notAccepted", { what, id: item.order, error: error.message }));
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
      critical: CRITICAL.filter((k) => terms[k]).map((k) => tn(k, Math.round(terms[k]))),
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
          else if (!(error instanceof NetworkError)) throw error;
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
      $("updated").textContent = t("updated", { time: time.format(new Date()) });
    } catch (error) {
      if (error instanceof NetworkError) {
        setNet(false);
        $("updated").textContent = t("offlineJobs");
      } else if (!(error instanceof HttpError)) {
        throw error;
      } else if (error.status !== 401) {
        flash(t("loadFailed", { error: error.message }));
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
      el("a", { class: "btn nav-go", href: `geo:${at}?q=${at}`, "data-nav": "geo" }, t("navigate")),
      el(
        "a",
        {
          class: "btn ghost",
          href: `https://www.google.com/maps/dir/?api=1&destination=${at}`,
          target: "_blank",
          rel: "noopener",
          "data-nav": "https",
        },
        t("mapsLink")
      )
    );
  }

  function jobCard(order, index) {
    const { status, waiting } = shownStatus(order);
    const f = facts(order);
    const address = addresses[order.id] || `${order.lat.toFixed(5)}, ${order.lon.toFixed(5)}`;
    const what = order.kind === "outage" ? t("outageN", { id: order.outage_id }) : t("reportN", { id: order.report_id });
    const flags = el(
      "div",
      { class: "flags" },
      f.hazard && el("span", { class: "flag hazard" }, t("hazard")),
      f.customers > 0 && el("span", { class: "flag" }, tn("customersOff", f.customers)),
      f.critical.map((c) => el("span", { class: "flag critical" }, c)),
      order.locked && el("span", { class: "flag muted" }, t("locked"))
    );
    const rows = [];
    if (order.eta_at && ["planned", "dispatched", "en_route"].includes(status)) rows.push([t("eta"), time.format(new Date(order.eta_at))]);
    if (order.onsite_countdown_s !== null && ["new", "planned", "dispatched", "en_route"].includes(status)) {
      const late = order.onsite_countdown_s < 0;
      rows.push([
        t("onsiteBy"),
        `${time.format(new Date(order.onsite_due_at))} (${t(late ? "lateBy" : "dueIn", { m: minutes(order.onsite_countdown_s) })})`,
        late || order.at_risk ? "late" : "",
      ]);
    }
    if (order.restored_at) rows.push([t("restoredAt"), time.format(new Date(order.restored_at))]);
    rows.push([t("repair"), t("about", { m: minutes(order.repair_s) })]);
    const live = !["restored", "closed", "cancelled"].includes(status);
    const note = el("textarea", {
      class: "note",
      rows: "2",
      maxlength: "2000",
      placeholder: t("notePlaceholder"),
      "aria-label": t("noteLabel", { id: order.id }),
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
        reached ? `✓ ${statusText(step)}` : statusText(step)
      );
    });
    const confirm =
      live && confirming === order.id
        ? el(
            "div",
            { class: "confirm", role: "alertdialog", "aria-label": t("confirmLabel") },
            el(
              "p",
              {},
              openTasks.length
                ? tn("openTasks", openTasks.length)
                : f.customers > 0
                  ? tn("powerBackFor", f.customers)
                  : t("powerBackJob")
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
              openTasks.length ? t("allSafe") : t("yesRestored")
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
              t("cancel")
            )
          )
        : null;
    const tasks = (order.tasks || []).length
      ? el(
          "ul",
          { class: "tasks", "aria-label": t("tasksLabel") },
          order.tasks.map((task) => {
            const queued = taskQueued(order.id, task.id);
            const safe = task.status === "made_safe" || queued;
            return el(
              "li",
              { class: `task${safe ? " safe" : ""}`, "data-task": String(task.id) },
              el("span", { class: "task-note" }, `⚠ ${task.note}`),
              live && !safe
                ? el(
                    "button",
                    {
                      type: "button",
                      class: "btn small",
                      "data-made-safe": String(task.id),
                      onclick: () => enqueue({ kind: "task", order: order.id, task: task.id }),
                    },
                    t("madeSafe")
                  )
                : el("span", { class: "muted" }, queued ? t("madeSafeWaiting") : t("madeSafeDone"))
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
            t("undo", { n: Math.ceil(order.undo_s_left / 60) })
          )
        : null;
    return el(
      "li",
      { class: `job p${order.urgency.priority} s-${status}${waiting ? " waiting" : ""}`, "data-order": String(order.id) },
      el(
        "div",
        { class: "job-head" },
        el("span", { class: "seq", "aria-label": t("stop", { n: index + 1 }) }, live ? String(index + 1) : "✓"),
        el(
          "div",
          { class: "job-title" },
          el("strong", { class: "addr" }, address),
          el("span", { class: "sub" }, `${what} · ${order.feeder || t("noFeeder")} · ${t("priority", { n: order.urgency.priority })}`)
        ),
        el("span", { class: `chip c-${status}`, "data-status": status }, waiting ? t("waiting", { status: statusText(status) }) : statusText(status))
      ),
      flags.childNodes.length ? flags : null,
      el("dl", { class: "facts" }, rows.map(([k, v, cls]) => [el("dt", {}, k), el("dd", { class: cls || null }, v)])),
      tasks,
      live ? navLinks(order) : null,
      live ? note : null,
      live ? el("div", { class: "steps", role: "group", "aria-label": t("statusGroup") }, steps) : null,
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
            t("needHelp")
          )
        : null
    );
  }

  function renderJobs() {
    if (!me) return;
    const live = [...orders].sort(routeSort);
    const jobs = $("jobs");
    jobs.replaceChildren(...live.map(jobCard), ...done.map((o) => jobCard(o, 0)));
    if (!live.length && !done.length) jobs.append(el("li", { class: "empty" }, t("noJobs")));
    const p1 = live.filter((o) => o.urgency.priority === 1).length;
    const hazards = live.filter((o) => facts(o).hazard).length;
    const position = route && route.position;
    $("summary").replaceChildren(
      ...[
        el("strong", {}, tn("jobs", live.length)),
        p1 ? el("span", { class: "flag critical" }, t("priorityOne", { n: p1 })) : null,
        hazards ? el("span", { class: "flag hazard" }, tn("hazards", hazards)) : null,
        position
          ? el("span", { class: "muted" }, position.source === "live" ? t("gpsShared") : t("atDepot"))
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
      .bindTooltip(source === "live" ? t("youAreHere") : t("depot"))
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
        .bindTooltip(addresses[order.id] || t("jobN", { id: order.id }))
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
      if (!(error instanceof NetworkError)) throw error;
      document.documentElement.dataset.crew = "error";
      return flash(t("noNetworkReload"));
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
      logout(t("notLinked", { name }));
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
  for (const button of document.querySelectorAll(".lang button")) {
    button.addEventListener("click", () => setLanguage(button.dataset.lang));
  }
  setNet(navigator.onLine);
  applyLanguage();
  if (token) start();
  else showLogin(null);
})();
