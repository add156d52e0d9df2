// Light progressive enhancement: every form works without this file.
// On a case page it checks the reply as it is typed and shows the next-update due time; the
// queue refreshes its list every 30 seconds.
"use strict";
(function () {
  const csrf = document.body.dataset.csrf;
  const form = document.getElementById("reply-form");
  if (!form) return;
  const caseId = Number(form.dataset.case);
  const text = document.getElementById("reply-text");
  const checks = document.getElementById("reply-checks");
  const hours = document.getElementById("next-update-hours");
  const picker = document.getElementById("next-update");
  const due = document.getElementById("next-update-due");

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    return response.ok ? response.json() : null;
  }

  function item(cls, words) {
    const li = document.createElement("li");
    li.className = cls;
    li.textContent = words;
    return li;
  }

  let timer = null;
  async function check() {
    if (!text.value.trim()) { checks.replaceChildren(); return; }
    const result = await post("/api/reply-check", { text: text.value, case_id: caseId });
    if (!result) return;
    const rows = result.problems.map((p) => item("fail", p.fix + (p.sentence ? " (\u201c" + p.sentence + "\u201d)" : "")));
    if (result.promised_update_at && !picker.value) {
      rows.unshift(item("pass", "Next update promised: " + new Date(result.promised_update_at).toLocaleString()));
    } else if (result.ok) {
      rows.unshift(item("pass", "The reply passes its checks."));
    }
    checks.replaceChildren(...rows);
  }
  text.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(check, 300); });

  function localValue(iso) {
    // "2026-11-30T12:00:00-05:00" -> the wall time the store reads, as datetime-local wants it
    return iso.slice(0, 16);
  }
  hours.addEventListener("change", async () => {
    if (!hours.value) { due.textContent = ""; return; }
    const start = new Date().toISOString();
    const response = await fetch("/api/sla/due?" + new URLSearchParams({ start, hours: hours.value }), { credentials: "same-origin" });
    if (!response.ok) return;
    const result = await response.json();
    picker.value = localValue(result.due_at);
    due.textContent = "due " + result.due_at.replace("T", " ").slice(0, 16) + " store time (business hours)";
    check();
  });
  check();
})();

// ---------------------------------------------------------------- the queue (queue.html)
// The queue refreshes itself: every data-refresh seconds the results part of the same address
// (?part=rows) replaces the table, while the filter form (and anything typed in it) stays.
(function () {
  const box = document.getElementById("queue-results");
  if (!box) return;
  const seconds = Number(box.dataset.refresh) || 30;

  async function refresh() {
    if (document.hidden) return;
    const address = new URL(window.location.href);
    address.searchParams.set("part", "rows");
    try {
      const response = await fetch(address, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok || response.redirected) return;  // signed out: the next navigation says so
      const parsed = new DOMParser().parseFromString(await response.text(), "text/html");
      box.replaceChildren(...parsed.body.childNodes);
      box.dataset.refreshedAt = new Date().toISOString();
    } catch (error) {
      // offline for a moment: try again at the next tick
    }
  }
  window.setInterval(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
})();
