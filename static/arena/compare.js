// Editing battles: compare each edit with its source image. The wipe lays the source over the
// part of both edits left of a line, at the same place in both, so the two edits are judged on
// the same region; the line follows the slider (its arrow keys when it has focus) or a drag
// across either edit by mouse, pen or finger. Flicker alternates the whole source with the
// whole edits (F, through arena.js's data-keys). The state lives on the battle's .pair, which
// has no id: htmx copies the attributes of an element with an id onto its swapped-in successor,
// and a style attribute copied that way is refused by the Content-Security-Policy. So each
// battle starts afresh. Without JavaScript none of this shows: the source is above the edits.
(function () {
  "use strict";
  var STEP = 5; // percent per arrow key; Shift+arrow moves by 1
  var MOVES = { ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1 };

  document.documentElement.classList.add("compare-ready");

  function battleOf(element) {
    return element.closest(".battle");
  }

  function flickering(battle) {
    return battle.querySelector(".pair").classList.contains("flickering");
  }

  function flicker(battle, on) {
    battle.querySelector(".pair").classList.toggle("flickering", on);
    battle.querySelector("[data-compare-flicker]").setAttribute("aria-pressed", String(on));
  }

  function described(percent) {
    if (percent <= 0) return "Both edits shown whole";
    if (percent >= 100) return "Source shown whole";
    return "Source over the left " + percent + "% of both edits";
  }

  function wipe(battle, percent) {
    var value = Math.round(Math.min(100, Math.max(0, percent)) * 10) / 10;
    var slider = battle.querySelector("[data-compare-wipe]");
    battle.querySelector(".pair").style.setProperty("--wipe", value + "%");
    slider.value = String(Math.round(value));
    slider.setAttribute("aria-valuetext", described(Math.round(value)));
    flicker(battle, false);
  }

  document.addEventListener("input", function (event) {
    if (!event.target.matches("[data-compare-wipe]")) return;
    wipe(battleOf(event.target), Number(event.target.value));
  });

  // Capture, so the slider takes its arrows before arena.js could read them as votes.
  document.addEventListener(
    "keydown",
    function (event) {
      var slider = event.target.closest && event.target.closest("[data-compare-wipe]");
      if (!slider || !Object.prototype.hasOwnProperty.call(MOVES, event.key)) return;
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      event.preventDefault();
      var step = event.shiftKey ? 1 : STEP;
      wipe(battleOf(slider), Number(slider.value) + MOVES[event.key] * step);
    },
    true
  );

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-compare-flicker]");
    if (!button) return;
    var battle = battleOf(button);
    flicker(battle, !flickering(battle));
  });

  // A drag across an edit moves the wipe. Touch pans vertically as usual (touch-action: pan-y
  // in the CSS); when the browser takes a touch for a scroll, the wipe goes back to where the
  // touch found it.
  document.addEventListener("pointerdown", function (event) {
    var frame = event.target.closest("[data-compare-frame]");
    if (!frame || !event.isPrimary || event.button !== 0) return;
    var battle = battleOf(frame);
    var before = Number(battle.querySelector("[data-compare-wipe]").value);
    var wasFlickering = flickering(battle);

    function follow(move) {
      var box = frame.getBoundingClientRect();
      wipe(battle, ((move.clientX - box.left) / box.width) * 100);
    }
    function stop() {
      frame.removeEventListener("pointermove", follow);
      frame.removeEventListener("pointerup", stop);
      frame.removeEventListener("pointercancel", cancel);
    }
    function cancel() {
      stop();
      wipe(battle, before);
      flicker(battle, wasFlickering);
    }

    frame.setPointerCapture(event.pointerId);
    frame.addEventListener("pointermove", follow);
    frame.addEventListener("pointerup", stop);
    frame.addEventListener("pointercancel", cancel);
    follow(event);
  });

  document.addEventListener("dragstart", function (event) {
    if (event.target.closest("[data-compare-frame]")) event.preventDefault();
  });
})();
