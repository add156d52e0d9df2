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
  const resolves = document.getElementById("reply-resolves");

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
    // a reply that resolves the case owes no next update (services/replies.py)
    const problems = result.problems.filter((p) => !(resolves && resolves.checked && p.check === "no_next_step_time"));
    const rows = problems.map((p) => item("fail", p.fix + (p.sentence ? " (\u201c" + p.sentence + "\u201d)" : "")));
    // the server formats the time in the store's zone: the browser's zone may differ
    if (result.promised_update_text && !picker.value) {
      rows.unshift(item("pass", "Next update promised: " + result.promised_update_text + " (store time)"));
    } else if (result.closing && problems.length === 0) {
      rows.unshift(item("pass", "A closing reply: no next update is owed."));
    } else if (problems.length === 0) {
      rows.unshift(item("pass", "The reply passes its checks."));
    }
    checks.replaceChildren(...rows);
  }
  text.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(check, 300); });
  if (resolves) resolves.addEventListener("change", check);

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

// Saved replies: "Insert" puts the chosen reply, filled in for this case, at the cursor of the
// reply box (at its end when the box was not touched yet) instead of loading the page again.
(function () {
  const form = document.getElementById("saved-reply-form");
  const text = document.getElementById("reply-text");
  if (!form || !text) return;
  const select = document.getElementById("saved-reply-select");
  const missing = document.getElementById("saved-reply-missing");
  let touched = false;
  let filled = null;
  text.addEventListener("focus", () => { touched = true; });

  async function savedReplies() {
    if (filled) return filled;
    const response = await fetch("/api/cases/" + form.dataset.case + "/saved-replies", { credentials: "same-origin" });
    if (!response.ok) return null;
    filled = (await response.json()).saved_replies;
    return filled;
  }

  function insert(words) {
    if (!touched) {
      const before = text.value.trim() ? text.value.replace(/\s*$/, "\n\n") : "";
      text.value = before + words;
      text.setSelectionRange(text.value.length, text.value.length);
    } else {
      text.setRangeText(words, text.selectionStart, text.selectionEnd, "end");
    }
    touched = true;
    text.focus();
    text.dispatchEvent(new Event("input"));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const replies = await savedReplies();
    const chosen = replies && replies.find((r) => r.name === select.value);
    if (!chosen) { form.submit(); return; }  // the page does it without JavaScript
    insert(chosen.text);
    if (missing) {
      missing.hidden = chosen.missing.length === 0;
      missing.textContent = chosen.missing.length
        ? "This case has no " + chosen.missing.join(", ") + ": fill " + (chosen.missing.length === 1 ? "it" : "them") + " in by hand."
        : "";
    }
  });
})();

// On a case page: tell the desk the page is open every few seconds, show who else has the case
// open, and say when the case changed after the page was loaded (a reply sent then is refused
// until its writer has seen the change; the page works the same without this).
(function () {
  const box = document.getElementById("presence");
  if (!box) return;
  const csrf = document.body.dataset.csrf;
  const seen = Number(box.dataset.seen);
  const every = Math.max(5, Number(box.dataset.refresh) || 20) * 1000;

  async function beat() {
    if (document.hidden) return;
    let response;
    try {
      response = await fetch("/api/cases/" + box.dataset.case + "/presence", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ seen_event_id: seen }),
      });
    } catch (error) {
      return; // offline for a moment: the next beat tries again
    }
    if (!response.ok) return;
    const now = await response.json();
    const words = now.line ? [now.line + "."] : [];
    const blocking = now.changes.filter((c) => c.blocking).map((c) => c.summary);
    if (blocking.length) {
      words.push("Changed since you opened it: " + blocking.join("; ") + ". Reload to read it before you send.");
    }
    box.textContent = words.join(" ");
  }
  setInterval(beat, every);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) beat(); });
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
