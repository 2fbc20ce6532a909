// 监控表 Excel built by a task: poll its progress URL, move the bar, then offer the file.
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box) return;
  function part(name) { return box.querySelector('[data-export="' + name + '"]'); }
  function poll() {
    fetch(box.dataset.progressUrl, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (p) {
        part("bar").style.width = p.percent + "%";
        box.querySelector('[role="progressbar"]').setAttribute("aria-valuenow", p.percent);
        part("status").textContent = p.status_display;
        part("done").textContent = p.done;
        part("total").textContent = p.total;
        part("error").textContent = p.error;
        if (p.status === "done" && p.file_url) {
          part("file").href = p.file_url;
          part("file").hidden = false;
        } else if (p.status === "pending" || p.status === "running") {
          setTimeout(poll, 1000);
        }
      })
      .catch(function () { part("error").textContent = "进度读取失败，请刷新本页。"; });
  }
  poll();
})();
