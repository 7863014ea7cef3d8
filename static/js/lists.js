/* List pages on small screens and after a filter is applied.
 *
 * - The filters (a <details>, open in the HTML so they work without scripts) fold on a
 *   phone, behind their summary, which says how many filters are active.
 * - Each result cell gets its column's name (data-label), which lists.css shows when
 *   rows stack into cards on a phone, so no row needs horizontal scrolling.
 * - After the reader applies a filter (the form, a facet, removing a chip, a sort or a
 *   page link), focus lands on the results' heading rather than the top of the page.
 */
(function () {
  "use strict";

  var FOCUS_FLAG = "citydiplo-focus-results";
  var phone = window.matchMedia("(max-width: 50rem)");

  document.querySelectorAll("details[data-fold-below]").forEach(function (details) {
    if (phone.matches) { details.open = false; }
  });

  document.querySelectorAll("table.results").forEach(function (table) {
    var labels = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.replace(/\s+/g, " ").replace(/[▲▼↑↓]/g, "").trim();
    });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, index) {
        if (labels[index]) { cell.setAttribute("data-label", labels[index]); }
      });
    });
  });

  function remember() {
    try { sessionStorage.setItem(FOCUS_FLAG, "1"); } catch (error) { /* private mode */ }
  }
  document.querySelectorAll(".list-page form.filter-form").forEach(function (form) {
    form.addEventListener("submit", remember);
  });
  document.querySelectorAll(
    ".list-page .facet a, .list-page .active-filters a, .list-page table.results thead a, .list-page .pagination a"
  ).forEach(function (link) {
    link.addEventListener("click", remember);
  });

  var heading = document.getElementById("results-heading");
  var wanted = false;
  try {
    wanted = sessionStorage.getItem(FOCUS_FLAG) === "1";
    sessionStorage.removeItem(FOCUS_FLAG);
  } catch (error) { /* private mode: leave focus where the browser puts it */ }
  if (heading && wanted) {
    heading.focus();
    heading.scrollIntoView({ block: "start" });
  }
}());
