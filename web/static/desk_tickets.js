/* stormdesk hotline desk, the ticket side: a department's queue (its members) or every
 * ticket the login may see (agents, supervisors), each with its working-day clock, and the
 * steps of the loop on the ticket opened: review (supervisors), contact, reply (the
 * department), answer, return visit, reopen (agents and supervisors), pause and resume.
 *
 * The visibility rule is the server's: a department's queue never lists a complaint before
 * a supervisor's review, and such a ticket answers 404 by id; this page shows what it gets.
 * Rows are buttons in the tab order; Enter opens one, the step form takes focus.
 */
(function () {
  "use strict";

  const desk = window.stormdesk.desk;
  const { api, el, fill, t, name, formatTime, config, state } = desk;
  const $ = (id) => document.getElementById(id);

  const AGENT_ROLES = ["agent", "supervisor", "admin"];
  const SUPERVISORS = ["supervisor", "admin"];
  const SATISFACTION = ["very_satisfied", "satisfied", "neutral", "dissatisfied", "unreachable"];
  const FILTERS = {
    open: "/tickets?open=true",
    review: "/tickets?status=review",
    replied: "/tickets?status=replied",
    answered: "/tickets?status=answered",
    closed: "/tickets?status=closed",
  };
  const FILTER_TEXT = { open: "filterOpen", review: "filterReview", replied: "filterReplied", answered: "filterAnswered", closed: "filterClosed" };

  let rows = [];
  let opened = null;
  let timer = null;

  function role() {
    return state.me ? state.me.role : "";
  }

  function queuePath() {
    if (state.department) return `/departments/${encodeURIComponent(state.department.code)}/queue`;
    return FILTERS[$("queue-filter").value] || FILTERS.open;
  }

  function fillFilter() {
    const select = $("queue-filter");
    const current = select.value || (SUPERVISORS.includes(role()) ? "review" : "open");
    const keys = state.department ? ["open"] : Object.keys(FILTERS);
    fill(select, ...keys.map((k) => el("option", { value: k, text: t(FILTER_TEXT[k]) })));
    select.value = keys.includes(current) ? current : "open";
    select.hidden = Boolean(state.department);
    $("queue-title").textContent = state.department ? t("queueOf", { department: state.department.code }) : t("queueTitle");
  }

  function dueText(clock) {
    if (!clock.running && clock.paused_since) return t("paused");
    if (!clock.answer_due_at) return "—";
    return `${formatTime(clock.answer_due_at, true)} · ${t("workingDaysLeft", { n: clock.answer_remaining_working_days.toFixed(1) })}`;
  }

  function levelChip(clock) {
    if (clock.overdue || clock.contact_overdue) return el("span", { class: "chip late", text: t("overdue") });
    if (clock.answer_level === 1) return el("span", { class: "chip soon", text: t("dueSoon") });
    return null;
  }

  async function refresh() {
    if (!state.me) return;
    try {
      rows = await api(queuePath());
    } catch (error) {
      return fill($("queue-rows"), el("tr", {}, el("td", { colspan: 6, class: "error", text: error.message })));
    }
    renderRows();
  }

  function renderRows() {
    $("queue-empty").hidden = rows.length > 0;
    fill($("queue-rows"), ...rows.map((row) => el("tr", { "data-ticket": row.id, class: opened && opened.id === row.id ? "on" : "" },
      el("td", {}, el("button", { type: "button", class: "link", onclick: () => openTicket(row.id) }, row.number)),
      el("td", { text: `${name(row.ticket_type)}${row.ticket_class ? ` · ${name(row.ticket_class)}` : ""}` }),
      el("td", {}, el("span", { class: `chip st-${row.status}`, text: name(row.status) })),
      el("td", { text: row.subject }),
      el("td", { text: row.department_code }),
      el("td", {}, dueText(row.clock), " ", levelChip(row.clock)))));
  }

  /* ---------- one ticket ---------- */

  async function openTicket(id) {
    try {
      opened = await api(`/tickets/${id}`);
    } catch (error) {
      fill($("step-result"), el("p", { class: "error", role: "alert", text: error.message }));
      return;
    }
    renderTicket();
    renderRows();
    const first = $("step-form").querySelector("select, textarea, input, button");
    if (first) first.focus();
  }

  function renderTicket() {
    const tk = opened;
    $("ticket").hidden = false;
    $("ticket-title").textContent = `${tk.number} · ${name(tk.ticket_type)}${tk.ticket_class ? ` · ${name(tk.ticket_class)}` : ""} · ${name(tk.status)}`;
    fill($("ticket-body"), 
      el("p", {}, el("strong", { text: tk.subject })),
      el("p", { class: "desc", text: tk.description }),
      el("dl", { class: "facts" },
        el("dt", { text: t("caller_") }), el("dd", { text: [tk.caller_name, tk.caller_phone, tk.caller_account].filter(Boolean).join(" · ") || "—" }),
        el("dt", { text: t("colDepartment") }), el("dd", { text: `${tk.department_code} · ${tk.department_name}` }),
        el("dt", { text: t("colDue") }), el("dd", {}, dueText(tk.clock), " ", levelChip(tk.clock))),
      tk.messages.length ? el("h3", { text: t("messages") }) : null,
      el("ul", { class: "messages" }, tk.messages.map((m) => el("li", {}, `${formatTime(m.created_at, true)} · ${m.kind} · ${m.author}: `, el("span", { text: m.body })))),
      el("h3", { text: t("trail") }),
      el("ol", { class: "trail" }, tk.trail.map((s) => el("li", { text: `${formatTime(s.at, true)} · ${s.action} · ${s.actor}` }))));
    renderSteps();
  }

  function stepsFor(tk) {
    const r = role();
    const agent = AGENT_ROLES.includes(r) && !state.department;
    const supervisor = SUPERVISORS.includes(r);
    const inDepartment = supervisor || (state.department && state.department.code === tk.department_code);
    const steps = [];
    const s = tk.status;
    if (s === "review" && supervisor) steps.push("review");
    if (["with_department", "replied"].includes(s) && inDepartment) steps.push("reply");
    if ((s === "replied" || (s === "with_department" && tk.ticket_type === "consultation")) && (agent || supervisor)) steps.push("answer");
    if (s === "answered" && (agent || supervisor)) steps.push("return-visit");
    if (s === "closed" && (agent || supervisor) && tk.reopen_until && new Date(tk.reopen_until) > new Date()) steps.push("reopen");
    if (!["closed", "answered"].includes(s) && !tk.clock.contacted_at && (inDepartment || agent)) steps.push("contact");
    if (["with_department", "replied"].includes(s) && (inDepartment || agent)) steps.push("pause");
    if (s === "waiting_customer") steps.push("resume");
    return steps;
  }

  const STEP_TEXT = { review: "stepReview", reply: "stepReply", answer: "stepAnswer", "return-visit": "stepReturn", reopen: "stepReopen", contact: "stepContact", pause: "stepPause", resume: "stepResume" };

  function field(id, label, control) {
    return [el("label", { for: id, text: label }), control];
  }

  function stepFields(step) {
    const id = (n) => `step-${step}-${n}`;
    if (step === "review") {
      const options = [el("option", { value: "", text: t("sameDepartment") }), ...state.departments.map((d) => el("option", { value: d.code, text: d.code }))];
      return [...field(id("note"), t("note"), el("textarea", { id: id("note"), name: "note", rows: 2, maxlength: 2000, required: true })),
        ...field(id("dept"), t("sendTo"), el("select", { id: id("dept"), name: "department_code" }, options))];
    }
    if (step === "reply" || step === "answer") return field(id("body"), t("body"), el("textarea", { id: id("body"), name: "body", rows: 3, maxlength: 5000, required: true }));
    if (step === "return-visit") {
      return [...field(id("sat"), t("satisfaction"), el("select", { id: id("sat"), name: "satisfaction" }, SATISFACTION.map((v) => el("option", { value: v, text: name(v) })))),
        ...field(id("note"), t("note"), el("textarea", { id: id("note"), name: "note", rows: 2, maxlength: 2000 }))];
    }
    if (step === "reopen" || step === "pause") return field(id("reason"), t("reason"), el("textarea", { id: id("reason"), name: "reason", rows: 2, maxlength: 2000, required: true }));
    if (step === "contact") return field(id("note"), t("note"), el("textarea", { id: id("note"), name: "note", rows: 2, maxlength: 2000 }));
    return [];
  }

  function renderSteps() {
    const steps = stepsFor(opened);
    const form = $("step-form");
    fill(form, ...steps.map((step) => el("fieldset", { class: "step", "data-step": step },
      el("legend", { text: t(STEP_TEXT[step]) }),
      stepFields(step),
      el("button", { type: "button", class: "btn primary", "data-send": step, onclick: () => sendStep(step) }, t(STEP_TEXT[step])))));
  }

  async function sendStep(step) {
    const box = $("step-form").querySelector(`[data-step="${step}"]`);
    const body = {};
    for (const control of box.querySelectorAll("textarea, select, input")) {
      const value = control.value.trim();
      if (value) body[control.name] = value;
      else if (control.required) {
        control.focus();
        return fill($("step-result"), el("p", { class: "error", role: "alert", text: `${t(control.name === "body" ? "body" : control.name)}?` }));
      }
    }
    try {
      opened = await api(`/tickets/${opened.id}/${step}`, { method: "POST", json: body });
    } catch (error) {
      return fill($("step-result"), el("p", { class: "error", role: "alert", text: error.message }));
    }
    fill($("step-result"), el("p", { class: "ok", "data-status": opened.status, text: t("done", { number: opened.number, status: name(opened.status) }) }));
    renderTicket();
    await refresh();
  }

  desk.register({
    async start() {
      fillFilter();
      await refresh();
      timer = window.setInterval(refresh, config.queueRefreshMs);
    },
    stop() {
      window.clearInterval(timer);
      opened = null;
      $("ticket").hidden = true;
    },
    texts() {
      if (!state.me) return;
      fillFilter();
      renderRows();
      if (opened) renderTicket();
    },
    shown(view) {
      if (view === "queue") refresh();
    },
  });

  document.addEventListener("DOMContentLoaded", () => {
    $("queue-filter").addEventListener("change", refresh);
  });
})();
