// Small enhancements only: every page works without this file.
(function () {
  "use strict";

  // Tell the server the browser's time zone, so times show in it until the reader picks one.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var current = document.cookie.split("; ").find(function (c) { return c.indexOf("kintsugi_tz=") === 0; });
    if (zone && (!current || decodeURIComponent(current.split("=")[1]) !== zone)) {
      document.cookie = "kintsugi_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax";
      var stored = document.cookie.indexOf("kintsugi_tz=") !== -1;
      // Reload once so this page shows the browser's zone; never loop when cookies are off.
      if (stored && document.body.dataset.zoneSource === "browser-unknown") { window.location.reload(); }
    }
  } catch (e) { /* no Intl: the server shows UTC */ }

  // Running durations: an element with data-running-since counts up from that instant.
  function format(seconds) {
    var d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600);
    var m = Math.floor(seconds % 3600 / 60), s = Math.floor(seconds % 60);
    var mm = (m < 10 ? "0" : "") + m, ss = (s < 10 ? "0" : "") + s;
    if (d) { return d + "d " + h + "h " + mm + "m"; }
    if (h) { return h + "h " + mm + "m"; }
    if (m) { return m + "m " + ss + "s"; }
    return s + "s";
  }
  function tick() {
    document.querySelectorAll("[data-running-since]").forEach(function (el) {
      var since = Date.parse(el.dataset.runningSince);
      if (!isNaN(since)) { el.textContent = format(Math.max(0, (Date.now() - since) / 1000)) + " (running)"; }
    });
  }
  tick();
  setInterval(tick, 1000);

  // The review saves one section per form: before leaving with another section's text unsaved, ask.
  var dirty = new Set();
  document.querySelectorAll("form.section-form textarea").forEach(function (box) {
    var saved = box.value;
    box.addEventListener("input", function () {
      if (box.value !== saved) { dirty.add(box); } else { dirty.delete(box); }
    });
  });
  document.querySelectorAll("form.section-form").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("textarea").forEach(function (box) { dirty.delete(box); });
    });
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty.size) { event.preventDefault(); event.returnValue = ""; }
  });

  // The blameless check as you type: a textarea with data-lint-url shows what the check finds in
  // its draft, before anything is saved. Saving shows the same findings without this script.
  document.querySelectorAll("textarea[data-lint-url]").forEach(function (area) {
    var out = document.querySelector('[data-lint-for="' + area.id + '"]');
    var token = area.form && area.form.querySelector("input[name=csrf_token]");
    if (!out || !token || !window.fetch) { return; }
    var timer = null, asked = 0;
    function show(findings) {
      out.textContent = "";
      if (!findings.length) { return; }
      var title = document.createElement("p");
      title.className = "live-title";
      title.textContent = "While you type, the blameless check finds:";
      out.appendChild(title);
      var list = document.createElement("ul");
      findings.forEach(function (f) {
        var item = document.createElement("li");
        item.className = "finding finding-" + f.rule;
        var phrase = document.createElement("strong");
        phrase.textContent = "\u201c" + f.phrase + "\u201d";
        item.appendChild(phrase);
        item.appendChild(document.createTextNode(" \u2014 " + f.message + " "));
        var hint = document.createElement("span");
        hint.className = "suggestion";
        hint.textContent = f.suggestion;
        item.appendChild(hint);
        list.appendChild(item);
      });
      out.appendChild(list);
    }
    function check() {
      var mine = ++asked;
      fetch(area.dataset.lintUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token.value },
        body: JSON.stringify({ text: area.value })
      }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) { if (body && mine === asked) { show(body.findings); } })
        .catch(function () { /* the check on save still runs */ });
    }
    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 600);
    });
  });
  // Panels filled after the page has loaded (similar past post-mortems): the page never waits for them,
  // and without this file each keeps its link to the same list.
  document.querySelectorAll("[data-fragment]").forEach(function (panel) {
    fetch(panel.dataset.fragment, { credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) { if (html !== null) { panel.innerHTML = html; } })
      .catch(function () { /* offline or refused: the link stays */ });
  });
})();
