// The case page's evidence checklist: a tick or an untick is saved at once, and the item
// shows what the desk now holds. Without this file each item's Save button does the same.
"use strict";
(function () {
  const csrf = document.body.dataset.csrf;

  function enhance(form) {
    const box = form.querySelector("input[type=checkbox][name=present]");
    const save = form.querySelector(".evidence-save");
    const said = form.querySelector(".evidence-saved");
    const source = form.querySelector(".evidence-source");
    const item = form.closest("li");
    if (!box || !said || !source || !item) return;
    if (save) save.hidden = true;

    function show(state) {
      item.className = state.state;
      box.checked = state.present;
      source.textContent = state.present ? state.source : (state.suggestion ? "Suggested: " + state.suggestion : "");
    }

    box.addEventListener("change", async () => {
      const wanted = box.checked;
      box.disabled = true;
      said.classList.remove("failed");
      said.textContent = "saving\u2026";
      try {
        const response = await fetch("/api/cases/" + form.dataset.case + "/evidence", {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify({ key: form.dataset.key, present: wanted }),
        });
        const body = await response.json().catch(() => null);
        if (!response.ok || !body || !body.item) {
          throw new Error(body && body.error ? body.error.message : "the server answered " + response.status);
        }
        show(body.item);
        said.textContent = wanted ? "saved: ticked" : "saved: unticked";
      } catch (error) {
        box.checked = !wanted;
        said.classList.add("failed");
        said.textContent = "not saved: " + error.message;
      } finally {
        box.disabled = false;
      }
    });
  }

  document.querySelectorAll("form.evidence-form").forEach(enhance);
})();
