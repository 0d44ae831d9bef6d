/* Vendor fields (vendor_risk/vendor_field.py): a text box whose datalist is filled, as one
 * types, with the vendor names the server suggests (the box's data-suggest URL answers ?q= with
 * a JSON list of names). Loaded on every page with <script src> (the CSP forbids inline
 * script); without it the box still works: the exact name, in any case, is enough.
 */
(function () {
  "use strict";

  if (!window.fetch) {
    return;
  }
  var DELAY = 150;

  function attach(input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list) {
      return;
    }
    var timer = null;
    var asked = null;

    function fill(names) {
      while (list.firstChild) {
        list.removeChild(list.firstChild);
      }
      names.forEach(function (name) {
        var option = document.createElement("option");
        option.value = name;
        list.appendChild(option);
      });
    }

    function suggest() {
      var text = input.value;
      if (text === asked) {
        return;
      }
      asked = text;
      var url = input.dataset.suggest + "?q=" + encodeURIComponent(text);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : [];
        })
        .then(function (names) {
          if (input.value === text) {
            fill(names);
          }
        })
        .catch(function () {
          asked = null; /* offline: ask again at the next key */
        });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(suggest, DELAY);
    });
    input.addEventListener("focus", suggest);
    /* Typed into before this deferred script ran (a fast typist, a slow page): suggest now. */
    if (document.activeElement === input) {
      suggest();
    }
  }

  document.querySelectorAll("input[data-suggest][list]").forEach(attach);
})();
