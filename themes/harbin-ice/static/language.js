// The language switcher (and the language list of the root page): choosing a language there is an explicit choice.
// Remember it in localStorage ("hp-lang"; no cookies) so that the root page (inline/negotiate.js) opens that language
// next time, ahead of the browser's own list. Any other link leaves the choice as it was.
(function () {
  var LISTS = ".hp-languages a[lang], .hp-root__languages a[lang]";

  function remember(event) {
    var link = event.target && event.target.closest ? event.target.closest(LISTS) : null;
    if (!link) return;
    var code = link.getAttribute("hreflang") || link.getAttribute("lang");
    if (!code) return;
    try { localStorage.setItem("hp-lang", code); } catch (e) { /* storage blocked: the browser's languages decide */ }
  }

  document.addEventListener("click", remember);
  document.addEventListener("auxclick", remember); // a middle click opens the language in a new tab: a choice too
})();
