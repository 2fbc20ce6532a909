// The goal-table editor (templates/goals/editor.html). The page works without this file: a plain Django
// formset with blank rows, a 删除 checkbox and a 序号 field per row. This adds, removes and moves rows without
// a reload (keeping those same fields right), shows the weight sum against the policy's figure live, reads each
// 指标值 as it is typed (goals:parse-target) and adds rows from the 指标库. No inline handlers (CSP).
(function () {
  "use strict";
  const form = document.getElementById("goal-editor");
  if (!form) return;
  const fieldset = form.querySelector("fieldset");
  if (fieldset && fieldset.disabled) return; // read-only: nothing to edit
  const tbody = document.getElementById("editor-rows");
  const template = document.getElementById("row-template");
  const total = form.querySelector("input[name='rows-TOTAL_FORMS']");
  const sumOut = document.getElementById("weight-sum");
  const parseUrl = form.dataset.parseUrl;
  const target = toCents(form.dataset.weightTarget);
  const ROW_FIELDS = ["level1", "level2", "name", "target_raw", "basis", "last_year", "weight", "rule",
                      "evidence", "accumulation"];

  form.classList.add("js");
  document.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });

  function toCents(text) {
    const n = parseFloat(String(text || "").trim());
    return isFinite(n) ? Math.round(n * 100) : 0;
  }
  function fromCents(cents) {
    const sign = cents < 0 ? "-" : "";
    const abs = Math.abs(cents);
    const whole = Math.floor(abs / 100);
    const rest = abs % 100;
    if (!rest) return sign + whole;
    return sign + whole + "." + String(rest).padStart(2, "0").replace(/0$/, "");
  }
  function field(row, name) {
    return row.querySelector("[name$='-" + name + "']");
  }
  function isDeleted(row) {
    const box = field(row, "DELETE");
    return box && box.checked;
  }
  function liveRows() {
    return Array.from(tbody.querySelectorAll("tr.indicator-row")).filter(function (row) { return !isDeleted(row); });
  }
  function isBlank(row) {
    return ROW_FIELDS.every(function (name) {
      const el = field(row, name);
      return !el || !el.value.trim() || el.dataset.auto === "1";
    });
  }

  function renumber() {
    liveRows().forEach(function (row, i) {
      const order = field(row, "ORDER");
      if (order) order.value = i + 1;
    });
  }
  function updateSum() {
    const cents = liveRows().reduce(function (acc, row) {
      const w = field(row, "weight");
      return acc + (w ? toCents(w.value) : 0);
    }, 0);
    sumOut.textContent = fromCents(cents);
    sumOut.classList.toggle("off", cents !== target);
  }

  // --- reading the 指标值 as it is typed ----------------------------------------------------------------
  const timers = new WeakMap();
  function parseRow(row) {
    const input = field(row, "target_raw");
    const summary = row.querySelector(".target-summary");
    const flags = row.querySelector(".target-flags");
    if (!input || !summary) return;
    const text = input.value.trim();
    if (!text) { summary.textContent = ""; flags.textContent = ""; return; }
    const rule = field(row, "rule");
    const acc = field(row, "accumulation");
    const level2 = field(row, "level2");
    const params = new URLSearchParams({ target: text, level2: level2 ? level2.value : "" });
    if (rule && rule.value && rule.dataset.auto !== "1") params.set("rule", rule.value);
    fetch(parseUrl + "?" + params.toString(), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || input.value.trim() !== text) return; // typed on since: a newer answer is coming
        // The default rule (and 累计/水平) is filled in while the row has none of its own.
        if (rule && (!rule.value || rule.dataset.auto === "1")) { rule.value = data.rule; rule.dataset.auto = "1"; }
        if (acc && (!acc.value || acc.dataset.auto === "1")) { acc.value = data.accumulation; acc.dataset.auto = "1"; }
        summary.textContent = data.summary;
        flags.textContent = (data.flag_notes || []).join("；");
      })
      .catch(function () { /* offline: the server reads it again on save */ });
  }
  function parseSoon(row) {
    clearTimeout(timers.get(row));
    timers.set(row, setTimeout(function () { parseRow(row); }, 250));
  }

  // --- rows -----------------------------------------------------------------------------------------
  function addRow(values) {
    const index = parseInt(total.value, 10);
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    const holder = document.createElement("tbody");
    holder.innerHTML = html;
    const row = holder.firstElementChild;
    row.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });
    tbody.appendChild(row);
    total.value = String(index + 1);
    Object.keys(values || {}).forEach(function (name) {
      const el = field(row, name);
      if (el && values[name] != null) el.value = values[name];
    });
    renumber();
    updateSum();
    if (field(row, "target_raw").value) parseRow(row);
    (field(row, "level1") || row).focus();
    return row;
  }
  function move(row, up) {
    let other = up ? row.previousElementSibling : row.nextElementSibling;
    while (other && isDeleted(other)) other = up ? other.previousElementSibling : other.nextElementSibling;
    if (!other) return;
    if (up) tbody.insertBefore(row, other); else tbody.insertBefore(other, row);
    renumber();
  }
  function remove(row) {
    const box = field(row, "DELETE");
    if (box) box.checked = true;
    row.classList.add("deleted");
    row.hidden = true;
    renumber();
    updateSum();
  }

  // The 删除 checkboxes stay for rows already marked (a re-shown page); the button is the way otherwise.
  tbody.querySelectorAll("tr.indicator-row").forEach(function (row) {
    const box = field(row, "DELETE");
    if (box && !box.checked) box.hidden = true;
  });
  template.content.querySelectorAll("[name$='-DELETE']").forEach(function (box) { box.hidden = true; });

  tbody.addEventListener("click", function (event) {
    const row = event.target.closest("tr.indicator-row");
    if (!row) return;
    if (event.target.closest(".move-up")) move(row, true);
    else if (event.target.closest(".move-down")) move(row, false);
    else if (event.target.closest(".remove-row")) remove(row);
  });
  tbody.addEventListener("input", function (event) {
    const row = event.target.closest("tr.indicator-row");
    if (!row) return;
    const name = (event.target.name || "").split("-").pop();
    if (name === "weight") updateSum();
    if (name === "target_raw" || name === "level2") parseSoon(row);
    if (name === "DELETE") { renumber(); updateSum(); }
  });
  tbody.addEventListener("change", function (event) {
    const row = event.target.closest("tr.indicator-row");
    if (!row) return;
    const name = (event.target.name || "").split("-").pop();
    if (name === "rule" || name === "accumulation") { delete event.target.dataset.auto; parseSoon(row); }
    if (name === "DELETE") { row.classList.toggle("deleted", event.target.checked); renumber(); updateSum(); }
  });
  const addButton = document.getElementById("add-row");
  if (addButton) addButton.addEventListener("click", function () { addRow({}); });

  form.addEventListener("submit", function () {
    // A blank row with a number would be read as a row left half-filled: it goes without one.
    tbody.querySelectorAll("tr.indicator-row").forEach(function (row) {
      if (!field(row, "id") || !field(row, "id").value) {
        if (isBlank(row)) {
          const order = field(row, "ORDER");
          if (order) order.value = "";
          ["rule", "accumulation"].forEach(function (name) {
            const el = field(row, name);
            if (el && el.dataset.auto === "1") el.value = "";
          });
        }
      }
    });
  });

  // With this file the blank rows are not needed (添加一行 adds one): they go, unless the table has no row.
  Array.from(tbody.querySelectorAll("tr.indicator-row")).forEach(function (row) {
    if ((!field(row, "id") || !field(row, "id").value) && isBlank(row) && !row.querySelector(".error")) row.remove();
  });
  if (!tbody.querySelector("tr.indicator-row")) addRow({});
  renumber();
  updateSum();

  // --- the 指标库 picker -------------------------------------------------------------------------------
  const libraryUrl = form.dataset.libraryUrl;
  const q = document.getElementById("library-q");
  const results = document.getElementById("library-results");
  if (libraryUrl && q && results) {
    let timer = null;
    const search = function () {
      const text = q.value.trim();
      if (!text) { results.replaceChildren(); return; }
      fetch(libraryUrl + "?" + new URLSearchParams({ q: text }).toString(),
            { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) {
          if (q.value.trim() !== text) return;
          results.replaceChildren();
          (data.results || []).forEach(function (entry) {
            const li = document.createElement("li");
            const button = document.createElement("button");
            button.type = "button";
            button.className = "library-add";
            button.textContent = "添加";
            button.addEventListener("click", function () {
              addRow({ level1: entry.level1, level2: entry.level2, name: entry.name, target_raw: entry.target || "",
                       rule: entry.rule || "", accumulation: entry.accumulation || "" });
            });
            const text = document.createElement("span");
            text.textContent = " " + entry.name + "（" + [entry.level1, entry.level2].filter(Boolean).join(" / ") + "）"
              + (entry.target ? " 常见目标 " + entry.target : "") + (entry.uses ? " · 已用 " + entry.uses + " 次" : "")
              + (entry.recommended ? " · 推荐" : "");
            li.appendChild(button);
            li.appendChild(text);
            results.appendChild(li);
          });
          if (!results.children.length) {
            const li = document.createElement("li");
            li.className = "empty";
            li.textContent = "指标库中没有匹配的指标。";
            results.appendChild(li);
          }
        })
        .catch(function () { /* offline: nothing to pick */ });
    };
    q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 250); });
  }
})();
