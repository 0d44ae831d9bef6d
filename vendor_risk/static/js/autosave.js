/* Autosave of a questionnaire: each answer is saved as it is given.
 *
 * Loaded with <script src> (the CSP forbids inline script). It reads the page: the form's
 * fields, data-* attributes on #questionnaire (URLs, the CSRF token) and a JSON block holding
 * only the show-if conditions. Without it the page still works: each section has a Save button,
 * which this script hides, since every answer saves itself (Enter in a field saves that answer
 * rather than posting the section).
 *
 * Nothing typed is lost: an answer not yet saved stays in the page and in sessionStorage until
 * the server has it. A dropped connection or an ended session (the server then answers with a
 * redirect to the login page or a refused security token) shows a banner with a link to log in
 * again in a new tab and a Retry button; a fresh security token is fetched before retrying.
 * When someone else saved the same answer in the meantime, the server refuses to overwrite it
 * and the person chooses: keep theirs or keep mine.
 */
(function () {
  "use strict";

  var root = document.getElementById("questionnaire");
  if (!root || root.dataset.editable !== "true" || !window.fetch) {
    return;
  }
  var dataBlock = document.getElementById("show-if-data");
  var rules = dataBlock ? JSON.parse(dataBlock.textContent) : { order: [], conditions: {} };
  var csrf = root.dataset.csrf;
  var storageKey = "vr-unsaved:" + root.dataset.request;
  var banner = document.getElementById("connection-banner");
  var bannerMessage = document.getElementById("connection-message");
  var loginLink = document.getElementById("connection-login");
  var retryButton = document.getElementById("connection-retry");
  var TEXT_DELAY = 800;
  var states = {};

  // ---- the page's questions ----------------------------------------------------------------

  function fieldsetOf(id) {
    return document.getElementById("q-" + id);
  }

  function questionsInPage() {
    return Array.prototype.slice.call(root.querySelectorAll("fieldset.question[data-question]"));
  }

  function state(id) {
    if (!states[id]) {
      var fs = fieldsetOf(id);
      states[id] = {
        version: Number((fs && fs.dataset.version) || 0),
        timer: null,
        inflight: false,
        again: false,
        pending: false,
        said: fs ? JSON.stringify([payloadValue(fs), commentValue(fs)]) : null,
        sending: null
      };
    }
    return states[id];
  }

  function answerInputs(fs) {
    return fs.querySelectorAll('[name="a-' + fs.dataset.question + '"]');
  }

  function fileIds(fs) {
    return Array.prototype.map.call(fs.querySelectorAll(".files li[data-file]"), function (li) {
      return li.dataset.file;
    });
  }

  /* The answer as the show-if conditions read it (null: no answer). */
  function readAnswer(fs) {
    var type = fs.dataset.type;
    if (type === "file") {
      var ids = fileIds(fs);
      return ids.length ? ids : null;
    }
    var inputs = Array.prototype.slice.call(answerInputs(fs));
    if (type === "multiple_choice") {
      var chosen = inputs.filter(function (i) { return i.checked; }).map(function (i) { return i.value; });
      return chosen.length ? chosen : null;
    }
    if (inputs.length && inputs[0].type === "radio") {
      var checked = inputs.filter(function (i) { return i.checked; })[0];
      return checked ? checked.value : null;
    }
    if (!inputs.length) {
      return null;
    }
    var text = inputs[0].value.trim();
    return text === "" ? null : text;
  }

  /* The answer as the save endpoint takes it: text, a list for multiple choice, "" to clear. */
  function payloadValue(fs) {
    var type = fs.dataset.type;
    if (type === "file") {
      return null;
    }
    if (type === "multiple_choice") {
      return readAnswer(fs) || [];
    }
    var inputs = answerInputs(fs);
    if (inputs.length && inputs[0].type === "radio") {
      return readAnswer(fs) || "";
    }
    return inputs.length ? inputs[0].value : "";
  }

  function commentField(fs) {
    return fs.querySelector('[name="c-' + fs.dataset.question + '"]');
  }

  function commentValue(fs) {
    var field = commentField(fs);
    return field ? field.value : null;
  }

  function writeAnswer(fs, value, comment) {
    var type = fs.dataset.type;
    var many = Array.isArray(value) ? value.map(String) : [];
    Array.prototype.forEach.call(answerInputs(fs), function (input) {
      if (input.type === "radio") {
        input.checked = value !== null && String(value) === input.value;
      } else if (input.type === "checkbox") {
        input.checked = many.indexOf(input.value) !== -1;
      } else if (type !== "file") {
        input.value = value === null || value === undefined ? "" : String(value);
      }
    });
    var field = commentField(fs);
    if (field && comment !== undefined && comment !== null) {
      field.value = comment;
    }
  }

  function setVersion(id, version) {
    state(id).version = version;
    var fs = fieldsetOf(id);
    if (fs) {
      fs.dataset.version = String(version);
      var hidden = fs.querySelector("[data-version-field]");
      if (hidden) {
        hidden.value = String(version);
      }
    }
  }

  // ---- show-if, with the semantics of questionnaire/conditions.py ----------------------------

  function isAnswered(value) {
    return value !== null && value !== undefined && value !== "" && !(Array.isArray(value) && !value.length);
  }

  function referenced(condition, into) {
    if (condition.question !== undefined) {
      into.push(condition.question);
    }
    (condition.all || condition.any || []).forEach(function (part) { referenced(part, into); });
    if (condition.not) {
      referenced(condition.not, into);
    }
    return into;
  }

  function holds(condition, answers) {
    if (condition.all) {
      return condition.all.every(function (c) { return holds(c, answers); });
    }
    if (condition.any) {
      return condition.any.some(function (c) { return holds(c, answers); });
    }
    if (condition.not) {
      return !holds(condition.not, answers);
    }
    var answer = answers[condition.question];
    if (condition.equals !== undefined) {
      return Array.isArray(answer) ? answer.indexOf(condition.equals) !== -1 : answer === condition.equals;
    }
    if (condition.one_of !== undefined) {
      if (Array.isArray(answer)) {
        return condition.one_of.some(function (v) { return answer.indexOf(v) !== -1; });
      }
      return condition.one_of.indexOf(answer) !== -1;
    }
    if (condition.answered !== undefined) {
      return isAnswered(answer) === condition.answered;
    }
    return false;
  }

  /* A question is asked when it has no condition, or its condition holds and reads only
   * questions asked themselves (a question hidden hides those that depend on it). */
  function applyShowIf() {
    var answers = {};
    questionsInPage().forEach(function (fs) {
      answers[fs.dataset.question] = readAnswer(fs);
    });
    var visible = {};
    rules.order.forEach(function (id) {
      var condition = rules.conditions[id];
      if (!condition) {
        visible[id] = true;
        return;
      }
      var reads = referenced(condition, []);
      if (reads.every(function (q) { return visible[q]; }) && holds(condition, answers)) {
        visible[id] = true;
      }
    });
    Array.prototype.forEach.call(root.querySelectorAll("[data-question]"), function (el) {
      var shown = !!visible[el.dataset.question];
      el.hidden = !shown;
      if (el.tagName === "FIELDSET") {
        el.disabled = !shown;
      }
    });
  }

  // ---- what is not saved yet, kept in the tab ------------------------------------------------

  function unsaved() {
    try {
      return JSON.parse(window.sessionStorage.getItem(storageKey) || "{}");
    } catch (e) {
      return {};
    }
  }

  function keepUnsaved(id, entry) {
    var all = unsaved();
    if (entry) {
      all[id] = entry;
    } else {
      delete all[id];
    }
    try {
      if (Object.keys(all).length) {
        window.sessionStorage.setItem(storageKey, JSON.stringify(all));
      } else {
        window.sessionStorage.removeItem(storageKey);
      }
    } catch (e) {
      /* storage full or disabled: the page itself still holds the answer */
    }
  }

  // ---- status lines and the banner -----------------------------------------------------------

  function statusOf(id) {
    return document.getElementById("q-" + id + "-status");
  }

  function setStatus(id, text, kind, actions) {
    var el = statusOf(id);
    if (!el) {
      return;
    }
    el.textContent = "";
    el.className = "save-status" + (kind ? " save-status-" + kind : "");
    if (text) {
      el.appendChild(document.createTextNode(text));
    }
    (actions || []).forEach(function (action) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.textContent = action.label;
      button.addEventListener("click", action.run);
      el.appendChild(document.createTextNode(" "));
      el.appendChild(button);
    });
  }

  function pendingIds() {
    var ids = Object.keys(unsaved());
    Object.keys(states).forEach(function (id) {
      if (states[id].pending && ids.indexOf(id) === -1) {
        ids.push(id);
      }
    });
    return ids;
  }

  function showBanner(kind) {
    var count = pendingIds().length;
    var kept = count === 1 ? "Your unsaved answer is kept" : "Your " + count + " unsaved answers are kept";
    if (kind === "session") {
      bannerMessage.textContent = "Your session has ended (after a while without activity, or you " +
        "logged out elsewhere), so answers cannot be saved. " + kept + " in this page. Log in " +
        "again in a new tab, then come back here and press Retry saving.";
      loginLink.hidden = false;
    } else if (kind === "restored") {
      bannerMessage.textContent = "Answers you typed earlier in this tab were not saved. " + kept +
        " in the form below: press Retry saving to save them.";
      loginLink.hidden = true;
    } else {
      bannerMessage.textContent = "The server cannot be reached (connection lost?). " + kept +
        " in this page: press Retry saving when you are back online.";
      loginLink.hidden = true;
    }
    banner.hidden = false;
  }

  function hideBannerIfDone() {
    if (!pendingIds().length) {
      banner.hidden = true;
    }
  }

  // ---- talking to the server -----------------------------------------------------------------

  function send(url, options) {
    options.credentials = "same-origin";
    options.redirect = "manual"; // an ended session answers with a redirect to the login page
    options.headers = options.headers || {};
    options.headers["X-CSRFToken"] = csrf;
    options.headers.Accept = "application/json";
    return window.fetch(url, options);
  }

  /* What a response means: saved, conflict, refused (this answer), session (log in again) or
   * offline (try again later). */
  function interpret(response) {
    if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
      return Promise.resolve({ kind: "session" });
    }
    var json = (response.headers.get("Content-Type") || "").indexOf("application/json") !== -1;
    if (!json) {
      if (response.status === 400) {
        return Promise.resolve({ kind: "session" }); // the security token of an ended session
      }
      if (response.status === 413) {
        return Promise.resolve({ kind: "refused", message: "too large" });
      }
      return Promise.resolve({ kind: "offline" });
    }
    return response.json().then(function (body) {
      if (response.ok) {
        return { kind: "saved", body: body };
      }
      if (response.status === 409 && body.status === "conflict") {
        return { kind: "conflict", body: body };
      }
      if (response.status >= 500) {
        return { kind: "offline" };
      }
      return { kind: "refused", message: body.message || "refused", body: body };
    });
  }

  function updateProgress(body) {
    if (typeof body.answered !== "number" || typeof body.asked !== "number") {
      return;
    }
    var box = document.getElementById("progress");
    if (!box) {
      return;
    }
    var bar = box.querySelector("progress");
    bar.max = Math.max(body.asked, 1);
    bar.value = body.answered;
    bar.textContent = (body.asked ? Math.round(100 * body.answered / body.asked) : 0) + "%";
    box.querySelector(".progress-text").textContent = body.answered + " of " + body.asked + " answered";
  }

  function retryAction(id) {
    return { label: "Retry", run: function () { save(id); } };
  }

  function save(id) {
    var st = state(id);
    var fs = fieldsetOf(id);
    window.clearTimeout(st.timer);
    st.timer = null;
    if (!fs || fs.disabled) {
      return; // not asked: the server would refuse it, and never reads it
    }
    if (st.inflight) {
      st.again = true;
      return;
    }
    var comment = commentField(fs);
    var entry = {
      value: payloadValue(fs),
      comment: comment ? comment.value : null,
      base_version: st.version
    };
    var said = JSON.stringify([entry.value, entry.comment]);
    if (said === st.said && !st.pending) {
      return; // what the server has already (a change event after the delayed save)
    }
    st.sending = said;
    st.pending = true;
    keepUnsaved(id, entry);
    st.inflight = true;
    setStatus(id, "Saving…", "busy");
    send(root.dataset.saveUrl.replace("__Q__", encodeURIComponent(id)), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(entry)
    }).then(interpret, function () {
      return { kind: "offline" };
    }).then(function (outcome) {
      st.inflight = false;
      handle(id, outcome);
      if (st.again) {
        st.again = false;
        save(id);
      }
    });
  }

  function handle(id, outcome) {
    var st = state(id);
    if (outcome.kind === "saved") {
      st.pending = false;
      st.said = st.sending;
      setVersion(id, outcome.body.version);
      keepUnsaved(id, null);
      updateProgress(outcome.body);
      setStatus(id, "Saved", "ok");
      hideBannerIfDone();
    } else if (outcome.kind === "conflict") {
      showConflict(id, outcome.body);
    } else if (outcome.kind === "refused") {
      st.pending = false;
      keepUnsaved(id, null);
      setStatus(id, "Not saved: " + outcome.message, "error");
      hideBannerIfDone();
    } else if (outcome.kind === "session") {
      setStatus(id, "Not saved: your session has ended — log in again, then retry", "error", [retryAction(id)]);
      showBanner("session");
    } else {
      setStatus(id, "Not saved: the server cannot be reached — retry", "error", [retryAction(id)]);
      showBanner("offline");
    }
  }

  function showConflict(id, body) {
    var current = body.current;
    var theirs = current.text ? "“" + current.text + "”" : "no answer";
    if (current.comment) {
      theirs += " (comment: “" + current.comment + "”)";
    }
    setStatus(id, "Not saved: " + current.saved_by + " changed this answer at " + current.saved_at +
      " while you were editing. Their answer: " + theirs + ".", "error", [
      {
        label: "Keep mine",
        run: function () {
          setVersion(id, current.version);
          save(id);
        }
      },
      {
        label: "Take theirs",
        run: function () {
          var fs = fieldsetOf(id);
          writeAnswer(fs, current.value, current.comment);
          setVersion(id, current.version);
          state(id).pending = false;
          state(id).said = JSON.stringify([payloadValue(fs), commentValue(fs)]);
          keepUnsaved(id, null);
          setStatus(id, "Saved (their answer)", "ok");
          applyShowIf();
          hideBannerIfDone();
        }
      }
    ]);
  }

  function retryAll() {
    retryButton.disabled = true;
    // A new session has a new security token: fetch it before saving again.
    send(root.dataset.tokenUrl, { method: "GET" }).then(function (response) {
      if (response.type === "opaqueredirect" || !response.ok) {
        return "session";
      }
      return response.json().then(function (body) {
        csrf = body.csrf_token;
        return "ok";
      });
    }, function () {
      return "offline";
    }).then(function (result) {
      retryButton.disabled = false;
      if (result !== "ok") {
        showBanner(result);
        return;
      }
      var waiting = unsaved();
      pendingIds().forEach(function (id) {
        if (waiting[id] && !state(id).pending) {
          state(id).version = waiting[id].base_version;
        }
        save(id);
      });
    });
  }

  // ---- files ---------------------------------------------------------------------------------

  function fileUrl(evidenceId) {
    return root.dataset.fileUrl.replace("999999999", String(evidenceId));
  }

  function addFileRow(fs, file) {
    var list = fs.querySelector(".files");
    var li = document.createElement("li");
    li.dataset.file = String(file.id);
    var link = document.createElement("a");
    link.href = file.download_url;
    link.textContent = file.filename;
    var meta = document.createElement("span");
    meta.className = "muted";
    meta.textContent = " (" + file.size_text + ", " + file.uploaded_at + " UTC) ";
    var remove = document.createElement("button");
    remove.type = "submit";
    remove.name = "remove_file";
    remove.value = String(file.id);
    remove.className = "link danger-link";
    remove.textContent = "Remove";
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = " " + file.filename;
    remove.appendChild(hidden);
    li.appendChild(link);
    li.appendChild(meta);
    li.appendChild(remove);
    list.appendChild(li);
    list.dataset.files = String(list.querySelectorAll("li").length);
  }

  function upload(fs, input) {
    var id = fs.dataset.question;
    var chosen = Array.prototype.slice.call(input.files);
    if (!chosen.length) {
      return;
    }
    var form = new FormData();
    chosen.forEach(function (file) { form.append("file", file); });
    input.disabled = true;
    setStatus(id, "Uploading…", "busy");
    send(root.dataset.uploadUrl.replace("__Q__", encodeURIComponent(id)), {
      method: "POST",
      body: form
    }).then(interpret, function () {
      return { kind: "offline" };
    }).then(function (outcome) {
      input.disabled = false;
      if (outcome.kind === "saved") {
        input.value = "";
        outcome.body.files.forEach(function (file) { addFileRow(fs, file); });
        if (fs.dataset.type === "file") {
          setVersion(id, outcome.body.version);
        }
        updateProgress(outcome.body);
        setStatus(id, chosen.length === 1 ? "File uploaded" : chosen.length + " files uploaded", "ok");
        applyShowIf();
      } else if (outcome.kind === "session") {
        setStatus(id, "Not uploaded: your session has ended — log in again in a new tab, then choose the file again", "error");
        showBanner("session");
      } else if (outcome.kind === "offline") {
        setStatus(id, "Not uploaded: the server cannot be reached — choose the file again later", "error");
      } else {
        setStatus(id, "Not uploaded: " + outcome.message, "error");
      }
    });
  }

  function removeFile(fs, button) {
    var id = fs.dataset.question;
    var evidenceId = button.value;
    button.disabled = true;
    send(fileUrl(evidenceId) + "/delete", { method: "POST" }).then(interpret, function () {
      return { kind: "offline" };
    }).then(function (outcome) {
      button.disabled = false;
      if (outcome.kind === "saved") {
        var li = button.closest("li");
        var list = li.parentNode;
        list.removeChild(li);
        list.dataset.files = String(list.querySelectorAll("li").length);
        if (fs.dataset.type === "file") {
          setVersion(id, outcome.body.version);
        }
        updateProgress(outcome.body);
        setStatus(id, "File removed", "ok");
        applyShowIf();
      } else if (outcome.kind === "session") {
        setStatus(id, "Not removed: your session has ended — log in again, then retry", "error");
        showBanner("session");
      } else if (outcome.kind === "offline") {
        setStatus(id, "Not removed: the server cannot be reached — retry", "error");
      } else {
        setStatus(id, "Not removed: " + outcome.message, "error");
      }
    });
  }

  // ---- wiring --------------------------------------------------------------------------------

  function isTyped(target) {
    return target.tagName === "TEXTAREA" ||
      (target.tagName === "INPUT" && ["text", "search", "email", "url", "tel", ""].indexOf(target.type) !== -1);
  }

  questionsInPage().forEach(function (fs) {
    var id = fs.dataset.question;
    state(id);
    fs.addEventListener("input", function (event) {
      var target = event.target;
      if (target.type === "file") {
        return;
      }
      if (isTyped(target)) {
        var st = state(id);
        st.pending = true;
        window.clearTimeout(st.timer);
        st.timer = window.setTimeout(function () { save(id); }, TEXT_DELAY);
        setStatus(id, "Not saved yet…", "busy");
      }
      applyShowIf();
    });
    fs.addEventListener("change", function (event) {
      var target = event.target;
      if (target.type === "file") {
        upload(fs, target);
        return;
      }
      applyShowIf();
      save(id);
    });
    fs.addEventListener("focusout", function (event) {
      if (isTyped(event.target) && state(id).timer) {
        save(id);
      }
    });
    fs.addEventListener("click", function (event) {
      var button = event.target.closest('button[name="remove_file"]');
      if (button) {
        event.preventDefault();
        removeFile(fs, button);
      }
    });
  });

  // The sections' Save buttons are for browsers without this script: answers save themselves.
  Array.prototype.forEach.call(root.querySelectorAll("form.section-form"), function (form) {
    Array.prototype.forEach.call(form.querySelectorAll(".section-actions"), function (actions) {
      actions.hidden = true;
    });
    form.addEventListener("submit", function (event) {
      // Enter in a field (implicit submission): save that answer now, stay on the page.
      event.preventDefault();
      var active = document.activeElement;
      var fs = active && active.closest ? active.closest("fieldset.question[data-question]") : null;
      if (fs && form.contains(fs) && state(fs.dataset.question).timer) {
        save(fs.dataset.question);
      }
    });
  });

  retryButton.addEventListener("click", retryAll);
  window.addEventListener("online", function () {
    if (!banner.hidden) {
      retryAll();
    }
  });
  window.addEventListener("beforeunload", function (event) {
    if (pendingIds().length) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // Answers typed in this tab before a reload that the server never confirmed.
  var waiting = unsaved();
  var restored = 0;
  Object.keys(waiting).forEach(function (id) {
    var fs = fieldsetOf(id);
    if (!fs) {
      return;
    }
    writeAnswer(fs, waiting[id].value, waiting[id].comment);
    state(id).version = waiting[id].base_version;
    state(id).pending = true;
    setStatus(id, "Not saved yet (typed before the page was reloaded)", "error", [retryAction(id)]);
    restored += 1;
  });
  applyShowIf();
  if (restored) {
    showBanner("restored");
  }
})();
