// The live team queue: the console relays the gateway's escalation watch as Server-Sent Events
// (/inbox/events, session cookie); each change makes htmx refresh the queue ("escalation-changed").
// One stream while an inbox is shown; closed when the page (or, with hx-boost, the screen) goes.
(function () {
  "use strict";
  var source = null;
  var url = null;
  function say(text) {
    var live = document.getElementById("live");
    if (live) { live.textContent = text; }
  }
  function stop() {
    if (source) { source.close(); }
    source = null;
    url = null;
  }
  function changed() {
    var queue = document.getElementById("queue");
    if (queue && window.htmx) { window.htmx.trigger(queue, "escalation-changed"); }
  }
  function sync() {
    var live = document.getElementById("live");
    var wanted = live ? live.getAttribute("data-watch") : null;
    if (source && wanted === url) { return; }
    stop();
    if (!wanted || !window.EventSource) { return; }
    url = wanted;
    source = new EventSource(wanted);
    source.onopen = function () { say("Live: new escalations and changes appear as they happen."); };
    source.onmessage = changed;
    source.addEventListener("replaced", function () {
      stop();
      say("Live updates paused: the inbox is open in another tab. Reload to resume them here.");
    });
    source.addEventListener("rpc-error", function () {
      stop();
      say("Live updates stopped. Reload the page to resume them.");
    });
    source.onerror = function () {
      if (source && source.readyState === window.EventSource.CLOSED) {
        stop();
        say("Live updates stopped. Reload the page to resume them.");
      } else {
        say("Reconnecting live updates…");
      }
    };
  }
  document.addEventListener("DOMContentLoaded", sync);
  document.addEventListener("htmx:afterSettle", sync);
  document.addEventListener("htmx:historyRestore", sync);
  window.addEventListener("pagehide", stop);
})();
