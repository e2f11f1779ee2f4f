/* stormdesk hotline desk, the shared part: texts in English and Chinese, the API client,
 * login, the view (calls or queue) and the keyboard shortcuts.
 *
 * Login is the OAuth2 password flow; the token lives in sessionStorage. The page then asks
 * who is logged in and which department they belong to: agents and supervisors get the
 * call screen and the ticket list, department members their department's queue, crews and
 * dispatchers are sent to their own pages (with the token, so they need not log in again).
 * Every action has an Alt+letter shortcut (data-key on the element; aria-keyshortcuts says it
 * to screen readers); the handler here runs them, so an agent takes a call without the mouse.
 * <html data-desk="login|ready"> says where the page is (the browser tests wait on it).
 */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("desk-config").textContent);
  const TOKEN_KEY = "stormdesk.desk.token";
  const LANG_KEY = "stormdesk.desk.lang";
  const PAGE_TOKENS = { console: "stormdesk.console.token", crew: "stormdesk.crew.token" };

  const TEXT = {
    en: {
      skip: "Skip to the desk",
      title: "Hotline desk",
      tabCalls: "Calls",
      tabQueue: "Tickets",
      logout: "Log out",
      loginTitle: "Desk login",
      username: "Username",
      password: "Password",
      login: "Log in",
      wrongLogin: "Wrong username or password.",
      expired: "Your login has expired: log in again.",
      noNetwork: "No network: try again.",
      incoming: "Incoming call",
      noRing: "No call ringing. Calls from the telephony system ring here.",
      ringing: "Ringing: {number}",
      queued: "waiting {s} s",
      answer: "Answer",
      inCall: "In call with {number} since {time}",
      numberLabel: "Calling number or account",
      numberPlaceholder: "Number or account",
      numberHint: "type a number or an account, Enter to look up",
      lookUp: "Look up",
      stormOn: "Storm mode",
      stormScripts: "Storm mode: top outage scripts",
      caller: "Caller",
      newCaller: "New caller: no premise is known for {number}. Ask for the address.",
      premises: "{n} premises for this number: choose one",
      critical: "Critical customer",
      region: "Region",
      feeder: "Feeder",
      account: "Account",
      recent: "Last 90 days",
      noRecent: "No contacts in the last 90 days.",
      nowTrue: "Now",
      powerNormal: "Power on: no known outage or planned work here.",
      openTicket: "Open ticket {number}: {status}",
      plannedSoon: "Planned work {from}–{to}",
      script: "Say",
      fromScreen: "Answered from screen",
      scriptOutage: "There is a known outage at your address{cause}. No need for a new report: {crew}{etr}",
      scriptPlanned: "This is planned work at your address from {from} to {to}{reason}. No need for a new report: power is back when the work ends.",
      scriptRestored: "Power was restored at {time}. If you still have no power, I will file a new report now.",
      crewOnSite: "the crew is on site",
      crewEnRoute: "a crew is on its way",
      crewAssigned: "a crew is assigned",
      crewNone: "we are working on it",
      etrAt: ", power back by {time}.",
      etrNone: ", we will tell you when power is back.",
      customersOut: "{n} customers",
      customerOut: "1 customer",
      stormPlanned: "Planned work",
      callWord: "call",
      reportWord: "report",
      fileTitle: "File",
      kind: "What",
      kindReport: "Fault report",
      ticketClass: "Class",
      category: "Fault",
      accused: "Department complained of",
      none: "—",
      subject: "Subject",
      description: "What the caller says",
      callerName: "Caller name",
      callerPhone: "Phone",
      callerAccount: "Account",
      address: "Address",
      fileSend: "File it",
      filedReport: "Report {id}: {classification}. {message}",
      filedTicket: "Ticket {number} filed, with {department}. Tracking code for the caller: {token}",
      kbTitle: "Knowledge base",
      kbPlaceholder: "Type to search (中文 or English)",
      kbNone: "No article matches.",
      kbUse: "Use",
      wrapTitle: "Wrap-up",
      disposition: "Disposition",
      notes: "Notes",
      wrapSend: "Wrap up",
      wrapped: "Call closed: {disposition}.",
      noCall: "No call in progress: answer a call or look up a number first.",
      keysTitle: "Keys",
      keyAnswer: "answer the ringing call",
      keyNumber: "type a number",
      keyScript: "answered from screen",
      keyFile: "file a report or ticket",
      keyKb: "knowledge base",
      keyWrap: "wrap up",
      keyQueue: "tickets",
      keyCalls: "calls",
      keyLang: "中文",
      queueTitle: "Tickets",
      queueOf: "Queue of {department}",
      queueCaption: "Open tickets, oldest first, with their clocks",
      queueEmpty: "Nothing in the queue.",
      filter: "Show",
      filterOpen: "Open tickets",
      filterReview: "Awaiting review",
      filterReplied: "Replied: answer the customer",
      filterAnswered: "Answered: return visit",
      filterClosed: "Closed (reopen within 30 days)",
      colNumber: "Number",
      colType: "Type",
      colStatus: "Status",
      colSubject: "Subject",
      colDepartment: "Department",
      colDue: "Answer due",
      overdue: "overdue",
      dueSoon: "due soon",
      paused: "paused",
      workingDaysLeft: "{n} working days left",
      trail: "Trail",
      messages: "Messages",
      caller_: "Caller",
      stepReview: "Review and pass on",
      stepContact: "Record contact",
      stepReply: "Reply for the department",
      stepAnswer: "Answer the customer",
      stepReturn: "Return visit",
      stepReopen: "Reopen",
      stepPause: "Wait for the customer",
      stepResume: "Resume",
      note: "Note",
      body: "Text",
      reason: "Reason",
      satisfaction: "Satisfaction",
      sendTo: "Department",
      sameDepartment: "its department",
      done: "{number}: {status}.",
      notMember: "The login {name} is in no department and cannot take calls: use an agent or department login.",
    },
    zh: {
      skip: "跳到工作台",
      title: "热线工作台",
      tabCalls: "来电",
      tabQueue: "工单",
      logout: "退出",
      loginTitle: "工作台登录",
      username: "用户名",
      password: "密码",
      login: "登录",
      wrongLogin: "用户名或密码错误。",
      expired: "登录已过期，请重新登录。",
      noNetwork: "网络不可用，请重试。",
      incoming: "来电",
      noRing: "暂无来电。话务系统的来电会在这里振铃。",
      ringing: "来电：{number}",
      queued: "已等待 {s} 秒",
      answer: "接听",
      inCall: "正在与 {number} 通话，自 {time}",
      numberLabel: "来电号码或户号",
      numberPlaceholder: "号码或户号",
      numberHint: "输入号码或户号，回车查询",
      lookUp: "查询",
      stormOn: "风暴模式",
      stormScripts: "风暴模式：主要停电话术",
      caller: "来电客户",
      newCaller: "新客户：号码 {number} 没有登记的用电地址，请询问地址。",
      premises: "该号码有 {n} 个用电地址，请选择",
      critical: "重要客户",
      region: "供电区域",
      feeder: "线路",
      account: "户号",
      recent: "近 90 天",
      noRecent: "近 90 天没有来电记录。",
      nowTrue: "当前",
      powerNormal: "供电正常：此处没有已知停电或计划检修。",
      openTicket: "未办结工单 {number}：{status}",
      plannedSoon: "计划检修 {from}–{to}",
      script: "话术",
      fromScreen: "已按屏幕答复",
      scriptOutage: "您所在地址的停电我们已经知道{cause}，无需重复报修：{crew}{etr}",
      scriptPlanned: "您所在地址在 {from} 至 {to} 有计划检修{reason}，无需报修，检修结束后即恢复供电。",
      scriptRestored: "已于 {time} 恢复供电。如果您仍然没有电，我现在为您重新报修。",
      crewOnSite: "抢修人员已到现场",
      crewEnRoute: "抢修人员正在赶往现场",
      crewAssigned: "已派抢修人员",
      crewNone: "我们正在处理",
      etrAt: "，预计 {time} 恢复供电。",
      etrNone: "，恢复供电后会通知您。",
      customersOut: "{n} 户",
      customerOut: "1 户",
      stormPlanned: "计划检修",
      callWord: "来电",
      reportWord: "报修单",
      fileTitle: "受理",
      kind: "类型",
      kindReport: "故障报修",
      ticketClass: "分类",
      category: "故障",
      accused: "被投诉部门",
      none: "—",
      subject: "主题",
      description: "客户诉求",
      callerName: "客户姓名",
      callerPhone: "电话",
      callerAccount: "户号",
      address: "地址",
      fileSend: "提交",
      filedReport: "报修单 {id}：{classification}。{message}",
      filedTicket: "工单 {number} 已派至 {department}。客户查询码：{token}",
      kbTitle: "知识库",
      kbPlaceholder: "输入即搜索（中文或英文）",
      kbNone: "没有匹配的文章。",
      kbUse: "引用",
      wrapTitle: "话后处理",
      disposition: "处理结果",
      notes: "备注",
      wrapSend: "结束通话",
      wrapped: "通话已结束：{disposition}。",
      noCall: "当前没有通话：请先接听来电或查询号码。",
      keysTitle: "快捷键",
      keyAnswer: "接听来电",
      keyNumber: "输入号码",
      keyScript: "已按屏幕答复",
      keyFile: "报修或工单",
      keyKb: "知识库",
      keyWrap: "结束通话",
      keyQueue: "工单",
      keyCalls: "来电",
      keyLang: "English",
      queueTitle: "工单",
      queueOf: "{department} 的工单",
      queueCaption: "未办结工单，按受理时间排序，含处理时限",
      queueEmpty: "暂无工单。",
      filter: "显示",
      filterOpen: "未办结工单",
      filterReview: "待审核",
      filterReplied: "已回复：答复客户",
      filterAnswered: "已答复：回访",
      filterClosed: "已办结（30 天内可重启）",
      colNumber: "编号",
      colType: "类型",
      colStatus: "状态",
      colSubject: "主题",
      colDepartment: "部门",
      colDue: "答复时限",
      overdue: "已超时",
      dueSoon: "即将超时",
      paused: "已暂停",
      workingDaysLeft: "剩余 {n} 个工作日",
      trail: "处理记录",
      messages: "消息",
      caller_: "客户",
      stepReview: "审核并派发",
      stepContact: "记录联系",
      stepReply: "部门回复",
      stepAnswer: "答复客户",
      stepReturn: "回访",
      stepReopen: "重启",
      stepPause: "等待客户",
      stepResume: "恢复",
      note: "备注",
      body: "内容",
      reason: "原因",
      satisfaction: "满意度",
      sendTo: "部门",
      sameDepartment: "原部门",
      done: "{number}：{status}。",
      notMember: "账号 {name} 不属于任何部门，无法接听来电：请使用坐席或部门账号。",
    },
  };

  // Codes the API speaks, named in both languages.
  const NAMES = {
    en: {
      consultation: "Consultation", complaint: "Complaint", report: "Report of misconduct or theft",
      suggestion: "Suggestion", service_request: "Service request",
      service: "Service", business: "Business", outage_restoration: "Outage and restoration",
      power_quality: "Power quality", grid_construction: "Grid construction",
      misconduct: "Misconduct", power_theft: "Power theft",
      no_power: "No power", partial_power: "Partial power", flicker: "Flicker", wire_down: "Wire down",
      pole_damage: "Pole damage", fire_smoke: "Fire or smoke", other: "Other",
      review: "Awaiting review", with_department: "With department", replied: "Replied",
      answered: "Answered", closed: "Closed", waiting_customer: "Waiting for the customer", filed: "Filed",
      very_satisfied: "Very satisfied", satisfied: "Satisfied", neutral: "Neutral",
      dissatisfied: "Dissatisfied", unreachable: "Unreachable",
      planned: "planned work", known: "known outage", duplicate: "already reported", new: "new fault",
      unlocated: "address to be checked",
      outage_answered: "Outage answered from screen", fault_report: "Fault report filed",
      ticket: "Ticket filed", kb_answered: "Answered from the knowledge base", abandoned: "Abandoned",
    },
    zh: {
      consultation: "咨询", complaint: "投诉", report: "举报", suggestion: "意见建议",
      service_request: "业务申请",
      service: "服务", business: "营业", outage_restoration: "停电抢修", power_quality: "电能质量",
      grid_construction: "电网建设", misconduct: "违规行为", power_theft: "窃电",
      no_power: "停电", partial_power: "部分停电", flicker: "电压闪烁", wire_down: "电线断落",
      pole_damage: "电杆损坏", fire_smoke: "起火冒烟", other: "其他",
      review: "待审核", with_department: "部门处理中", replied: "部门已回复", answered: "已答复",
      closed: "已办结", waiting_customer: "等待客户", filed: "已受理",
      very_satisfied: "非常满意", satisfied: "满意", neutral: "一般", dissatisfied: "不满意",
      unreachable: "联系不上",
      planned: "计划检修", known: "已知停电", duplicate: "已报修", new: "新故障", unlocated: "地址待核实",
      outage_answered: "已按屏幕答复停电", fault_report: "已报修", ticket: "已建工单",
      kb_answered: "知识库答复", abandoned: "放弃",
      ringing: "振铃", ended: "已挂机", wrapped: "已结束", on_site: "已到现场", en_route: "在途",
      dispatched: "已派工", restored: "已恢复",
    },
  };

  const $ = (id) => document.getElementById(id);
  let lang = sessionStorage.getItem(LANG_KEY) || "en";
  let token = sessionStorage.getItem(TOKEN_KEY);
  const state = { me: null, department: null, departments: [], view: config.view };
  const modules = [];

  function t(key, values) {
    const text = (TEXT[lang] && TEXT[lang][key]) || TEXT.en[key] || key;
    return text.replace(/\{(\w+)\}/g, (_, name) => (values && values[name] !== undefined ? String(values[name]) : ""));
  }

  function name(code) {
    return (NAMES[lang] && NAMES[lang][code]) || NAMES.en[code] || code;
  }

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

  function fill(node, ...children) {
    // replaceChildren would write a null or false child as the text "null".
    node.replaceChildren(...children.flat(3).filter((c) => c !== null && c !== undefined && c !== false));
  }

  function formatTime(value, withDate) {
    if (!value) return "";
    const options = { timeZone: config.timeZone || "UTC", hour: "2-digit", minute: "2-digit" };
    if (withDate) Object.assign(options, { day: "numeric", month: "short" });
    return new Intl.DateTimeFormat(lang === "zh" ? "zh-CN" : "en-GB", options).format(new Date(value));
  }

  function flash(text, kind) {
    const box = $("flash");
    box.textContent = text;
    box.className = `flash ${kind || "error"}`;
    box.hidden = false;
    window.clearTimeout(flash.timer);
    flash.timer = window.setTimeout(() => (box.hidden = true), 8000);
  }

  class HttpError extends Error {
    constructor(status, detail) {
      super(detail || `HTTP ${status}`);
      this.status = status;
    }
  }

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
    if (response.status === 204) return null;
    const answer = await response.json().catch(() => null);
    if (!response.ok) {
      const detail = answer && answer.detail;
      const text = typeof detail === "string" ? detail : Array.isArray(detail) ? detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ") : "";
      if (response.status === 401 && token) logout(t("expired"));
      throw new HttpError(response.status, text);
    }
    return answer;
  }

  /* ---------- texts ---------- */

  function applyTexts() {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-html]")) node.textContent = t(node.dataset.i18nHtml);
    for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
    $("lang").firstChild.textContent = `${lang === "zh" ? "English" : "中文"} `;
    $("lang").setAttribute("lang", lang === "zh" ? "en" : "zh-CN");
    renderKeys();
    for (const module of modules) if (module.texts) module.texts();
  }

  function renderKeys() {
    const keys = [
      ["Alt+A", "keyAnswer"], ["Alt+N", "keyNumber"], ["Alt+S", "keyScript"], ["Alt+R", "keyFile"],
      ["Alt+K", "keyKb"], ["Alt+W", "keyWrap"], ["Alt+Q", "keyQueue"], ["Alt+C", "keyCalls"], ["Alt+L", "keyLang"],
    ];
    fill($("keys-list"), ...keys.flatMap(([key, label]) => [el("dt", {}, el("kbd", { text: key })), el("dd", { text: t(label) })]));
  }

  /* ---------- keyboard ---------- */

  function onKey(event) {
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : "";
    if (!key) return;
    const target = [...document.querySelectorAll(`[data-key="${key}"]`)].find((node) => !node.closest("[hidden]") && !node.disabled);
    if (!target) return;
    event.preventDefault();
    if (target.matches("input, select, textarea")) target.focus();
    else target.click();
  }

  /* ---------- login and views ---------- */

  function showLogin(message) {
    document.documentElement.dataset.desk = "login";
    $("login").hidden = false;
    $("calls").hidden = true;
    $("queue").hidden = true;
    $("tabs").hidden = true;
    $("logout").hidden = true;
    $("who").textContent = "";
    const error = $("login-error");
    error.hidden = !message;
    error.textContent = message || "";
    $("username").focus();
  }

  function logout(message) {
    token = null;
    state.me = null;
    sessionStorage.removeItem(TOKEN_KEY);
    for (const module of modules) if (module.stop) module.stop();
    showLogin(message);
  }

  async function login(event) {
    event.preventDefault();
    const form = new URLSearchParams({ username: $("username").value.trim(), password: $("password").value });
    try {
      const response = await fetch(`${config.apiUrl}/auth/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
        body: form,
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(response.status === 401 ? t("wrongLogin") : body.detail || `HTTP ${response.status}`);
      token = body.access_token;
      sessionStorage.setItem(TOKEN_KEY, token);
      $("password").value = "";
      await start();
    } catch (error) {
      showLogin(error instanceof TypeError ? t("noNetwork") : error.message);
    }
  }

  function handOver(page) {
    // Another page serves this login: pass the token on (same tab, same origin).
    sessionStorage.setItem(PAGE_TOKENS[page], token);
    sessionStorage.removeItem(TOKEN_KEY);
    window.location.assign(page === "crew" ? config.crewUrl : config.consoleUrl);
  }

  function isDeskRole() {
    return state.me && ["agent", "supervisor", "admin"].includes(state.me.role);
  }

  function setView(view) {
    const canCall = isDeskRole() && !state.department;
    state.view = canCall ? view : "queue";
    $("calls").hidden = state.view !== "calls";
    $("queue").hidden = state.view !== "queue";
    $("tab-calls").hidden = !canCall;
    for (const tab of document.querySelectorAll(".tab")) tab.setAttribute("aria-current", tab.dataset.view === state.view ? "page" : "false");
    for (const module of modules) if (module.shown) module.shown(state.view);
  }

  async function start() {
    try {
      state.me = await api("/auth/me");
      state.departments = await api("/departments");
    } catch (error) {
      if (error instanceof HttpError) return logout(error.status === 401 ? null : error.message);
      return showLogin(t("noNetwork"));
    }
    const me = state.me;
    state.department = state.departments.find((d) => (d.members || []).includes(me.username)) || null;
    if (!state.department) {
      if (me.role === "crew") return handOver("crew");
      if (me.role === "dispatcher") return handOver("console");
    }
    $("login").hidden = true;
    $("tabs").hidden = false;
    $("logout").hidden = false;
    $("who").textContent = state.department ? `${me.username} · ${state.department.code}` : `${me.username} · ${me.role}`;
    for (const module of modules) if (module.start) await module.start();
    setView(state.view);
    document.documentElement.dataset.desk = "ready";
  }

  window.stormdesk = window.stormdesk || {};
  window.stormdesk.desk = {
    config, state, t, name, el, fill, api, flash, formatTime, HttpError, setView,
    lang: () => lang,
    register(module) {
      modules.push(module);
    },
  };

  document.addEventListener("DOMContentLoaded", () => {
    document.addEventListener("keydown", onKey);
    $("login-form").addEventListener("submit", login);
    $("logout").addEventListener("click", () => {
      api("/auth/logout", { method: "POST" }).catch(() => null);
      logout(null);
    });
    $("lang").addEventListener("click", () => {
      lang = lang === "zh" ? "en" : "zh";
      sessionStorage.setItem(LANG_KEY, lang);
      applyTexts();
    });
    for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => setView(tab.dataset.view));
    applyTexts();
    if (token) start();
    else showLogin(null);
  });
})();
