// Pagefind UI on the search page; ?q= from the header form starts a search.
(function () {
  "use strict";
  var el = document.getElementById("search");
  if (!el || typeof PagefindUI === "undefined") return;
  var ui = new PagefindUI({
    element: "#search",
    bundlePath: new URL(el.getAttribute("data-bundle"), document.baseURI).href,
    showSubResults: false,
    showImages: false,
    resetStyles: false
  });
  var q = new URLSearchParams(window.location.search).get("q");
  if (q) ui.triggerSearch(q);
})();
