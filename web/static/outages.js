/* stormdesk public outage map: current outages as generalized areas, the region table, ETR
 * ranges and the coming week's planned work, refreshed every minute.
 *
 * Reads /api/v1/public/outage-map (no personal data) and the public roads layer (the base
 * map; street names at high zoom). Every text is rendered here in English or Chinese from the
 * structured fields. When the first answer is drawn, <html data-outage-map="ready"> is set,
 * and data-outage-map-at holds the generated_at of the answer on screen.
 */
(function () {
  "use strict";

  const STRINGS = {
    en: {
      skip: "Skip to content",
      page: "Outage map",
      language: "Language",
      title: "Power outages now",
      mapLabel: "Map of current outages and planned work",
      checkAddress: "Check my address",
      totals: (d) =>
        d.outages === 0
          ? "No known outages right now."
          : `${count(d.out, "customer", "customers")} without power · ${count(d.outages, "outage", "outages")}`,
      updated: "Updated {time}",
      refreshing: "Updating…",
      offline: "Could not update: showing the data of {time}. We try again every minute.",
      legend: "Legend",
      legendOutage: "Outage area",
      legendPlanned: "Planned work (next 7 days)",
      legendNote: "Areas are approximate (250 m squares), never single homes.",
      listTitle: "Current outages",
      listNone: "No known outages right now.",
      regionsTitle: "By region",
      colRegion: "Region",
      colServed: "Customers",
      colOut: "Out",
      colPercent: "% out",
      colOutages: "Outages",
      colUpdated: "Last updated",
      never: "—",
      plannedTitle: "Planned work in the next 7 days",
      plannedNone: "No planned work in the next 7 days.",
      plannedNow: "In progress",
      customersOut: (n) => `${count(n, "customer", "customers")} out`,
      customersPlanned: (n) => count(n, "customer", "customers"),
      since: "Out since {time}",
      etrRange: "Expected back between {start} and {end}",
      etrOverdue: "Taking longer than expected; now between {start} and {end}",
      etrUnknown: "We are assessing when power will be back.",
      investigating: "Being investigated",
      confirmed: "Confirmed",
      stages: {
        waiting: "Waiting for a crew",
        assigned: "Crew assigned",
        en_route: "Crew on the way",
        on_site: "Crew on site",
      },
      cause: "Cause: {cause}",
      causes: {
        unknown: "being investigated",
        tree: "tree on the line",
        weather: "weather",
        equipment: "equipment fault",
        vehicle: "vehicle accident",
        animal: "animal contact",
        overload: "overload",
      },
      show: "Show on map",
      synthetic: "synthetic grid for demonstration",
    },
    "zh-CN": {
      skip: "跳到主要内容",
      page: "停电地图",
      language: "语言",
      title: "当前停电情况",
      mapLabel: "当前停电和计划停电地图",
      checkAddress: "查询我的地址",
      totals: (d) =>
        d.outages === 0
          ? "目前没有已知的停电。"
          : `${num(d.out)} 户停电 · ${num(d.outages)} 处停电`,
      updated: "更新于 {time}",
      refreshing: "正在更新…",
      offline: "无法更新：显示的是 {time} 的数据。我们每分钟重试一次。",
      legend: "图例",
      legendOutage: "停电区域",
      legendPlanned: "计划停电（未来 7 天）",
      legendNote: "区域为大致范围（250 米方格），不显示单个住户。",
      listTitle: "当前停电",
      listNone: "目前没有已知的停电。",
      regionsTitle: "按区域",
      colRegion: "区域",
      colServed: "用户数",
      colOut: "停电",
      colPercent: "停电比例",
      colOutages: "停电处数",
      colUpdated: "最近更新",
      never: "—",
      plannedTitle: "未来 7 天的计划停电",
      plannedNone: "未来 7 天没有计划停电。",
      plannedNow: "正在进行",
      customersOut: (n) => `${num(n)} 户停电`,
      customersPlanned: (n) => `${num(n)} 户`,
      since: "停电开始于 {time}",
      etrRange: "预计 {start} 至 {end}之间恢复供电",
      etrOverdue: "抢修时间比预计长，现预计 {start} 至 {end}之间恢复供电",
      etrUnknown: "我们正在评估恢复供电的时间。",
      investigating: "正在核实",
      confirmed: "已确认",
      stages: {
        waiting: "等待派工",
        assigned: "已派工",
        en_route: "抢修人员正在赶往现场",
        on_site: "抢修人员已到达现场",
      },
      cause: "原因：{cause}",
      causes: {
        unknown: "正在调查",
        tree: "树木碰线",
        weather: "恶劣天气",
        equipment: "设备故障",
        vehicle: "车辆撞击",
        animal: "小动物触电",
        overload: "线路过载",
      },
      show: "在地图上查看",
      synthetic: "演示用模拟电网",
    },
  };
  const LANGS = Object.keys(STRINGS);
  const LANG_KEY = "stormdesk.lang";
  const COLORS = { outage: "#c92a2a", planned: "#b35c00" };
  const ROAD_STYLE = {
    1: { color: "#9aa5b1", weight: 4 },
    2: { color: "#b3bcc6", weight: 2.6 },
    3: { color: "#c9d0d8", weight: 1.6 },
  };
  const LABEL_ZOOM = 16; // street names from this zoom on
  const MAX_LABELS = 40;
  const DEFAULT_REFRESH_S = 60;

  const config = JSON.parse(document.getElementById("outages-config").textContent);
  const $ = (id) => document.getElementById(id);

  let lang = chooseLanguage();
  let data = null; // the answer on screen
  let failedAt = null; // when the last refresh failed (null: it did not)
  let map = null;
  let roads = null;
  let labels = null;
  let areas = null;
  let roadsData = null;
  let fitted = false;
  let timer = 0;

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

  function num(n) {
    return Number(n).toLocaleString(lang === "zh-CN" ? "zh-CN" : "en");
  }

  function percent(value) {
    return `${value.toLocaleString(locale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 })} %`;
  }

  function count(n, one, many) {
    return `${num(n)} ${n === 1 ? one : many}`;
  }

  function t(key, params) {
    let text = STRINGS[lang][key];
    if (text === undefined) text = STRINGS.en[key];
    if (typeof text === "function") return text(params);
    return String(text).replace(/\{(\w+)\}/g, (_, name) => (params && name in params ? params[name] : ""));
  }

  function locale() {
    return lang === "zh-CN" ? "zh-CN" : "en-GB";
  }

  function dayKey(date) {
    return new Intl.DateTimeFormat("en-CA", { timeZone: config.timeZone }).format(date);
  }

  // A clock time, with the day when it is not today, and the zone when asked.
  function formatTime(iso, withZone) {
    const date = new Date(iso);
    const options = { timeZone: config.timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    if (dayKey(date) !== dayKey(new Date(data ? data.generated_at : Date.now()))) {
      Object.assign(options, { weekday: "short", day: "numeric", month: "short" });
    }
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
    const options = {
      timeZone: config.timeZone,
      weekday: "short",
      day: "numeric",
      month: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    };
    const format = new Intl.DateTimeFormat(locale(), options);
    return format.formatRange(new Date(startIso), new Date(endIso));
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else node.setAttribute(name, value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
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
    if (data) render();
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

  /* ---------- rendering ---------- */

  function etrText(p) {
    if (!p.etr_earliest || !p.etr_latest) return t("etrUnknown");
    const key = p.etr_overdue ? "etrOverdue" : "etrRange";
    return t(key, { start: formatTime(p.etr_earliest), end: formatTime(p.etr_latest, true) });
  }

  function reasonText(p) {
    return p.reason_texts[lang] || p.reason_texts.en || p.reason;
  }

  function outageItem(feature) {
    const p = feature.properties;
    const where = p.region_name || p.region || "";
    const cause = p.cause ? t("cause", { cause: STRINGS[lang].causes[p.cause] || p.cause }) : null;
    const show = feature.geometry && el("button", { type: "button", class: "show" }, t("show"));
    if (show) show.addEventListener("click", () => focusArea(feature));
    return el(
      "li",
      { class: "outage-item", "data-outage": p.outage_id },
      el("div", { class: "head" }, el("span", {}, where), el("span", { class: "count" }, t("customersOut", p.customers_out))),
      el("p", { class: "etr" }, etrText(p)),
      el("p", { class: "stage" }, `${t(p.status)} · ${STRINGS[lang].stages[p.crew_stage]}`),
      el("p", { class: "muted" }, t("since", { time: formatTime(p.started_at) })),
      cause && el("p", { class: "muted" }, cause),
      show
    );
  }

  function plannedItem(feature) {
    const p = feature.properties;
    const translated = Boolean(p.reason_texts[lang]);
    const show = feature.geometry && el("button", { type: "button", class: "show" }, t("show"));
    if (show) show.addEventListener("click", () => focusArea(feature));
    return el(
      "li",
      { class: "planned-item", "data-planned": p.planned_outage_id },
      el(
        "div",
        { class: "head" },
        el("span", { lang: translated ? null : "en" }, reasonText(p)),
        el("span", { class: "count" }, t("customersPlanned", p.customers_affected))
      ),
      el("p", {}, formatWindow(p.starts_at, p.ends_at)),
      p.active_now && el("p", { class: "muted" }, t("plannedNow")),
      show
    );
  }

  function regionRow(r) {
    return el(
      "tr",
      { class: r.customers_out ? "has-out" : null },
      el("th", { scope: "row" }, r.name),
      el("td", { class: "num", "data-label": t("colServed") }, num(r.customers_served)),
      el("td", { class: "num out", "data-label": t("colOut") }, num(r.customers_out)),
      el("td", { class: "num", "data-label": t("colPercent") }, percent(r.percent_out)),
      el("td", { class: "num", "data-label": t("colOutages") }, num(r.outages)),
      el("td", { "data-label": t("colUpdated") }, r.updated_at ? formatTime(r.updated_at, true) : t("never"))
    );
  }

  function render() {
    const totals = data.totals;
    $("totals").textContent = t("totals", { out: totals.customers_out, outages: totals.outages });
    $("stamp").textContent = t("updated", { time: formatTime(data.generated_at, true) });
    $("load-error").hidden = failedAt === null;
    if (failedAt !== null) $("load-error").textContent = t("offline", { time: formatTime(data.generated_at, true) });
    $("outage-list").replaceChildren(
      ...(data.outages.length ? data.outages.map(outageItem) : [el("li", { class: "empty" }, t("listNone"))])
    );
    $("planned-list").replaceChildren(
      ...(data.planned.length ? data.planned.map(plannedItem) : [el("li", { class: "empty" }, t("plannedNone"))])
    );
    document.querySelector("#regions tbody").replaceChildren(...data.regions.map(regionRow));
    drawAreas();
  }

  /* ---------- map ---------- */

  function ensureMap() {
    if (map) return;
    map = L.map("omap", { zoomSnap: 0.5, minZoom: 11, maxZoom: 18, keyboard: true });
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("© OpenStreetMap contributors, ODbL");
    roads = L.geoJSON(null, {
      renderer: L.canvas(),
      interactive: false,
      style: (f) => ROAD_STYLE[f.properties.rank] || ROAD_STYLE[3],
    }).addTo(map);
    labels = L.layerGroup().addTo(map);
    areas = L.layerGroup().addTo(map);
    map.on("zoomend moveend", drawLabels);
    const [w, s, e, n] = data.bbox;
    map.fitBounds([[s, w], [n, e]]);
    loadRoads();
  }

  async function loadRoads() {
    const box = data.bbox.map((v) => v.toFixed(5)).join(",");
    try {
      const response = await fetch(`${config.apiUrl}/layers/roads?bbox=${box}`, { headers: { Accept: "application/geo+json" } });
      if (!response.ok) return; // the base map is decoration
      roadsData = await response.json();
    } catch (error) {
      return;
    }
    roads.addData(roadsData);
    drawLabels();
  }

  // One label per street name in view (on its longest edge), only when zoomed in: the roads
  // layer already stores the names, so this costs no request.
  function drawLabels() {
    labels.clearLayers();
    if (!roadsData || map.getZoom() < LABEL_ZOOM) return;
    const view = map.getBounds();
    const best = new Map();
    for (const f of roadsData.features) {
      const name = f.properties.name;
      if (!name || f.geometry.type !== "LineString") continue;
      const coords = f.geometry.coordinates;
      const mid = coords[Math.floor(coords.length / 2)];
      const at = L.latLng(mid[1], mid[0]);
      if (!view.contains(at)) continue;
      const first = coords[0];
      const last = coords[coords.length - 1];
      const length = Math.hypot(last[0] - first[0], last[1] - first[1]);
      const seen = best.get(name);
      if (!seen || seen.length < length) best.set(name, { at, length });
    }
    let shown = 0;
    for (const [name, { at }] of best) {
      if (shown++ >= MAX_LABELS) break;
      L.tooltip({ permanent: true, direction: "center", className: "street-label", interactive: false })
        .setLatLng(at)
        .setContent(name)
        .addTo(labels);
    }
  }

  function drawAreas() {
    ensureMap();
    areas.clearLayers();
    for (const f of data.planned) {
      if (!f.geometry) continue;
      L.geoJSON(f, {
        style: { color: COLORS.planned, weight: 1.5, dashArray: "5 4", fillColor: COLORS.planned, fillOpacity: 0.15 },
      })
        .bindTooltip(reasonText(f.properties))
        .addTo(areas);
    }
    for (const f of data.outages) {
      if (!f.geometry) continue;
      L.geoJSON(f, {
        style: { color: COLORS.outage, weight: 1.5, fillColor: COLORS.outage, fillOpacity: 0.3 },
      })
        .bindTooltip(`${f.properties.region_name || ""} · ${t("customersOut", f.properties.customers_out)}`)
        .addTo(areas);
    }
    if (!fitted && data.outages.some((f) => f.geometry)) {
      const shapes = L.geoJSON({ type: "FeatureCollection", features: data.outages.filter((f) => f.geometry) });
      map.fitBounds(shapes.getBounds().pad(0.3), { maxZoom: 15 });
      fitted = true;
    }
  }

  function focusArea(feature) {
    const bounds = L.geoJSON(feature).getBounds();
    map.fitBounds(bounds.pad(0.4), { maxZoom: 16 });
    $("omap").scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  /* ---------- refresh ---------- */

  async function refresh() {
    clearTimeout(timer);
    try {
      const response = await fetch(`${config.apiUrl}/public/outage-map`, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      data = await response.json();
      failedAt = null;
    } catch (error) {
      failedAt = new Date();
    }
    if (data) {
      render();
      document.documentElement.dataset.outageMapAt = data.generated_at;
      document.documentElement.dataset.outageMap = "ready";
    } else {
      $("load-error").hidden = false;
      $("load-error").textContent = t("offline", { time: "—" });
    }
    const every = (data && data.refresh_s) || DEFAULT_REFRESH_S;
    timer = setTimeout(refresh, every * 1000);
  }

  function start() {
    for (const button of document.querySelectorAll(".lang button")) {
      button.addEventListener("click", () => setLanguage(button.dataset.lang));
    }
    // A tab in the background skips its refreshes and catches up when it is shown again.
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") refresh();
      else clearTimeout(timer);
    });
    applyLanguage();
    refresh();
  }

  start();
})();
