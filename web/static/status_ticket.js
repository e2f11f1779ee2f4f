/* stormdesk status page: "Track a ticket" by the tracking code the caller was given.
 *
 * A module of its own beside status.js: it reads GET /api/v1/tickets/track/{token}, which
 * carries the status and dates only (no names, numbers, departments or texts), and follows
 * the page's language from <html lang>, which status.js sets.
 */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("status-config").textContent);
  const TEXT = {
    en: {
      title: "Track a ticket", label: "Tracking code", track: "Track",
      bad: "Enter the tracking code from your message (16 to 64 characters).",
      notFound: "No ticket with this tracking code. Check the code and try again.",
      filed: "Filed", due: "Answer due", answered: "Answered", closed: "Closed", reopen: "Can be reopened until",
      steps: "Steps",
    },
    zh: {
      title: "查询工单进度", label: "查询码", track: "查询",
      bad: "请输入短信中的查询码（16 至 64 位）。",
      notFound: "没有找到该查询码对应的工单，请检查后重试。",
      filed: "受理时间", due: "答复时限", answered: "答复时间", closed: "办结时间", reopen: "可申请重办至",
      steps: "办理进度",
    },
  };
  const STEP = {
    en: { received: "received", contacted: "we contacted you", waiting_for_you: "waiting for information from you", in_progress: "being handled", answered: "answered", closed: "closed", reopened: "reopened" },
    zh: { received: "已受理", contacted: "已联系您", waiting_for_you: "待您补充", in_progress: "处理中", answered: "已答复", closed: "已办结", reopened: "已重办" },
  };
  const $ = (id) => document.getElementById(id);
  let last = null;

  function lang() {
    return document.documentElement.lang.startsWith("zh") ? "zh" : "en";
  }

  function when(value) {
    if (!value) return null;
    return new Intl.DateTimeFormat(lang() === "zh" ? "zh-CN" : "en-GB", { timeZone: config.timeZone || "UTC", dateStyle: "medium", timeStyle: "short" }).format(new Date(value));
  }

  function line(parent, label, value) {
    if (!value) return;
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = value;
    parent.append(dt, dd);
  }

  function render() {
    const text = TEXT[lang()];
    $("ticket-track-title").textContent = text.title;
    $("ticket-track-form").querySelector("label").textContent = text.label;
    $("ticket-track-form").querySelector("button").textContent = text.track;
    const box = $("ticket-track-result");
    if (!last) return;
    if (last.error) {
      box.replaceChildren(Object.assign(document.createElement("p"), { className: "error", textContent: text[last.error] }));
      return;
    }
    const ticket = last.ticket;
    const head = document.createElement("p");
    head.className = "ticket-status";
    head.dataset.status = ticket.status;
    head.textContent = `${ticket.number} · ${lang() === "zh" ? ticket.status_zh : ticket.status_en}`;
    const facts = document.createElement("dl");
    line(facts, text.filed, when(ticket.filed_at));
    line(facts, text.due, when(ticket.answer_due_at));
    line(facts, text.answered, when(ticket.answered_at));
    line(facts, text.closed, when(ticket.closed_at));
    line(facts, text.reopen, when(ticket.reopen_until));
    const steps = document.createElement("ol");
    steps.setAttribute("aria-label", text.steps);
    for (const step of ticket.steps) {
      const item = document.createElement("li");
      item.textContent = `${when(step.at)} · ${STEP[lang()][step.step] || step.step}`;
      steps.append(item);
    }
    box.replaceChildren(head, facts, steps);
  }

  async function track(event) {
    event.preventDefault();
    const code = $("ticket-token").value.trim();
    if (code.length < 16 || code.length > 64) {
      last = { error: "bad" };
      return render();
    }
    const response = await fetch(`${config.apiUrl}/tickets/track/${encodeURIComponent(code)}`, { headers: { Accept: "application/json" } }).catch(() => null);
    last = response && response.ok ? { ticket: await response.json() } : { error: response && response.status === 422 ? "bad" : "notFound" };
    render();
  }

  $("ticket-track-form").addEventListener("submit", track);
  new MutationObserver(render).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  render();
})();
