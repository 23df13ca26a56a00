// Keyboard voting: any visible element with data-keys="1 ArrowLeft" is clicked by those keys.
// Clicking (not submitting) keeps the pressed button as the form's submitter, so the
// form sends choice=<value> with or without htmx.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.metaKey || event.ctrlKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    // Enter or Space on a focused button or link presses that one, not a shortcut's target.
    if ((event.key === "Enter" || event.key === " ") && event.target.closest("button, a")) return;
    var targets = document.querySelectorAll("[data-keys]");
    for (var i = 0; i < targets.length; i++) {
      var element = targets[i];
      if (element.disabled || element.offsetParent === null) continue;
      if (element.getAttribute("data-keys").split(" ").indexOf(event.key) !== -1) {
        event.preventDefault();
        element.click();
        return;
      }
    }
  });
})();
