// The import job page while the worker reads or imports: follow the progress endpoint every second;
// when reading ends (preview ready or failed) the page reloads to show what was stored.
(function () {
  const root = document.querySelector("[data-import-progress]");
  if (!root) return;
  const url = root.dataset.importProgress;
  const reloadWhenDone = root.dataset.reloadWhenDone === "true";
  const waiting = ["reading", "pending", "running"];
  const set = (id, text) => { const el = document.getElementById(id); if (el) el.textContent = text; };
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then((response) => response.json())
      .then((p) => {
        document.getElementById("bar").style.width = p.percent + "%";
        root.setAttribute("aria-valuenow", p.percent);
        set("done", p.done);
        set("total", p.total);
        set("status", p.status_display);
        set("error", p.error);
        const list = document.getElementById("summary");
        if (list) list.replaceChildren(...p.summary.map((line) => Object.assign(document.createElement("li"), {textContent: line})));
        if (waiting.includes(p.status)) setTimeout(poll, 1000);
        else if (reloadWhenDone) window.location.reload();
      })
      .catch(() => setTimeout(poll, 3000));  // a network blip: keep trying, more slowly
  }
  poll();
})();
