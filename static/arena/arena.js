// Keyboard voting: any visible element with data-keys="1 ArrowLeft" is clicked by those keys.
// Clicking (not submitting) keeps the pressed button as the form's submitter, so the
// form sends choice=<value> with or without htmx.
(function () {
  "use strict";
  var SLIDER_KEYS = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "PageUp", "PageDown"];
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.metaKey || event.ctrlKey || event.altKey) return;
    // Keys typed into a field belong to it; a slider (the editing arena's wipe) keeps only the
    // keys that move it, so a vote key still votes while it has focus.
    var field = event.target.closest("input, textarea, select, [contenteditable]");
    if (field && !(field.type === "range" && SLIDER_KEYS.indexOf(event.key) === -1)) return;
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

// Copy buttons (model page): <button data-copy="element-id" hidden> copies that element's text.
// They are hidden until this runs: without JavaScript the text is still there to select.
(function () {
  "use strict";
  function select(target) {
    var range = document.createRange();
    range.selectNodeContents(target);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  var buttons = document.querySelectorAll("button[data-copy]");
  for (var i = 0; i < buttons.length; i++) {
    var button = buttons[i];
    button.hidden = false;
    button.addEventListener("click", function (event) {
      var pressed = event.currentTarget;
      var target = document.getElementById(pressed.getAttribute("data-copy"));
      if (!target) return;
      var copied = function () {
        pressed.textContent = "Copied";
        setTimeout(function () { pressed.textContent = "Copy"; }, 1500);
      };
      // The clipboard API needs a secure context (HTTPS or localhost); elsewhere the text is
      // selected for the visitor to copy.
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(target.textContent).then(copied, function () { select(target); });
      } else {
        select(target);
      }
    });
  }
})();
