// Behaviour for every page. No inline scripts: the Content-Security-Policy forbids them.
(function () {
  "use strict";

  // htmx sends the CSRF token as a header on every request it makes.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) {
      event.detail.headers["X-CSRFToken"] = meta.getAttribute("content");
    }
  });

  // htmx does not swap error answers; show their message in the page's alert region instead.
  document.addEventListener("htmx:responseError", function (event) {
    var region = document.getElementById("live-alert");
    if (!region) { return; }
    var status = event.detail.xhr.status;
    var text = "The service could not do that (error " + status + "). Nothing was lost: try again.";
    if (status === 409) {
      text = "Someone else changed this first. Reload to see the latest version; nothing you typed was saved.";
    } else if (status === 403 || status === 404) {
      text = "That is not open to you.";
    }
    region.textContent = text;
    region.hidden = false;
  });

  document.addEventListener("htmx:sendError", function () {
    var region = document.getElementById("live-alert");
    if (!region) { return; }
    region.textContent = "The service could not be reached. Check your connection and try again.";
    region.hidden = false;
  });

  // Buttons that ask before they act, e.g. ending another user's sessions.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();

// Forms marked data-swap-errors answer a refused submission (400: check the fields; 409: someone
// changed it first) with their own section, messages and typed text included: show it.
document.addEventListener("htmx:beforeSwap", function (event) {
  var status = event.detail.xhr.status;
  // The event fires on the swap target; the element that made the request is in its detail.
  var source = (event.detail.requestConfig && event.detail.requestConfig.elt) || event.detail.elt;
  if ((status === 400 || status === 409) && source && source.closest && source.closest("[data-swap-errors]")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// The live meeting's per-case timer: minutes used against the time allowed. The page says the
// start time and the allowance without JavaScript; this only keeps the count up to date.
(function () {
  "use strict";
  // A case left open past the meeting (or over a day) reads as hours, not "764 minutes".
  function duration(minutes) {
    var hours = Math.floor(minutes / 60);
    var rest = minutes % 60;
    var text = rest + " minute" + (rest === 1 ? "" : "s");
    if (hours === 0) { return text; }
    var hoursText = hours + " hour" + (hours === 1 ? "" : "s");
    return rest === 0 ? hoursText : hoursText + " " + text;
  }
  function tick() {
    var timers = document.querySelectorAll("[data-timer-start]");
    for (var i = 0; i < timers.length; i++) {
      var el = timers[i];
      var started = Date.parse(el.getAttribute("data-timer-start"));
      var allowed = parseInt(el.getAttribute("data-timer-allowed"), 10);
      if (isNaN(started) || isNaN(allowed)) { continue; }
      var used = Math.max(0, Math.floor((Date.now() - started) / 60000));
      var text = duration(used) + " used of " + duration(allowed) + " allowed.";
      if (used > allowed) {
        text += " Over time by " + duration(used - allowed) + ".";
        el.classList.add("timer--over");
      } else {
        el.classList.remove("timer--over");
      }
      if (el.textContent !== text) { el.textContent = text; }
    }
  }
  tick();
  window.setInterval(tick, 5000);
  document.addEventListener("htmx:afterSwap", tick);
})();
