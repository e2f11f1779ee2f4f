/* stormdesk customer status page: address search, power status and ETR, fault report, tracking.
 *
 * The API answers carry English text in `message`; this page renders its own texts from the
 * structured fields (state, etr, window, cause, classification, ...) in English or Chinese,
 * so both languages say the same. Every string lives in STRINGS.
 * When the page is wired up, <html data-status-page="ready"> is set.
 */
(function () {
  "use strict";

  const STRINGS = {
    en: {
      skip: "Skip to content",
      page: "Power status",
      language: "Language",
      searchTitle: "Is my power on?",
      addressLabel: "Your address",
      addressHint: "Street and house number, for example Mannerheimintie 5",
      suggestions: "Address suggestions",
      check: "Check",
      useLocation: "Use my location",
      locating: "Finding your location…",
      loading: "Checking…",
      stateNormal: "Power is on",
      stateNormalText: "We know of no outage at this address.",
      stateOutage: "Power outage",
      stateOutageText: "There is an outage in your area and we are working on it.",
      statePlanned: "Planned maintenance",
      statePlannedText: "Power is off for planned work in your area.",
      stateRestored: "Power restored",
      stateRestoredText: "Power was restored at {time}. If you still have no power, please report it.",
      etr: "Expected back by {time}",
      etrRange: "Expected back between {start} and {end}",
      etrOverdue: "Taking longer than expected: now between {start} and {end}",
      etrUnknown: "We are assessing when power will be back.",
      stages: {
        waiting: "A crew will be assigned soon.",
        assigned: "A crew has been assigned.",
        en_route: "A crew is on the way.",
        on_site: "A crew is on site working on it.",
      },
      updated: "Updated {time} · refreshes every minute",
      knownOutage: "We already know about this outage: there is no need to report it.",
      knownPlanned: "This is planned work: there is no need to report it.",
      reportAnyway: "Report a danger or another problem",
      customers: (n) => `${n.toLocaleString("en")} ${n === 1 ? "customer" : "customers"} affected`,
      cause: "Cause: {cause}",
      window: "Work window: {window}",
      reason: "Reason: {reason}",
      yourLocation: "Your location",
      upcomingTitle: "Planned work in the next 7 days",
      upcomingNone: "No planned work in the next 7 days.",
      mapLabel: "Map of {where}",
      mapArea: "Affected area (approximate)",
      notFound: "We could not find that address.",
      didYouMean: "Did you mean…?",
      didYouMeanText: "We found addresses like it. Pick yours:",
      addressTip: "Check the street name and house number, for example Mannerheimintie 5.",
      outsideArea: "This location is outside our service area.",
      geoUnsupported: "Your browser cannot share your location. Type your address instead.",
      geoDenied: "We could not get your location. Type your address instead.",
      offline: "We cannot reach the server. Check your connection and try again.",
      httpError: "Something went wrong (error {status}). Please try again.",
      reportTitle: "Report a fault",
      reportFor: "Reporting for: {where}",
      reportNeedsWhere: "Find your address above first, then tell us what is wrong.",
      categoryLabel: "What is wrong?",
      descriptionLabel: "Details",
      phoneLabel: "Phone for a call-back",
      phoneHint: "Only our staff see it.",
      optional: "(optional)",
      sendReport: "Send report",
      sending: "Sending…",
      badPhone: "Check the phone number: digits, spaces, +, ( ) and - only.",
      hazardWarning:
        "Stay away from fallen wires: keep at least 10 metres away and keep others away. " +
        "If anyone is in danger, call the emergency number 112 now.",
      reportNumber: "Report number {id}",
      trackingCode: "Tracking code: {token}",
      keepNumber: "Keep the tracking code to follow your report.",
      clsPlanned: "This is planned work in your area; power is planned back by the end of the work.",
      clsKnown: "We already know about this outage and crews are working on it.",
      clsDuplicate: "You have already reported this; we added it to your earlier report {duplicate}.",
      clsNew: "Thank you. We have received your report and will look into it.",
      clsUnlocated: "Thank you. Our team will locate the address and look into it.",
      trackTitle: "Track a report",
      trackLabel: "Tracking code",
      track: "Track",
      trackBadNumber: "Enter the tracking code you were given, for example Xq3v-9Tb2LmW0aRk.",
      trackNotFound: "No report with tracking code {id}. Check the code and try again.",
      received: "Received {time}",
      trackRestored: "Power has been restored. If you still have no power, please report again.",
      trackActive: "Crews are working on the outage.",
      trackSuspected: "We are checking the outage.",
      trackClosed: "This report is closed.",
      trackOpen: "Your report is open and we are looking into it.",
      trackPlanned: "This is planned work in your area.",
      trackUnlocated: "Your report is registered; our team is locating the address.",
      synthetic: "synthetic grid for demonstration",
      categories: {
        no_power: "No power",
        partial_power: "Partial power (some lights or sockets out)",
        flicker: "Flickering or dim lights",
        wire_down: "Fallen or low-hanging wire",
        pole_damage: "Damaged pole",
        fire_smoke: "Fire, smoke or sparks",
        other: "Something else",
      },
      causes: {
        unknown: "being investigated",
        tree: "tree on the line",
        weather: "weather",
        equipment: "equipment fault",
        vehicle: "vehicle accident",
        animal: "animal contact",
        overload: "overload",
      },
    },
    "zh-CN": {
      skip: "跳到主要内容",
      page: "停电查询",
      language: "语言",
      searchTitle: "我家有电吗？",
      addressLabel: "您的地址",
      addressHint: "街道名和门牌号，例如 Mannerheimintie 5",
      suggestions: "地址建议",
      check: "查询",
      useLocation: "使用我的位置",
      locating: "正在获取您的位置…",
      loading: "正在查询…",
      stateNormal: "供电正常",
      stateNormalText: "该地址目前没有已知的停电。",
      stateOutage: "停电",
      stateOutageText: "您所在区域发生停电，我们正在抢修。",
      statePlanned: "计划停电",
      statePlannedText: "您所在区域正在进行计划检修，暂时停电。",
      stateRestored: "已恢复供电",
      stateRestoredText: "已于 {time} 恢复供电。如果您仍然没有电，请报修。",
      etr: "预计恢复供电时间：{time}",
      etrRange: "预计 {start} 至 {end}之间恢复供电",
      etrOverdue: "抢修时间比预计长，现预计 {start} 至 {end}之间恢复供电",
      etrUnknown: "我们正在评估恢复供电的时间。",
      stages: {
        waiting: "即将安排抢修人员。",
        assigned: "已安排抢修人员。",
        en_route: "抢修人员正在赶往现场。",
        on_site: "抢修人员已到达现场，正在抢修。",
      },
      updated: "更新于 {time} · 每分钟自动刷新",
      knownOutage: "我们已经知道这次停电，无需再报修。",
      knownPlanned: "这是计划检修，无需报修。",
      reportAnyway: "报告危险情况或其他问题",
      customers: (n) => `影响 ${n.toLocaleString("zh-CN")} 户用户`,
      cause: "原因：{cause}",
      window: "检修时间：{window}",
      reason: "检修内容：{reason}",
      yourLocation: "您的位置",
      upcomingTitle: "未来 7 天的计划停电",
      upcomingNone: "未来 7 天没有计划停电。",
      mapLabel: "{where} 的地图",
      mapArea: "影响区域（大致范围）",
      notFound: "没有找到该地址。",
      didYouMean: "您要找的是不是…？",
      didYouMeanText: "我们找到了相近的地址，请选择您的地址：",
      addressTip: "请检查街道名和门牌号，例如 Mannerheimintie 5。",
      outsideArea: "该位置不在我们的供电区域内。",
      geoUnsupported: "您的浏览器无法提供位置，请直接输入地址。",
      geoDenied: "无法获取您的位置，请直接输入地址。",
      offline: "无法连接服务器，请检查网络后重试。",
      httpError: "出错了（错误代码 {status}），请稍后重试。",
      reportTitle: "故障报修",
      reportFor: "报修地址：{where}",
      reportNeedsWhere: "请先在上方查询您的地址，再告诉我们出了什么问题。",
      categoryLabel: "出了什么问题？",
      descriptionLabel: "详细说明",
      phoneLabel: "回访电话",
      phoneHint: "仅供我们的工作人员使用。",
      optional: "（选填）",
      sendReport: "提交报修",
      sending: "正在提交…",
      badPhone: "请检查电话号码：只能包含数字、空格、+、( ) 和 -。",
      hazardWarning: "请远离断落的电线：保持至少 10 米距离，并提醒他人远离。如有人员危险，请立即拨打紧急电话 112。",
      reportNumber: "报修单号 {id}",
      trackingCode: "查询码：{token}",
      keepNumber: "请保存查询码，以便查询处理进度。",
      clsPlanned: "这是您所在区域的计划检修，检修结束后恢复供电。",
      clsKnown: "我们已经知道这次停电，抢修人员正在处理。",
      clsDuplicate: "您已经报修过这个问题，我们已将其合并到您之前的报修单 {duplicate}。",
      clsNew: "谢谢！我们已收到您的报修，将尽快处理。",
      clsUnlocated: "谢谢！我们的工作人员将核实地址并尽快处理。",
      trackTitle: "查询报修进度",
      trackLabel: "查询码",
      track: "查询",
      trackBadNumber: "请输入您收到的查询码，例如 Xq3v-9Tb2LmW0aRk。",
      trackNotFound: "没有找到查询码为 {id} 的报修，请检查后重试。",
      received: "受理时间：{time}",
      trackRestored: "已恢复供电。如果您仍然没有电，请重新报修。",
      trackActive: "抢修人员正在处理这次停电。",
      trackSuspected: "我们正在核实这次停电。",
      trackClosed: "该报修单已关闭。",
      trackOpen: "您的报修已受理，我们正在处理。",
      trackPlanned: "这是您所在区域的计划检修。",
      trackUnlocated: "您的报修已登记，工作人员正在核实地址。",
      synthetic: "演示用模拟电网",
      categories: {
        no_power: "完全停电",
        partial_power: "部分停电（部分灯或插座没电）",
        flicker: "灯光闪烁或变暗",
        wire_down: "电线断落或下垂",
        pole_damage: "电线杆损坏",
        fire_smoke: "起火、冒烟或打火花",
        other: "其他问题",
      },
      causes: {
        unknown: "正在调查",
        tree: "树木碰线",
        weather: "恶劣天气",
        equipment: "设备故障",
        vehicle: "车辆撞击",
        animal: "小动物触电",
        overload: "线路过载",
      },
    },
  };
  const LANGS = Object.keys(STRINGS);
  const LANG_KEY = "stormdesk.lang";
  const CATEGORIES = ["no_power", "partial_power", "flicker", "wire_down", "pole_damage", "fire_smoke", "other"];
  const HAZARDS = new Set(["wire_down", "pole_damage", "fire_smoke"]);
  const PHONE = /^\+?[0-9 ()-]{3,32}$/;
  const SUGGEST_DELAY_MS = 220;
  const SUGGEST_MIN_CHARS = 3;
  const ICONS = {
    normal: '<path d="M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm-1.4 14.2-4.1-4.1 1.4-1.4 2.7 2.7 5.9-5.9 1.4 1.4Z"/>',
    outage: '<path d="M13 2 4 14h7l-1 8 9-12h-7z"/><path d="M3 3l18 18" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"/>',
    planned: '<path d="M7 2v2H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2h-2V2h-2v2H9V2Zm-2 7h14v11H5Zm2 2v2h2v-2Zm4 0v2h2v-2Zm4 0v2h2v-2Z"/>',
    restored: '<path d="M13 2 4 14h7l-1 8 9-12h-7z"/>',
    error: '<path d="M12 2 1 21h22Zm-1 7h2v6h-2Zm0 8h2v2h-2Z"/>',
    report: '<path d="M4 3h16v14H7l-3 3Zm7 3v5h2V6Zm0 7v2h2v-2Z"/>',
    suggest: '<path d="M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm-1 15v-2h2v2Zm2.1-5.2-.6.6c-.4.4-.5.8-.5 1.6h-2v-.5c0-1 .3-1.7.9-2.3l1.2-1.2a1.5 1.5 0 1 0-2.6-1H8.5a3.5 3.5 0 1 1 6 2.4Z"/>',
  };
  const STATE_COLOR = { normal: "#2b8a3e", outage: "#c92a2a", planned: "#b35c00", restored: "#1864ab" };
  const ROAD_STYLE = {
    1: { color: "#9aa5b1", weight: 4 },
    2: { color: "#b3bcc6", weight: 2.6 },
    3: { color: "#c9d0d8", weight: 1.6 },
  };
  // Half the size of the map's road window around the premise, in degrees (about 900 x 900 m).
  const VIEW_HALF_LON = 0.008;
  const VIEW_HALF_LAT = 0.004;
  // The outage area is not public: a circle this wide marks "around you" instead.
  const AREA_RADIUS_M = 150;
  // An open page asks again this often, so it shows the crew arriving and the restoration.
  const REFRESH_MS = 60000;

  const config = JSON.parse(document.getElementById("status-config").textContent);
  const $ = (id) => document.getElementById(id);

  let lang = chooseLanguage();
  // What is shown, kept so that a language switch can render it again.
  const view = { result: null, map: null, report: null, track: null };
  let where = null; // {address} or {lon, lat} of the last successful lookup
  let whereLabel = null; // the address, or null for a bare point
  let pendingKey = null; // Idempotency-Key of a report not yet answered
  let suggestAbort = null;
  let suggestTimer = 0;
  let suggestions = [];
  let activeOption = -1;
  let map = null;
  let roads = null;
  let marks = null;
  let areaNote = null;
  let roadsRequest = 0;
  let shown = null; // the status answer on screen
  let watched = null; // {query, accuracy} of that answer, asked again every REFRESH_MS
  let refreshTimer = 0;
  let reportAnyway = false; // the customer chose to report although we know of the outage

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

  function t(key, params) {
    let text = STRINGS[lang][key];
    if (text === undefined) text = STRINGS.en[key];
    if (typeof text === "function") return text(params);
    return String(text).replace(/\{(\w+)\}/g, (_, name) => (params && name in params ? params[name] : ""));
  }

  function locale() {
    if (lang === "zh-CN") return "zh-CN";
    const english = (navigator.languages || []).find((tag) => /^en\b/i.test(tag));
    return english || "en-GB";
  }

  function formatTime(iso) {
    const options = { timeZone: config.timeZone, month: "short", day: "numeric", hour: "numeric", minute: "2-digit" };
    return new Intl.DateTimeFormat(locale(), options).format(new Date(iso));
  }

  // A clock time ("14:30"), with the day when it is not today, and the zone when asked.
  function formatClock(iso, withZone) {
    const date = new Date(iso);
    const options = { timeZone: config.timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    const day = (d) => new Intl.DateTimeFormat("en-CA", { timeZone: config.timeZone }).format(d);
    if (day(date) !== day(new Date())) Object.assign(options, { weekday: "short", day: "numeric", month: "short" });
    const text = new Intl.DateTimeFormat(locale(), options).format(date);
    return withZone ? withZoneAfter(text, date) : text;
  }

  // The zone after the clock ("20:30 EET", "20:30（GMT+2）"), never before it: zh-CN's own
  // formatter writes "GMT+2 20:30", which in an ETR range lands mid-range
  // ("预计 20:30 至 GMT+2 22:30 之间").
  function withZoneAfter(text, date) {
    const options = { timeZone: config.timeZone, timeZoneName: "short" };
    const parts = new Intl.DateTimeFormat(locale(), options).formatToParts(date);
    const zone = parts.find((part) => part.type === "timeZoneName").value;
    return lang === "zh-CN" ? `${text}（${zone}）` : `${text} ${zone}`;
  }

  function formatWindow(startIso, endIso) {
    const options = { timeZone: config.timeZone, weekday: "short", month: "short", day: "numeric", hour: "numeric", minute: "2-digit" };
    const format = new Intl.DateTimeFormat(locale(), options);
    const start = new Date(startIso);
    const end = new Date(endIso);
    return format.formatRange ? format.formatRange(start, end) : `${format.format(start)} – ${format.format(end)}`;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "html") node.innerHTML = value; // only our own constant SVG
      else node.setAttribute(name, value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function icon(name) {
    return el("span", {
      class: `icon icon-${name}`,
      "aria-hidden": "true",
      html: `<svg viewBox="0 0 24 24">${ICONS[name]}</svg>`,
    });
  }

  /* ---------- language ---------- */

  function applyLanguage() {
    document.documentElement.lang = lang;
    document.title = `${document.querySelector(".utility").textContent} — ${t("page")}`;
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-aria-label]")) {
      node.setAttribute("aria-label", t(node.dataset.i18nAriaLabel));
    }
    for (const button of document.querySelectorAll(".lang button")) {
      button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
    }
    const select = $("category");
    const chosen = select.value;
    select.replaceChildren(
      ...CATEGORIES.map((c) => el("option", { value: c }, STRINGS[lang].categories[c]))
    );
    select.value = chosen || "no_power";
    renderHazardWarning();
    renderWhere();
    if (view.result) view.result();
    if (view.map) view.map();
    if (view.report) view.report();
    if (view.track) view.track();
  }

  function setLanguage(next) {
    if (!LANGS.includes(next) || next === lang) return;
    lang = next;
    try {
      localStorage.setItem(LANG_KEY, lang);
    } catch (error) {
      // Storage is off (private mode, policy): the choice lasts for this visit.
    }
    applyLanguage();
  }

  /* ---------- API ---------- */

  class ApiError extends Error {
    constructor(status, body) {
      super(`HTTP ${status}`);
      this.status = status;
      this.body = body || {};
    }
  }

  async function api(path, options) {
    let response;
    try {
      response = await fetch(`${config.apiUrl}${path}`, {
        ...options,
        headers: { Accept: "application/json", ...(options && options.headers) },
      });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError(0, null);
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  function errorText(error) {
    if (error.status === 0) return t("offline");
    return t("httpError", { status: error.status });
  }

  /* ---------- address suggestions (ARIA combobox) ---------- */

  function closeSuggestions() {
    suggestions = [];
    activeOption = -1;
    $("suggest").hidden = true;
    $("suggest").replaceChildren();
    $("q").setAttribute("aria-expanded", "false");
    $("q").removeAttribute("aria-activedescendant");
  }

  function showSuggestions(matches) {
    suggestions = matches;
    activeOption = -1;
    const list = $("suggest");
    list.replaceChildren(
      ...matches.map((m, i) =>
        el("li", { id: `suggest-${i}`, role: "option", "aria-selected": "false", "data-index": i }, m.address)
      )
    );
    list.hidden = matches.length === 0;
    $("q").setAttribute("aria-expanded", String(matches.length > 0));
  }

  function highlight(index) {
    const options = $("suggest").querySelectorAll("[role=option]");
    activeOption = index;
    options.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    if (index >= 0) {
      $("q").setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    } else {
      $("q").removeAttribute("aria-activedescendant");
    }
  }

  function requestSuggestions() {
    clearTimeout(suggestTimer);
    const query = $("q").value.trim();
    if (query.length < SUGGEST_MIN_CHARS) {
      if (suggestAbort) suggestAbort.abort();
      closeSuggestions();
      return;
    }
    suggestTimer = setTimeout(async () => {
      if (suggestAbort) suggestAbort.abort();
      suggestAbort = new AbortController();
      try {
        const body = await api(`/geocode?${new URLSearchParams({ q: query, limit: "6", distinct: "true" })}`, {
          signal: suggestAbort.signal,
        });
        if ($("q").value.trim() === query) showSuggestions(dedupe(body.matches));
      } catch (error) {
        if (error.name !== "AbortError") closeSuggestions(); // suggestions are a convenience
      }
    }, SUGGEST_DELAY_MS);
  }

  // OSM has several objects (shops, entrances) at one address: offer each address once.
  function dedupe(matches) {
    const seen = new Set();
    return matches.filter((m) => !seen.has(m.address) && seen.add(m.address));
  }

  function pick(match) {
    $("q").value = match.address;
    closeSuggestions();
    lookup({ address: match.address });
  }

  function onSearchKey(event) {
    const n = suggestions.length;
    if (event.key === "ArrowDown" && n) {
      event.preventDefault();
      highlight((activeOption + 1) % n);
    } else if (event.key === "ArrowUp" && n) {
      event.preventDefault();
      highlight((activeOption - 1 + n) % n);
    } else if (event.key === "Escape") {
      closeSuggestions();
    }
  }

  /* ---------- status lookup ---------- */

  function resultCard(kind, title, lines, extra) {
    const card = $("result");
    card.hidden = false;
    card.dataset.state = kind;
    card.replaceChildren(
      el("div", { class: "result-head" }, icon(kind), el("h2", { class: "result-title" }, title)),
      ...lines.filter(Boolean),
      ...(extra || [])
    );
  }

  function showLoading(textKey) {
    view.result = () => resultCard("loading", t(textKey), []);
    view.result();
  }

  // The ETR as the range the API derived from the crew's stage (outages/etr_range.py).
  function etrText(answer) {
    if (answer.etr_earliest && answer.etr_latest) {
      const key = answer.etr_overdue ? "etrOverdue" : "etrRange";
      return t(key, { start: formatClock(answer.etr_earliest), end: formatClock(answer.etr_latest, true) });
    }
    return answer.etr ? t("etr", { time: formatTime(answer.etr) }) : t("etrUnknown");
  }

  // A planned reason in the page's language when the API knows it, else as typed (English).
  function reasonNode(tag, texts, typed) {
    const translated = texts && texts[lang];
    return el(tag, { lang: translated ? null : "en" }, translated || (texts && texts.en) || typed);
  }

  function showStatus(answer) {
    const key = answer.state[0].toUpperCase() + answer.state.slice(1);
    const lines = [
      el("p", { class: "result-address" }, answer.address || t("yourLocation")),
    ];
    if (answer.state === "normal") {
      lines.push(el("p", {}, t("stateNormalText")));
    } else if (answer.state === "outage") {
      lines.push(el("p", {}, t("stateOutageText")));
      lines.push(el("p", { class: "etr" }, etrText(answer)));
      if (answer.crew_stage) lines.push(el("p", { class: "crew-stage" }, STRINGS[lang].stages[answer.crew_stage]));
      if (answer.customers_affected) lines.push(el("p", {}, t("customers", answer.customers_affected)));
      if (answer.cause) lines.push(el("p", {}, t("cause", { cause: STRINGS[lang].causes[answer.cause] || answer.cause })));
    } else if (answer.state === "planned") {
      lines.push(el("p", {}, t("statePlannedText")));
      if (answer.etr) lines.push(el("p", { class: "etr" }, t("etr", { time: formatTime(answer.etr) })));
      if (answer.window_start && answer.window_end) {
        lines.push(el("p", {}, t("window", { window: formatWindow(answer.window_start, answer.window_end) })));
      }
      if (answer.reason) {
        lines.push(el("p", {}, t("reason", { reason: "" }), reasonNode("span", answer.reason_texts, answer.reason)));
      }
    } else if (answer.state === "restored") {
      lines.push(el("p", {}, t("stateRestoredText", { time: formatTime(answer.restored_at) })));
    }
    const upcoming = answer.upcoming_planned || [];
    const extra = [];
    // Under the planned work itself, "no planned work" would contradict the card.
    if (upcoming.length || answer.state !== "planned") {
      extra.push(
        el(
          "div",
          { class: "upcoming" },
          el("h3", {}, t("upcomingTitle")),
          upcoming.length
            ? el(
                "ul",
                {},
                upcoming.map((p) =>
                  el("li", {}, el("strong", {}, formatWindow(p.starts_at, p.ends_at)), reasonNode("span", p.reason_texts, p.reason))
                )
              )
            : el("p", { class: "muted" }, t("upcomingNone"))
        )
      );
    }
    if (answer.checked_at) extra.push(el("p", { class: "updated muted" }, t("updated", { time: formatClock(answer.checked_at, true) })));
    resultCard(answer.state, t(`state${key}`), lines, extra);
  }

  function showLookupError(error, byPoint) {
    const body = error.body || {};
    if (error.status === 422 && byPoint) return resultCard("error", t("outsideArea"), []);
    if (error.status !== 422) return resultCard("error", errorText(error), []);
    const matches = dedupe(body.suggestions || []);
    if (!matches.length) return resultCard("error", t("notFound"), [el("p", {}, t("addressTip"))]);
    const chips = matches.map((m) => {
      const chip = el("button", { type: "button", class: "chip" }, m.address);
      chip.addEventListener("click", () => pick(m));
      return chip;
    });
    return resultCard("suggest", t("didYouMean"), [el("p", {}, t("didYouMeanText")), el("div", { class: "chips" }, chips)]);
  }

  async function lookup(query, accuracy) {
    const byPoint = "lon" in query;
    clearTimeout(refreshTimer);
    watched = null;
    showLoading("loading");
    try {
      const answer = await api(`/status?${new URLSearchParams(query)}`);
      where = answer.address ? { address: answer.address } : { lon: Number(query.lon), lat: Number(query.lat) };
      pendingKey = null;
      whereLabel = answer.address;
      reportAnyway = false;
      shown = answer;
      renderWhere();
      view.result = () => showStatus(answer);
      view.result();
      drawMap(answer, accuracy);
      watched = { query, accuracy };
      refreshTimer = setTimeout(refreshStatus, REFRESH_MS);
    } catch (error) {
      shown = null;
      renderWhere();
      hideMap();
      view.result = () => showLookupError(error, byPoint);
      view.result();
    }
  }

  // Ask again for the address on screen; a failed refresh keeps the last answer, whose
  // "updated" stamp then shows its age.
  async function refreshStatus() {
    clearTimeout(refreshTimer);
    if (!watched) return;
    const asked = watched;
    try {
      const answer = await api(`/status?${new URLSearchParams(asked.query)}`);
      if (watched !== asked) return; // a new lookup started meanwhile
      const moved = !shown || shown.state !== answer.state;
      shown = answer;
      renderWhere();
      view.result = () => showStatus(answer);
      view.result();
      if (moved) drawMap(answer, asked.accuracy);
    } catch (error) {
      // Offline for a moment: try again at the next tick.
    }
    if (watched === asked && document.visibilityState !== "hidden") {
      refreshTimer = setTimeout(refreshStatus, REFRESH_MS);
    }
  }

  function useLocation() {
    if (!navigator.geolocation) {
      view.result = () => resultCard("error", t("geoUnsupported"), []);
      view.result();
      return;
    }
    showLoading("locating");
    navigator.geolocation.getCurrentPosition(
      (position) => {
        const { longitude, latitude, accuracy } = position.coords;
        lookup({ lon: longitude.toFixed(6), lat: latitude.toFixed(6) }, accuracy);
      },
      () => {
        view.result = () => resultCard("error", t("geoDenied"), []);
        view.result();
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  }

  /* ---------- map ---------- */

  function ensureMap() {
    $("map").hidden = false;
    if (map) return;
    map = L.map("map", { zoomSnap: 0.25, scrollWheelZoom: false, minZoom: 13, maxZoom: 19 });
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("© OpenStreetMap contributors, ODbL");
    roads = L.geoJSON(null, {
      renderer: L.canvas(),
      interactive: false,
      style: (f) => ROAD_STYLE[f.properties.rank] || ROAD_STYLE[3],
    }).addTo(map);
    marks = L.layerGroup().addTo(map);
    areaNote = L.control({ position: "bottomleft" });
    areaNote.onAdd = () => L.DomUtil.create("div", "map-note");
  }

  function hideMap() {
    $("map").hidden = true;
    view.map = null;
  }

  // The map's texts, set again when the language changes.
  function labelMap(answer, marker) {
    const place = answer.address || t("yourLocation");
    $("map").setAttribute("aria-label", t("mapLabel", { where: place }));
    marker.setTooltipContent(place);
    if (areaNote.getContainer()) {
      const color = STATE_COLOR[answer.state];
      areaNote.getContainer().replaceChildren(
        el("span", { class: "map-swatch", style: `border-color:${color};background:${color}22` }),
        t("mapArea")
      );
    }
  }

  async function drawMap(answer, accuracy) {
    if (answer.lon === null || answer.lon === undefined) return hideMap();
    ensureMap();
    const drawn = (roadsRequest += 1);
    const center = [answer.lat, answer.lon];
    const color = STATE_COLOR[answer.state];
    const bounds = L.latLngBounds(
      [answer.lat - VIEW_HALF_LAT, answer.lon - VIEW_HALF_LON],
      [answer.lat + VIEW_HALF_LAT, answer.lon + VIEW_HALF_LON]
    );
    map.invalidateSize();
    map.fitBounds(bounds.pad(-0.25));
    marks.clearLayers();
    areaNote.remove();
    if (answer.state === "outage" || answer.state === "planned") {
      areaNote.addTo(map);
      L.circle(center, {
        radius: AREA_RADIUS_M,
        color,
        weight: 1.5,
        dashArray: "4 4",
        fillColor: color,
        fillOpacity: 0.12,
        interactive: false,
      }).addTo(marks);
    }
    if (accuracy) {
      L.circle(center, { radius: accuracy, color: "#1864ab", weight: 1, fillOpacity: 0.08, interactive: false }).addTo(marks);
    }
    L.circleMarker(center, { radius: 22, stroke: false, fillColor: color, fillOpacity: 0.18, interactive: false }).addTo(marks);
    const marker = L.circleMarker(center, { radius: 9, color: "#fff", weight: 3, fillColor: color, fillOpacity: 1 })
      .bindTooltip("")
      .addTo(marks);
    view.map = () => labelMap(answer, marker);
    view.map();
    const box = [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()].map((v) => v.toFixed(5));
    let collection = null;
    try {
      collection = await api(`/layers/roads?bbox=${box.join(",")}`, { headers: { Accept: "application/geo+json" } });
    } catch (error) {
      // The base map is decoration: the status card has already answered.
    }
    if (drawn !== roadsRequest) return; // a later lookup has moved the map meanwhile
    roads.clearLayers();
    if (collection) roads.addData(collection);
  }

  /* ---------- report a fault ---------- */

  function renderWhere() {
    const text = where ? t("reportFor", { where: whereLabel || t("yourLocation") }) : t("reportNeedsWhere");
    $("report-where").textContent = text;
    $("report-where").classList.toggle("muted", !where);
    // Inside a known outage or planned work the page does not invite a report; a danger
    // (a fallen wire) can still be reported behind one more tap.
    const known = Boolean(shown && shown.known_outage);
    $("known").hidden = !known;
    $("known-text").textContent = known ? t(shown.state === "planned" ? "knownPlanned" : "knownOutage") : "";
    $("report-anyway").hidden = reportAnyway;
    $("report-form").hidden = known && !reportAnyway;
  }

  function renderHazardWarning() {
    const warning = $("hazard-warning");
    warning.hidden = !HAZARDS.has($("category").value);
    warning.replaceChildren(icon("error"), el("span", {}, t("hazardWarning")));
  }

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    // Outside secure contexts (plain http on a LAN address) randomUUID is missing.
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function reportBox(kind, children) {
    return el("div", { class: `notice notice-${kind}` }, children);
  }

  function showReportAnswer(answer) {
    const cls = answer.classification[0].toUpperCase() + answer.classification.slice(1);
    $("report-result").replaceChildren(
      reportBox("ok", [
        el("div", { class: "notice-head" }, icon("report"), el("h3", { class: "report-number" }, t("reportNumber", { id: answer.id }))),
        el("p", { class: "classification" }, t(`cls${cls}`, { duplicate: answer.duplicate_of || "" })),
        answer.etr && el("p", { class: "etr" }, t("etr", { time: formatTime(answer.etr) })),
        el("p", { class: "tracking-code" }, t("trackingCode", { token: answer.token })),
        el("p", { class: "muted" }, t("keepNumber")),
      ]),
      // replaceChildren prints false and null as text: add the warning only when there is one.
      ...(answer.hazard ? [el("div", { class: "warning" }, icon("error"), el("span", {}, t("hazardWarning")))] : [])
    );
  }

  function showReportError(error) {
    const body = error.body || {};
    let text;
    if (error.status === 422 && Array.isArray(body.detail) && body.detail.some((d) => (d.loc || []).includes("phone"))) {
      text = t("badPhone");
    } else if (error.status === 422 && body.error === "AddressNotFound") {
      text = `${t("notFound")} ${t("addressTip")}`;
    } else {
      text = errorText(error);
    }
    $("report-result").replaceChildren(reportBox("error", [el("p", {}, text)]));
  }

  async function sendReport(event) {
    event.preventDefault();
    const button = $("report-send");
    if (button.getAttribute("aria-busy") === "true") return; // a double tap while sending
    if (!where) {
      view.report = () => $("report-result").replaceChildren(reportBox("error", [el("p", {}, t("reportNeedsWhere"))]));
      view.report();
      $("q").focus();
      return;
    }
    const phone = $("phone").value.trim();
    if (phone && !PHONE.test(phone)) {
      view.report = () => $("report-result").replaceChildren(reportBox("error", [el("p", {}, t("badPhone"))]));
      view.report();
      $("phone").focus();
      return;
    }
    const description = $("description").value.trim();
    const body = { ...where, category: $("category").value, channel: "web" };
    if (description) body.description = description;
    if (phone) body.phone = phone;
    pendingKey = pendingKey || newKey();
    button.setAttribute("aria-busy", "true");
    button.textContent = t("sending");
    try {
      const answer = await api("/reports", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Idempotency-Key": pendingKey },
        body: JSON.stringify(body),
      });
      pendingKey = null;
      $("report-form").reset();
      renderHazardWarning();
      $("track-id").value = answer.token;
      view.report = () => showReportAnswer(answer);
    } catch (error) {
      // The key is kept: sending again after a network error must not file twice.
      view.report = () => showReportError(error);
    } finally {
      button.removeAttribute("aria-busy");
      button.textContent = t("sendReport");
    }
    view.report();
    $("report-result").scrollIntoView({ block: "nearest" });
  }

  /* ---------- track a report ---------- */

  function trackText(report) {
    if (report.outage_status === "restored" || report.outage_status === "closed") return t("trackRestored");
    if (report.status === "closed") return t("trackClosed");
    if (report.outage_status === "confirmed") return t("trackActive");
    if (report.outage_status === "suspected") return t("trackSuspected");
    if (report.classification === "planned") return t("trackPlanned");
    if (report.classification === "unlocated") return t("trackUnlocated");
    return t("trackOpen");
  }

  function showTrack(report) {
    const active = report.outage_status === "confirmed" || report.outage_status === "suspected";
    $("track-result").replaceChildren(
      reportBox("ok", [
        el("div", { class: "notice-head" }, icon("report"), el("h3", {}, t("reportNumber", { id: report.id }))),
        el("p", { class: "track-status" }, trackText(report)),
        active && el("p", { class: "etr" }, report.etr ? t("etr", { time: formatTime(report.etr) }) : t("etrUnknown")),
        el("p", { class: "muted" }, `${STRINGS[lang].categories[report.category] || report.category} · ${t("received", { time: formatTime(report.received_at) })}`),
      ])
    );
  }

  async function track(event) {
    event.preventDefault();
    const raw = $("track-id").value.replace(/\s/g, "");
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(raw)) {
      view.track = () => $("track-result").replaceChildren(reportBox("error", [el("p", {}, t("trackBadNumber"))]));
      view.track();
      return;
    }
    try {
      const report = await api(`/reports/track/${encodeURIComponent(raw)}`);
      view.track = () => showTrack(report);
    } catch (error) {
      const text = () => (error.status === 404 ? t("trackNotFound", { id: raw }) : errorText(error));
      view.track = () => $("track-result").replaceChildren(reportBox("error", [el("p", { class: "track-error" }, text())]));
    }
    view.track();
  }

  /* ---------- wiring ---------- */

  function start() {
    const q = $("q");
    q.addEventListener("input", () => {
      requestSuggestions();
    });
    q.addEventListener("keydown", onSearchKey);
    q.addEventListener("blur", () => setTimeout(closeSuggestions, 150));
    $("suggest").addEventListener("mousedown", (event) => event.preventDefault()); // keep focus
    $("suggest").addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) pick(suggestions[Number(option.dataset.index)]);
    });
    $("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      clearTimeout(suggestTimer);
      if (activeOption >= 0) return pick(suggestions[activeOption]);
      const text = q.value.trim();
      closeSuggestions();
      if (text) lookup({ address: text });
      else q.focus();
    });
    $("locate").addEventListener("click", useLocation);
    $("report-anyway").addEventListener("click", () => {
      reportAnyway = true;
      renderWhere();
      $("category").focus();
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") refreshStatus();
      else clearTimeout(refreshTimer);
    });
    $("category").addEventListener("change", () => {
      pendingKey = null;
      renderHazardWarning();
    });
    for (const id of ["description", "phone"]) $(id).addEventListener("input", () => (pendingKey = null));
    $("report-form").addEventListener("submit", sendReport);
    $("track-form").addEventListener("submit", track);
    for (const button of document.querySelectorAll(".lang button")) {
      button.addEventListener("click", () => setLanguage(button.dataset.lang));
    }
    applyLanguage();
    document.documentElement.dataset.statusPage = "ready";
  }

  start();
})();
