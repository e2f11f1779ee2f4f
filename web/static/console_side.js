/* stormdesk console: the side column beside the map (search, regions, outages, unlocated).
 *
 * The column is page markup (console_chrome.html), not a Leaflet control, so it has its own
 * height to share: the outage list and the dispatch queue each scroll on their own and
 * neither can squeeze the other out of view. Outage items are buttons for the keyboard
 * (Tab reaches them, Enter or Space opens one). The region summary is counted from the
 * feeder and outage layers the console already loads: no extra request.
 */
(function () {
  "use strict";

  function escapeHtml(value) {
    const div = document.createElement("div");
    div.textContent = value === null || value === undefined ? "" : String(value);
    return div.innerHTML;
  }

  // English plurals: "1 report", "2 reports"; ``many`` for irregular ones.
  function plural(n, one, many) {
    return `${Number(n).toLocaleString("en")} ${Number(n) === 1 ? one : many || `${one}s`}`;
  }

  function tip(title, lines) {
    const rest = lines.filter(Boolean).map((l) => `<span>${escapeHtml(l)}</span>`);
    return `<div class="sd-tip"><strong>${escapeHtml(title)}</strong>${rest.join("<br>")}</div>`;
  }

  const RULE_TEXT = {
    "roll-up": "Rolled up: reports below several transformers point at one device.",
    "new report": "Opened on the transformer of the first report.",
    "opened by dispatcher": "Opened by a dispatcher.",
  };

  function explanationHtml(p, fmt) {
    const e = p.explanation || {};
    const rows = [[RULE_TEXT[e.rule] || e.rule || "", ""]];
    if (e.rule === "roll-up") {
      const t = e.thresholds || {};
      rows.push(
        ["At roll-up", `${e.reporting_premises} of ${e.customers_below} premises below ${e.device} had reported`],
        [
          "Share",
          `${Math.round((e.share || 0) * 100)}% (rule: ${t.min_premises}+ premises, ` +
            `${Math.round((t.min_share || 0) * 100)}%+ within ${t.window_min} min)`,
        ],
        ["Merged", (e.merged_outages || []).map((id) => `#${id}`).join(", ") || "none"]
      );
    }
    rows.push(["Started", fmt.time(p.started_at)], ["Critical", String(p.critical_affected)]);
    if (p.cause) rows.push(["Cause", p.cause]);
    const html = rows.map(([k, v]) =>
      v ? `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>` : `<p>${escapeHtml(k)}</p>`
    );
    return `<dl class="sd-explain">${html.join("")}</dl>`;
  }

  function outageItem(p, open, fmt) {
    const conflict =
      p.etr_dispatcher && Date.parse(p.etr_dispatcher) !== Date.parse(p.etr)
        ? `<div class="sd-etr-conflict" role="note">Your ETR ${fmt.timeHtml(p.etr_dispatcher)} is not told: ` +
          `the crew cannot make it, customers hear ${fmt.timeHtml(p.etr)}.</div>`
        : "";
    return (
      `<li class="sd-outage-item sd-${escapeHtml(p.status)}${open ? " sd-open" : ""}" data-outage="${p.id}">` +
      `<div class="sd-outage-row" role="button" tabindex="0" aria-expanded="${open}" ` +
      `aria-label="Outage #${p.id} on ${escapeHtml(p.device)}, ${plural(p.customers_affected, "customer")}">` +
      `<div class="sd-outage-head"><strong>${escapeHtml(p.device)}</strong>` +
      `<span class="sd-kind">${escapeHtml(p.device_kind)} · ${escapeHtml(p.status)}</span>` +
      `<span class="sd-etr" title="estimated restoration time told to customers">ETR ${fmt.timeHtml(p.etr)}</span></div>` +
      `<div class="sd-outage-facts" title="feeder ${escapeHtml(p.feeder)}">` +
      `#${p.id} · <b>${plural(p.customers_affected, "customer")}</b> · ${plural(p.report_count, "report")}` +
      `${p.hazard ? ' · <span class="sd-hazard-tag">hazard</span>' : ""}</div></div>` +
      conflict +
      (open ? explanationHtml(p, fmt) : "") +
      "</li>"
    );
  }

  /* Per region: customers served (premises on its feeders), out, % out and outages. */
  function regionRows(feeders, outages) {
    const regions = {};
    const feederRegion = {};
    for (const f of feeders.features) {
      const p = f.properties;
      const code = p.region || "–";
      feederRegion[p.code] = code;
      regions[code] = regions[code] || { code, name: p.region_name || code, served: 0, out: 0, outages: 0 };
      regions[code].served += p.customers;
    }
    for (const f of outages.features) {
      const r = regions[feederRegion[f.properties.feeder]];
      if (!r) continue;
      r.out += f.properties.customers_affected;
      r.outages += 1;
    }
    return Object.values(regions).sort((a, b) => b.out - a.out || a.code.localeCompare(b.code));
  }

  function percent(out, served) {
    if (!served) return "–";
    const share = (100 * out) / served;
    return share > 0 && share < 0.1 ? "<0.1%" : `${share.toFixed(1)}%`;
  }

  function sidePanel(options) {
    const { fmt, onSelect, onHit, apiUrl, token } = options;
    const list = document.getElementById("sd-outage-list");
    let feeders = { features: [] };
    let outages = { features: [] };
    let selected = null;

    function open(target) {
      const item = target.closest("[data-outage]");
      if (item) onSelect(Number(item.dataset.outage));
    }
    list.addEventListener("click", (event) => {
      if (event.target.closest(".sd-outage-row")) open(event.target);
    });
    list.addEventListener("keydown", (event) => {
      if (!event.target.classList.contains("sd-outage-row")) return;
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        open(event.target);
      }
    });

    function showOutages(collection, selectedId) {
      outages = collection;
      selected = selectedId;
      const features = [...collection.features].sort(
        (a, b) => b.properties.customers_affected - a.properties.customers_affected || a.id - b.id
      );
      const out = features.reduce((n, f) => n + f.properties.customers_affected, 0);
      const focused = document.activeElement && document.activeElement.closest("[data-outage]");
      const focusId = focused && list.contains(focused) ? focused.dataset.outage : null;
      document.getElementById("sd-outage-count").textContent = String(features.length);
      document.getElementById("sd-outage-sum").textContent = features.length
        ? `${plural(out, "customer")} without power`
        : "No active outages.";
      list.innerHTML = features.map((f) => outageItem({ ...f.properties, id: f.id }, f.id === selected, fmt)).join("");
      // A redraw must not throw the keyboard user back to the top of the page.
      if (focusId !== null) {
        const again = list.querySelector(`[data-outage="${focusId}"] .sd-outage-row`);
        if (again) again.focus({ preventScroll: true });
      }
      if (selected !== null) {
        const row = list.querySelector(`[data-outage="${selected}"]`);
        if (row) row.scrollIntoView({ block: "nearest" });
      }
      showRegions();
    }

    function showFeeders(collection) {
      feeders = collection;
      showRegions();
    }

    function showRegions() {
      const rows = regionRows(feeders, outages);
      document.getElementById("sd-region-rows").innerHTML = rows
        .map(
          (r) =>
            `<tr${r.out ? ' class="sd-region-out"' : ""}><th scope="row" title="${escapeHtml(r.name)}">${escapeHtml(r.code)}</th>` +
            `<td>${r.served.toLocaleString("en")}</td><td>${r.out.toLocaleString("en")}</td>` +
            `<td>${percent(r.out, r.served)}</td><td>${r.outages}</td></tr>`
        )
        .join("");
      const out = rows.reduce((n, r) => n + r.out, 0);
      const served = rows.reduce((n, r) => n + r.served, 0);
      document.getElementById("sd-region-total").textContent = `${percent(out, served)} out`;
    }

    function showQueue(collection) {
      const features = [...collection.features].sort((a, b) => b.id - a.id);
      const shown = features.slice(0, 8).map((f) => {
        const p = f.properties;
        const hazard = p.hazard ? ' · <span class="sd-hazard-tag">hazard</span>' : "";
        return (
          `<li><span>#${p.id}</span> ${fmt.timeHtml(p.received_at)} · ` +
          `${escapeHtml(p.category.replace("_", " "))} · ${escapeHtml(p.channel)}${hazard}</li>`
        );
      });
      if (features.length > shown.length) {
        shown.push(`<li class="sd-more">and ${features.length - shown.length} more</li>`);
      }
      document.getElementById("sd-unlocated-count").textContent = String(features.length);
      document.getElementById("sd-unlocated-list").innerHTML = shown.length
        ? shown.join("")
        : '<li class="sd-more">Empty.</li>';
    }

    function stamp(text) {
      document.getElementById("sd-updated").textContent = text;
    }

    searchBox({ apiUrl, token, onHit });
    return { showOutages, showFeeders, showQueue, stamp };
  }

  /* ---------- search: one box for outage, device, crew, address, phone, account ---------- */
  const KIND_LABEL = {
    outage: "Outage",
    device: "Device",
    crew: "Crew",
    address: "Address",
    account: "Account",
    phone: "Caller",
  };

  function searchBox({ apiUrl, token, onHit }) {
    const form = document.getElementById("sd-search");
    const input = document.getElementById("sd-q");
    const box = document.getElementById("sd-search-hits");
    const note = document.getElementById("sd-search-note");
    let hits = [];
    let active = -1;
    let timer = null;
    let asked = 0;

    function close() {
      box.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function show() {
      box.innerHTML = hits
        .map(
          (h, i) =>
            `<li role="option" id="sd-hit-${i}" data-hit="${i}" aria-selected="${i === active}">` +
            `<span class="sd-hit-kind">${KIND_LABEL[h.kind] || h.kind}</span> <b>${escapeHtml(h.label)}</b>` +
            `<span class="sd-hit-detail">${escapeHtml(h.detail)}${h.outage_id ? ` · in outage #${h.outage_id}` : ""}</span></li>`
        )
        .join("");
      box.hidden = hits.length === 0;
      input.setAttribute("aria-expanded", String(hits.length > 0));
      if (active >= 0) input.setAttribute("aria-activedescendant", `sd-hit-${active}`);
      else input.removeAttribute("aria-activedescendant");
    }

    async function ask(q) {
      const ticket = ++asked;
      const headers = { Accept: "application/json" };
      const bearer = token();
      if (bearer) headers.Authorization = `Bearer ${bearer}`;
      try {
        const response = await fetch(`${apiUrl}/search?q=${encodeURIComponent(q)}`, { headers });
        if (ticket !== asked) return; // a newer query is on its way
        if (response.status === 401 || response.status === 403) {
          hits = [];
          note.textContent = "Log in as a dispatcher or agent to search.";
        } else if (!response.ok) {
          hits = [];
          note.textContent = `Search failed (HTTP ${response.status}).`;
        } else {
          hits = await response.json();
          note.textContent = hits.length ? `${plural(hits.length, "match", "matches")}` : `Nothing matches “${q}”.`;
        }
      } catch (error) {
        hits = [];
        note.textContent = `Search failed (${error.message}).`;
      }
      active = hits.length ? 0 : -1;
      show();
    }

    function choose(i) {
      const hit = hits[i];
      if (!hit) return;
      close();
      note.textContent = `Showing ${KIND_LABEL[hit.kind] || hit.kind} ${hit.label}`;
      onHit(hit);
    }

    input.addEventListener("input", () => {
      window.clearTimeout(timer);
      const q = input.value.trim();
      if (!q) {
        hits = [];
        note.textContent = "";
        return close();
      }
      timer = window.setTimeout(() => ask(q), 250);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!hits.length) return;
        event.preventDefault();
        active = (active + (event.key === "ArrowDown" ? 1 : hits.length - 1)) % hits.length;
        show();
      } else if (event.key === "Escape") {
        close();
      }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!box.hidden && active >= 0) return choose(active);
      const q = input.value.trim();
      if (q) ask(q);
    });
    box.addEventListener("mousedown", (event) => {
      const item = event.target.closest("[data-hit]");
      if (!item) return;
      event.preventDefault(); // keep the focus in the box
      choose(Number(item.dataset.hit));
    });
    input.addEventListener("blur", () => window.setTimeout(close, 150));
  }

  window.stormdeskSide = { sidePanel, regionRows, escapeHtml, plural, tip };
})();
