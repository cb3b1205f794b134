// The colour-mode chooser in the header: shown only when this script runs. Saves the choice in localStorage
// ("hp-mode"; no cookies); inline/mode.js applies it before first paint on the next page.
(function () {
  var box = document.querySelector(".hp-mode"), select = box && box.querySelector("select");
  if (!select) return;
  var root = document.documentElement, modes = ["light", "dark", "high-contrast"];

  function show(mode) {
    select.value = modes.indexOf(mode) < 0 ? "auto" : mode;
  }

  function apply(mode) {
    if (modes.indexOf(mode) < 0) root.removeAttribute("data-mode");
    else root.setAttribute("data-mode", mode);
  }

  select.addEventListener("change", function () {
    var mode = select.value;
    apply(mode);
    try {
      if (modes.indexOf(mode) < 0) localStorage.removeItem("hp-mode");
      else localStorage.setItem("hp-mode", mode);
    } catch (e) { /* storage blocked: the choice lasts for this page only */ }
  });
  // Another tab changed the mode: follow it.
  window.addEventListener("storage", function (event) {
    if (event.key === "hp-mode") { apply(event.newValue); show(event.newValue); }
  });
  show(root.getAttribute("data-mode"));
  box.hidden = false;
})();
