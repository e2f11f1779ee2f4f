/* stormdesk hotline desk, the call screen: ringing calls, the caller card, the answer script,
 * one form for a fault report or a ticket, the knowledge-base box and the wrap-up.
 *
 * A known-outage call takes three keys after the number arrives: Alt+A answers (the caller
 * card and the script appear, focus goes to "Answered from screen"), Enter picks the
 * disposition and notes (focus goes to "Wrap up"), Enter closes the call. Filing a report
 * or a ticket sets the disposition and links it to the call. The ringing call offered is the
 * server's pick (GET /calls/offer, polled every config.ringPollMs: routed to me, else by
 * region shares); a number typed opens a call the same way.
 */
(function () {
  "use strict";

  const desk = window.stormdesk.desk;
  const { api, el, fill, t, name, flash, formatTime, config } = desk;
  const $ = (id) => document.getElementById(id);

  const TICKET_TYPES = ["consultation", "complaint", "report", "suggestion", "service_request"];
  const CLASSES = {
    complaint: ["service", "business", "outage_restoration", "power_quality", "grid_construction"],
    report: ["misconduct", "power_theft"],
  };
  const CATEGORIES = ["no_power", "partial_power", "flicker", "wire_down", "pole_damage", "fire_smoke", "other"];
  const DISPOSITIONS = ["outage_answered", "fault_report", "ticket", "kb_answered", "abandoned"];
  const CREW_TEXT = { on_site: "crewOnSite", en_route: "crewEnRoute", dispatched: "crewAssigned", planned: "crewAssigned" };

  const call = { ringing: null, current: null, caller: null, premise: null, status: null, reportId: null, ticketId: null, articleIds: [] };
  let ringTimer = null;
  let storm = null;
  let kbTimer = null;
  let kbSeq = 0;
  let ctiMissing = false;

  /* ---------- ringing and answering ---------- */

  async function pollRing() {
    if (call.current || ctiMissing) return;
    let offer;
    try {
      // The server picks: a call routed to me, else by region shares (a storm in one
      // region does not keep another region's callers waiting), oldest first within one.
      offer = await api("/calls/offer");
    } catch (error) {
      if (error.status === 404 || error.status === 405) ctiMissing = true;
      return;
    }
    const next = (offer && offer.call) || null;
    if ((next && next.id) !== (call.ringing && call.ringing.id)) {
      call.ringing = next;
      renderRing();
    }
  }

  function numberOf(record) {
    return record.caller_number || record.caller_account || "";
  }

  function renderRing() {
    const box = $("ring");
    if (call.current) {
      const number = (call.premise && call.premise.phone) || numberOf(call.current);
      fill(box, el("p", { class: "in-call", text: t("inCall", { number, time: formatTime(call.current.answered_at || call.current.started_at || new Date()) }) }));
      return;
    }
    if (!call.ringing) {
      fill(box, el("p", { class: "hint", text: t("noRing") }));
      return;
    }
    const waited = call.ringing.queue_wait_s;
    const region = call.ringing.region ? ` · ${call.ringing.region}` : "";
    fill(box,
      el("p", { class: "ringing", "data-call": String(call.ringing.id) }, el("strong", { text: t("ringing", { number: numberOf(call.ringing) }) }), region, waited ? ` · ${t("queued", { s: Math.round(waited) })}` : ""),
      el("button", { type: "button", class: "btn primary", id: "answer", "data-key": "a", "aria-keyshortcuts": "Alt+A", onclick: answerRinging }, t("answer"), " ", el("kbd", { text: "Alt+A" })),
    );
  }

  async function answerRinging() {
    const ringing = call.ringing;
    if (!ringing) return;
    let answered = ringing;
    try {
      answered = (await api(`/calls/${ringing.id}`, { method: "PATCH", json: { action: "answer" } })) || ringing;
    } catch (error) {
      return flash(error.message);
    }
    call.ringing = null;
    await begin(answered, answered.caller_number, answered.caller_account);
  }

  async function lookUpTyped(event) {
    event.preventDefault();
    const typed = $("number").value.trim();
    if (!typed) return $("number").focus();
    const isPhone = /^\+?[0-9 ()-]{6,}$/.test(typed) && !/^[A-Z]/i.test(typed);
    const body = isPhone ? { channel: "phone", caller_number: typed } : { channel: "phone", caller_account: typed };
    let record = null;
    if (!ctiMissing) {
      // A number typed is a call too: recorded, answered by me, wrapped up like a rung one.
      try {
        const rung = await api("/calls", { method: "POST", json: body });
        record = await api(`/calls/${rung.id}`, { method: "PATCH", json: { action: "answer" } });
      } catch (error) {
        if (error.status !== 404 && error.status !== 405) return flash(error.message);
        ctiMissing = true;
      }
    }
    await begin(record || body, body.caller_number || null, body.caller_account || null);
  }

  async function begin(record, phone, account) {
    Object.assign(call, { current: record, caller: null, premise: null, status: null, reportId: null, ticketId: null, articleIds: [] });
    renderRing();
    resetForms(phone, account);
    await recognise(phone, account);
    const script = $("script");
    if (!script.hidden) $("from-screen").focus();
    else $("file-kind").focus();
  }

  /* ---------- the caller card ---------- */

  async function recognise(phone, account) {
    let caller = null;
    const query = phone ? `phone=${encodeURIComponent(phone)}` : account ? `account=${encodeURIComponent(account)}` : null;
    if (query) caller = await api(`/callers?${query}`).catch(() => null);
    call.caller = caller;
    const premises = (caller && caller.premises) || [];
    if (premises.length > 0) await choosePremise(premises[0]);
    else if (account) await choosePremise({ account });
    else renderCaller();
  }

  async function choosePremise(premise) {
    call.premise = premise;
    call.status = premise.state ? premise : null;
    if (!call.status && premise.account) {
      // Without caller recognition, the power status by account says what is true now.
      call.status = await api(`/status?account=${encodeURIComponent(premise.account)}`).catch(() => null);
    }
    const form = $("file-form");
    if (premise.account) form.caller_account.value = premise.account;
    if (premise.customer_name) form.caller_name.value = premise.customer_name;
    if (premise.phone) form.caller_phone.value = premise.phone;
    if (premise.address) form.address.value = premise.address;
    renderCaller();
  }

  function renderCaller() {
    const caller = call.caller;
    const premise = call.premise;
    renderRing();
    $("caller").hidden = false;
    const card = $("caller-card");
    if (!premise) {
      fill(card, el("p", { class: "new-caller", text: t("newCaller", { number: numberOf(call.current || {}) }) }));
      renderScript();
      return;
    }
    const premises = (caller && caller.premises) || [];
    const choose = premises.length > 1
      ? el("div", { class: "choose", role: "group", "aria-label": t("premises", { n: premises.length }) }, el("p", { class: "hint", text: t("premises", { n: premises.length }) }),
        premises.map((p) => el("button", { type: "button", class: `btn small${p === premise ? " on" : ""}`, "aria-pressed": String(p === premise), onclick: () => choosePremise(p) }, `${p.address} · ${p.account}`)))
      : null;
    const facts = el("dl", { class: "facts" },
      el("dt", { text: t("account") }), el("dd", { text: premise.account || "—" }),
      el("dt", { text: t("region") }), el("dd", { text: [premise.region, premise.region_name].filter(Boolean).join(" · ") || "—" }),
      el("dt", { text: t("feeder") }), el("dd", { text: premise.feeder || "—" }));
    const recent = recentContacts(caller);
    fill(card, 
      el("p", { class: "who-line" }, el("strong", { text: premise.customer_name || "" }), " ", el("span", { text: premise.address || (call.status && call.status.address) || "" })),
      premise.critical ? el("p", { class: "critical", text: `${t("critical")}: ${premise.critical}` }) : null,
      choose,
      facts,
      el("h3", { text: t("nowTrue") }),
      el("ul", { class: "now" }, nowLines()),
      el("h3", { text: t("recent") }),
      recent.length ? el("ul", { class: "recent" }, recent.slice(0, 6).map((r) => el("li", { text: `${formatTime(r.at, true)} · ${r.text}` }))) : el("p", { class: "hint", text: t("noRecent") }),
    );
    renderScript();
  }

  function recentContacts(caller) {
    if (!caller) return [];
    const current = call.current && call.current.id;
    const items = [
      ...(caller.calls || []).filter((c) => c.id !== current).map((c) => ({ at: c.started_at, text: `${t("callWord")} · ${name(c.disposition || c.status)}` })),
      ...(caller.reports || []).map((r) => ({ at: r.received_at, text: `${t("reportWord")} ${r.id} · ${name(r.category)} · ${name(r.classification)}` })),
      ...(caller.tickets || []).map((k) => ({ at: k.filed_at, text: `${k.number} · ${name(k.ticket_type)} · ${name(k.status)} · ${k.subject}` })),
    ];
    return items.sort((a, b) => (a.at < b.at ? 1 : -1));
  }

  function nowLines() {
    const status = call.status;
    const lines = [];
    if (!status) return lines;
    const outage = status.outage || (status.state === "outage" ? status : null);
    if (outage) {
      const etr = outage.etr_at || outage.etr;
      const crew = outage.crew ? ` · ${outage.crew.crew || ""} ${name(outage.crew.status)}` : "";
      lines.push(el("li", { class: "out" }, `${name("known")}${outage.cause ? `: ${outage.cause}` : ""}${etr ? ` · ETR ${formatTime(etr, true)}` : ""}${crew}`));
    }
    const planned = [status.planned_now, ...(status.planned_next_7_days || [])].filter(Boolean);
    if (!status.planned_next_7_days && status.state === "planned") planned.push({ starts_at: status.window_start, ends_at: status.window_end });
    for (const p of planned) lines.push(el("li", { class: "planned" }, t("plannedSoon", { from: formatTime(p.starts_at, true), to: formatTime(p.ends_at, true) }), p.reason ? ` · ${p.reason}` : ""));
    for (const ticket of status.open_tickets || []) lines.push(el("li", {}, t("openTicket", { number: ticket.number, status: name(ticket.status) })));
    if (!lines.length) lines.push(el("li", { class: "ok", text: t("powerNormal") }));
    return lines;
  }

  /* ---------- the script ---------- */

  function scriptFor(status) {
    if (!status) return null;
    // A reminder of planned work next week is a line of the card, not an answer.
    if (status.script) return ["outage", "planned"].includes(status.script.kind) ? status.script[desk.lang()] : null;
    if (status.state === "normal") return null;
    const outage = status.outage || (status.state === "outage" ? status : null);
    if (outage) {
      const crew = t(CREW_TEXT[outage.crew_status] || "crewNone");
      const etr = outage.etr ? t("etrAt", { time: formatTime(outage.etr) }) : t("etrNone");
      return t("scriptOutage", { cause: outage.cause ? ` (${outage.cause})` : "", crew, etr });
    }
    const planned = status.state === "planned" ? status : (status.planned_now || null);
    if (planned) return t("scriptPlanned", { from: formatTime(planned.window_start, true), to: formatTime(planned.window_end, true), reason: planned.reason ? ` (${planned.reason})` : "" });
    if (status.state === "restored") return t("scriptRestored", { time: formatTime(status.restored_at) });
    return null;
  }

  function renderScript() {
    const text = scriptFor(call.status);
    $("script").hidden = !text;
    $("script-text").textContent = text || "";
  }

  function answeredFromScreen() {
    if (!call.current) return flash(t("noCall"));
    setDisposition("outage_answered", $("script-text").textContent);
    $("wrap-send").focus();
  }

  /* ---------- filing ---------- */

  function fillSelect(select, values, withNone) {
    const current = select.value;
    fill(select, ...(withNone ? [el("option", { value: "", text: t("none") })] : []), ...values.map((v) => el("option", { value: v.value ?? v, text: v.label ?? name(v) })));
    if ([...select.options].some((o) => o.value === current)) select.value = current;
  }

  function fillFormSelects() {
    fillSelect($("file-kind"), [{ value: "fault", label: t("kindReport") }, ...TICKET_TYPES]);
    fillSelect($("file-category"), CATEGORIES);
    fillSelect($("wrap-disposition"), DISPOSITIONS);
    const departments = desk.state.departments.map((d) => ({ value: d.code, label: `${d.code} · ${desk.lang() === "zh" && d.name_zh ? d.name_zh : d.name}` }));
    fillSelect($("file-accused"), departments, true);
    showFields();
  }

  function showFields() {
    const kind = $("file-kind").value;
    const classes = CLASSES[kind];
    $("class-box").hidden = !classes;
    if (classes) fillSelect($("file-class"), classes);
    $("category-box").hidden = kind !== "fault";
    $("subject-box").hidden = kind === "fault";
    $("accused-box").hidden = kind !== "complaint";
  }

  function resetForms(phone, account) {
    const form = $("file-form");
    form.reset();
    $("file-kind").value = "fault";
    showFields();
    form.caller_phone.value = phone || "";
    form.caller_account.value = account || "";
    fill($("file-result"), );
    $("wrap-form").reset();
    fill($("wrap-result"), );
  }

  async function fileIt(event) {
    event.preventDefault();
    const form = $("file-form");
    const kind = form.kind.value;
    const value = (field) => form[field].value.trim() || null;
    try {
      if (kind === "fault") {
        const where = value("caller_account") ? { account: value("caller_account") } : value("address") ? { address: value("address") } : { phone: value("caller_phone") };
        const answer = await api("/reports", { method: "POST", json: { ...where, category: form.category.value, description: value("description"), channel: "phone" } });
        call.reportId = answer.id;
        fill($("file-result"), el("p", { class: "ok", text: t("filedReport", { id: answer.id, classification: name(answer.classification), message: answer.message }) }));
        setDisposition(["known", "planned"].includes(answer.classification) ? "outage_answered" : "fault_report", answer.message);
      } else {
        const body = {
          ticket_type: kind,
          ticket_class: CLASSES[kind] ? form.ticket_class.value : null,
          channel: "phone",
          subject: value("subject") || name(kind),
          description: value("description") || value("subject") || name(kind),
          caller_name: value("caller_name"),
          caller_phone: value("caller_phone"),
          caller_account: value("caller_account"),
          premise_id: (call.premise && (call.premise.premise_id || call.premise.id)) || (call.status && call.status.premise_id) || null,
          accused_department_code: kind === "complaint" ? value("accused_department_code") : null,
          article_ids: call.articleIds,
        };
        const ticket = await api("/tickets", { method: "POST", json: body });
        call.ticketId = ticket.id;
        fill($("file-result"), el("p", { class: "ok" }, t("filedTicket", { number: ticket.number, department: ticket.department_code, token: "" }), el("code", { class: "token", id: "tracking-token", text: ticket.tracking_token })));
        setDisposition(kind === "consultation" && call.articleIds.length ? "kb_answered" : "ticket", `${ticket.number}: ${body.subject}`);
      }
      $("wrap-send").focus();
    } catch (error) {
      fill($("file-result"), el("p", { class: "error", role: "alert", text: error.message }));
    }
  }

  /* ---------- the knowledge base ---------- */

  function onKbInput() {
    window.clearTimeout(kbTimer);
    kbTimer = window.setTimeout(searchKb, config.kbDebounceMs);
  }

  async function searchKb() {
    const q = $("kb-q").value.trim();
    const seq = ++kbSeq;
    if (!q) return fill($("kb-hits"), );
    let result;
    try {
      result = await api(`/kb/search?q=${encodeURIComponent(q)}&limit=5`);
    } catch (error) {
      return fill($("kb-hits"), el("li", { class: "error", text: error.message }));
    }
    if (seq !== kbSeq) return; // a later keystroke already asked again
    const hits = result.hits || [];
    fill($("kb-hits"), ...(hits.length ? hits.map(hitItem) : [el("li", { class: "hint", text: t("kbNone") })]));
  }

  function hitItem(hit) {
    return el("li", { class: "hit", "data-article": hit.article_id, lang: hit.language === "zh" ? "zh-CN" : "en" },
      el("div", { class: "hit-head" }, el("strong", { text: hit.title }), " ", el("span", { class: "chip", text: hit.audience })),
      el("p", { class: "snippet", text: hit.snippet }),
      el("button", { type: "button", class: "btn small", onclick: () => useArticle(hit) }, t("kbUse")));
  }

  function useArticle(hit) {
    if (!call.articleIds.includes(hit.article_id)) call.articleIds.push(hit.article_id);
    const notes = $("wrap-notes");
    notes.value = `${notes.value ? `${notes.value}\n` : ""}KB ${hit.slug}: ${hit.title}`;
    if (!call.reportId && !call.ticketId) $("wrap-disposition").value = "kb_answered";
  }

  /* ---------- wrap-up ---------- */

  function setDisposition(code, note) {
    $("wrap-disposition").value = code;
    const notes = $("wrap-notes");
    if (note && !notes.value.includes(note)) notes.value = `${notes.value ? `${notes.value}\n` : ""}${note}`;
  }

  async function wrapUp(event) {
    event.preventDefault();
    if (!call.current) return flash(t("noCall"));
    const disposition = $("wrap-disposition").value;
    const premise = call.premise || {};
    const outage = call.status && call.status.outage;
    const planned = call.status && call.status.planned_now;
    const body = {
      action: "wrap_up",
      disposition,
      notes: $("wrap-notes").value.trim() || null,
      report_id: call.reportId,
      ticket_id: call.ticketId,
      premise_id: premise.premise_id || null,
      outage_id: disposition === "outage_answered" && outage ? outage.id : null,
      planned_outage_id: disposition === "outage_answered" && planned ? planned.id : null,
    };
    try {
      if (call.current.id) await api(`/calls/${call.current.id}`, { method: "PATCH", json: body });
    } catch (error) {
      return fill($("wrap-result"), el("p", { class: "error", role: "alert", text: error.message }));
    }
    const closed = call.current;
    Object.assign(call, { current: null, caller: null, premise: null, status: null });
    $("caller").hidden = true;
    $("script").hidden = true;
    $("number").value = "";
    fill($("wrap-result"), el("p", { class: "ok", "data-call": closed.id || "", text: t("wrapped", { disposition: name(disposition) }) }));
    renderRing();
    pollRing();
    $("number").focus();
  }

  /* ---------- storm mode ---------- */

  async function refreshStorm() {
    try {
      storm = await api("/storm-mode");
    } catch (error) {
      storm = null;
    }
    renderStorm();
  }

  // Also on a language switch: the scripts are read out, so they follow the page at once.
  function renderStorm() {
    const active = Boolean(storm && storm.on);
    $("storm").hidden = !active;
    $("storm").textContent = t("stormOn");
    $("storm-scripts").hidden = !active;
    if (!active) return;
    fill($("storm-list"), ...storm.top_outages.slice(0, 3).map((o) => el("li", { "data-outage": o.outage_id || "", "data-planned": o.planned_outage_id || "" },
      el("strong", { text: stormHeading(o) }), el("br"),
      o.script[desk.lang()] || o.script.en)));
  }

  // "HEL-R2 HEL-F03 · 412 customers"; planned work has no region or feeder of its own here,
  // so it is named as such rather than leaving an empty part before the dot.
  function stormHeading(o) {
    const where = [o.region, o.feeder].filter(Boolean).join(" ") || (o.planned_outage_id ? t("stormPlanned") : "");
    const customers = t(o.customers_affected === 1 ? "customerOut" : "customersOut", { n: o.customers_affected });
    return [where, customers].filter(Boolean).join(" · ");
  }

  desk.register({
    async start() {
      fillFormSelects();
      renderRing();
      refreshStorm();
      pollRing();
      ringTimer = window.setInterval(pollRing, config.ringPollMs);
      window.setInterval(refreshStorm, config.queueRefreshMs);
    },
    stop() {
      window.clearInterval(ringTimer);
    },
    texts() {
      if (!desk.state.me) return;
      fillFormSelects();
      renderRing();
      renderStorm();
      if (call.current) renderCaller();
    },
    shown(view) {
      if (view === "calls" && !call.current) $(call.ringing ? "answer" : "number")?.focus();
    },
  });

  document.addEventListener("DOMContentLoaded", () => {
    $("number-form").addEventListener("submit", lookUpTyped);
    $("from-screen").addEventListener("click", answeredFromScreen);
    $("file-kind").addEventListener("change", showFields);
    $("file-form").addEventListener("submit", fileIt);
    $("kb-q").addEventListener("input", onKbInput);
    $("wrap-form").addEventListener("submit", wrapUp);
  });
})();
