// Buttons with data-confirm ask before they submit (no inline onclick: the Content-Security-Policy
// runs no inline event handlers).
document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
});
