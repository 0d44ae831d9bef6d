/* The recovery codes page (templates/auth/recovery_codes.html): copy and print buttons. The
 * download link works without this script (its href is a data: URL built into the page); copy
 * and print need it, so they stay hidden until it runs. Loaded with <script src> (the CSP
 * forbids inline script).
 */
(function () {
  "use strict";

  var copy = document.getElementById("recovery-copy");
  var print = document.getElementById("recovery-print");
  var status = document.getElementById("recovery-copied");
  if (!copy || !print) {
    return;
  }

  function say(words) {
    if (status) {
      status.textContent = words;
    }
  }

  function copyBySelection(text) {
    var box = document.createElement("textarea");
    box.value = text;
    box.setAttribute("readonly", "");
    box.className = "visually-hidden";
    document.body.appendChild(box);
    box.select();
    var done = false;
    try {
      done = document.execCommand("copy");
    } catch (e) {
      done = false;
    }
    document.body.removeChild(box);
    return done;
  }

  copy.addEventListener("click", function () {
    var text = copy.getAttribute("data-codes");
    var failed = "Copying did not work here: select the codes and copy them, or download them.";
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { say("The codes are copied to the clipboard."); },
        function () { say(copyBySelection(text) ? "The codes are copied to the clipboard." : failed); }
      );
    } else {
      say(copyBySelection(text) ? "The codes are copied to the clipboard." : failed);
    }
  });

  print.addEventListener("click", function () {
    window.print();
  });

  copy.hidden = false;
  print.hidden = false;
})();
