// Place pickers: a text field with `data-place-picker="<autocomplete URL>"` suggests
// published places as one types (ARIA 1.2 combobox with a listbox). Without this
// script the field is a plain text input: the server resolves the typed name.
// Choosing a suggestion submits the place's slug, so namesakes are told apart.
(function () {
  "use strict";
  var DELAY = 120;
  var MIN_LENGTH = 2;

  function setup(input, index) {
    var url = input.getAttribute("data-place-picker");
    var listId = "place-picker-list-" + index;
    var statusId = "place-picker-status-" + index;
    var list = document.createElement("ul");
    var status = document.createElement("div");
    var timer = null;
    var active = -1;
    var results = [];
    var chosen = null; // {name, slug} picked from the list
    var request = 0;

    list.id = listId;
    list.className = "place-picker-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Places matching what you type");
    list.hidden = true;
    status.id = statusId;
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    var described = input.getAttribute("aria-describedby");
    input.setAttribute("aria-describedby", (described ? described + " " : "") + statusId);
    input.parentNode.classList.add("place-picker");
    input.insertAdjacentElement("afterend", status);
    input.insertAdjacentElement("afterend", list);

    function close() {
      // An answer still on its way must not open the list again (after a choice, Escape
      // or leaving the field): it is no longer the latest request.
      clearTimeout(timer);
      request++;
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(position) {
      var options = list.querySelectorAll("[role=option]");
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === position ? "true" : "false");
      });
      active = position;
      if (position >= 0) {
        input.setAttribute("aria-activedescendant", options[position].id);
        options[position].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(position) {
      var place = results[position];
      if (!place) return;
      chosen = { name: place.name, slug: place.slug };
      input.value = place.name;
      status.textContent = place.label + " chosen.";
      close();
    }

    function show(data) {
      // An answer for a longer prefix can arrive after the reader has moved down the
      // list: the place they highlighted stays highlighted if it is still offered.
      var highlighted = active >= 0 && results[active] ? results[active].slug : null;
      results = data.results || [];
      list.textContent = "";
      results.forEach(function (place, i) {
        var option = document.createElement("li");
        option.id = listId + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.setAttribute("data-slug", place.slug);
        option.textContent = place.label;
        option.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the field
          choose(i);
        });
        list.appendChild(option);
      });
      if (results.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        status.textContent =
          results.length + (results.length === 1 ? " place" : " places") +
          " found: use the up and down arrows to choose.";
      } else {
        close();
        status.textContent = "No place of that name.";
        return;
      }
      highlight(results.findIndex(function (place) {
        return place.slug === highlighted;
      }));
    }

    function fetchSuggestions() {
      var query = input.value.trim();
      if (query.length < MIN_LENGTH) {
        close();
        return;
      }
      var mine = ++request;
      fetch(url + "?q=" + encodeURIComponent(query), {
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.ok ? response.json() : { results: [] };
        })
        .then(function (data) {
          if (mine === request) show(data);
        })
        .catch(function () {
          if (mine === request) close();
        });
    }

    input.addEventListener("input", function () {
      chosen = null;
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, DELAY);
    });
    input.addEventListener("keydown", function (event) {
      var open = !list.hidden;
      if (event.key === "ArrowDown") {
        if (!open) {
          fetchSuggestions();
        } else {
          highlight(Math.min(active + 1, results.length - 1));
        }
        event.preventDefault();
      } else if (event.key === "ArrowUp" && open) {
        highlight(Math.max(active - 1, 0));
        event.preventDefault();
      } else if (event.key === "Enter" && open && active >= 0) {
        choose(active);
        event.preventDefault();
      } else if (event.key === "Escape" && open) {
        close();
        event.preventDefault();
      }
    });
    input.addEventListener("blur", close);
    if (input.form) {
      input.form.addEventListener("submit", function () {
        // The slug of the place picked, so a name shared by several is not ambiguous.
        if (chosen && input.value === chosen.name) input.value = chosen.slug;
      });
    }
  }

  document.querySelectorAll("input[data-place-picker]").forEach(setup);
})();
