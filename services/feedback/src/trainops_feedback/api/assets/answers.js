/* Keeps a participant's answers safe on a weak connection.
 *
 * The page works without this script (a plain form post). With it:
 *  - every change is kept in localStorage under the page's path, and sent (debounced) to the
 *    server-side draft of the link, so a reload or another visit restores it;
 *  - a submit while offline is held: the answers stay in this browser and the form is sent as
 *    soon as the browser is back online (also after a reload);
 *  - the thank-you page removes the kept copy.
 * Nothing leaves this origin; no third-party code.
 */
(function () {
  "use strict";
  var PREFIX = "trainops-answers:";
  var done = document.querySelector("[data-answers-done]");
  if (done) {
    try { localStorage.removeItem(PREFIX + done.getAttribute("data-answers-done")); } catch (e) {}
    return;
  }
  var form = document.getElementById("test-form") || document.getElementById("feedback-form");
  if (!form || !window.localStorage) { return; }
  var key = PREFIX + form.getAttribute("action");
  var draftUrl = form.getAttribute("data-draft");
  var status = document.getElementById("answers-status");
  var timer = null;

  function say(which) {
    if (status) { status.textContent = which ? status.getAttribute("data-" + which) : ""; }
  }

  function answers() {
    var out = {};
    var data = new FormData(form);
    data.forEach(function (value, name) {
      if (name === "lang" || name === "csrf_token") { return; }
      var multiple = form.querySelector('input[type=checkbox][name="' + name + '"]');
      if (multiple) {
        (out[name] = out[name] || []).push(value);
      } else {
        out[name] = value;
      }
    });
    return out;
  }

  function load() {
    try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }

  function keep(pending) {
    var record = { answers: answers(), pending: !!pending };
    try { localStorage.setItem(key, JSON.stringify(record)); } catch (e) { return; }
  }

  function restore(record) {
    var saved = record.answers || {};
    Object.keys(saved).forEach(function (name) {
      var values = [].concat(saved[name]).map(String);
      var fields = form.querySelectorAll('[name="' + name + '"]');
      Array.prototype.forEach.call(fields, function (field) {
        if (field.type === "radio" || field.type === "checkbox") {
          field.checked = values.indexOf(field.value) >= 0;
        } else if (field.tagName === "TEXTAREA" || field.type === "text") {
          field.value = values[0] || "";
        }
      });
    });
  }

  function sendDraft() {
    if (!draftUrl || !navigator.onLine) { return; }
    fetch(draftUrl, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ answers: answers() }),
      credentials: "omit"
    }).then(function (response) {
      if (response.ok) { say("saved"); }
    }).catch(function () { /* kept locally; sent again with the next change */ });
  }

  function changed() {
    keep(false);
    clearTimeout(timer);
    timer = setTimeout(sendDraft, 500);
  }

  function submitNow() {
    keep(true);
    say("sending");
    HTMLFormElement.prototype.submit.call(form);
  }

  var record = load();
  if (record && document.getElementById("error-summary")) {
    // The server answered the held submission with errors: show them, do not resend.
    record.pending = false;
    keep(false);
  } else if (record) {
    restore(record);
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function (event) {
    if (!navigator.onLine) {
      event.preventDefault();
      keep(true);
      say("offline");
      return;
    }
    keep(true);
  });
  window.addEventListener("online", function () {
    var kept = load();
    if (kept && kept.pending) { submitNow(); }
  });
  window.addEventListener("offline", function () { say("offline"); });
  if (record && record.pending && navigator.onLine) { submitNow(); }
})();
