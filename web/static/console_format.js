/* stormdesk console: how times and countdowns read (no DOM, no map; unit-tested on its own).
 *
 * A countdown reads "19 min left" or "5 min over", never "19:56", which a dispatcher
 * reads as a clock time next to an ETR. A time carries its date when it is not today
 * in the territory's zone, and the zone is named (the header says which, every title
 * attribute gives the full date, time and zone).
 */
(function () {
  "use strict";

  function minutesPhrase(minutes) {
    if (minutes < 60) return `${minutes} min`;
    const h = Math.floor(minutes / 60);
    const m = minutes % 60;
    return m ? `${h} h ${m} min` : `${h} h`;
  }

  /* Seconds to a deadline -> "19 min left", "under 1 min left", "5 min over", "1 h 5 min over".
   * Left rounds down (19:56 left is 19 min: never promise more time than there is);
   * over rounds down too, so a deadline just missed reads "under 1 min over". */
  function countdown(seconds) {
    if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "";
    const over = seconds < 0;
    const minutes = Math.floor(Math.abs(seconds) / 60);
    const amount = minutes === 0 ? "under 1 min" : minutesPhrase(minutes);
    return `${amount} ${over ? "over" : "left"}`;
  }

  /* Times in one zone: "18:40" today, "Tue 1 Dec 18:40" on any other day (now is injectable). */
  function formatter(timeZone, nowFn) {
    const now = nowFn || (() => new Date());
    const day = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
    const hm = new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    const date = new Intl.DateTimeFormat("en-GB", { timeZone, weekday: "short", day: "numeric", month: "short" });
    const clock = new Intl.DateTimeFormat("en-GB", {
      timeZone,
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    const full = new Intl.DateTimeFormat("en-GB", {
      timeZone,
      weekday: "short",
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    });
    const zoneName = new Intl.DateTimeFormat("en-GB", { timeZone, timeZoneName: "short" })
      .formatToParts(now())
      .find((p) => p.type === "timeZoneName").value;

    function time(iso) {
      if (!iso) return "–";
      const moment = new Date(iso);
      const text = hm.format(moment);
      return day.format(moment) === day.format(now()) ? text : `${date.format(moment).replace(",", "")} ${text}`;
    }

    return {
      zone: zoneName,
      timeZone,
      time,
      /* The same as markup: a <time> whose title gives the date, time and zone in full. */
      timeHtml: (iso) =>
        iso ? `<time datetime="${iso}" title="${full.format(new Date(iso))}">${time(iso)}</time>` : "–",
      full: (iso) => (iso ? full.format(new Date(iso)) : "–"),
      clock: (moment) => clock.format(moment),
    };
  }

  window.stormdeskFormat = { countdown, formatter, minutesPhrase };
})();
