/* The site menu on small screens (base.html, app.css "the header"): folded behind its Menu
 * button, which says whether it is open (aria-expanded); Escape closes it and gives the focus
 * back to the button. Loaded in <head> without defer so that the class it sets on <html> folds
 * the menu before the first paint. Without script the button stays hidden and the menu stays
 * open, wrapped on as many lines as it needs.
 */
(function () {
  "use strict";

  document.documentElement.classList.add("js-menu");

  function attach() {
    var button = document.querySelector(".site-header .nav-toggle");
    if (!button) {
      return;
    }
    var header = button.closest(".site-header");

    function set(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }

    set(false);
    button.hidden = false;
    button.addEventListener("click", function () {
      set(button.getAttribute("aria-expanded") !== "true");
    });
    header.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        set(false);
        button.focus();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", attach);
  } else {
    attach();
  }
})();
