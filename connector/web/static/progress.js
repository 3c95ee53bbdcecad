// Live progress of sending ("37 van 156 herinneringen verstuurd"): while steps go out, ask the
// small JSON endpoint again every few seconds and update the line; stop when nothing is left.
// A separate file, no inline script: the Content-Security-Policy forbids inline scripts.
(function () {
  "use strict";

  function follow(box) {
    var url = box.getAttribute("data-progress-url");
    var every = parseInt(box.getAttribute("data-poll-ms"), 10) || 4000;
    var text = box.querySelector("[data-progress-text]");
    var bar = box.querySelector("progress");

    function later(ms) {
      window.setTimeout(ask, ms);
    }

    function show(data) {
      text.textContent = data.text;
      if (bar) {
        bar.max = Math.max(data.total, 1);
        bar.value = data.sent + data.failed;
      }
      if (data.running) {
        later(data.poll_ms || every);
      } else {
        box.classList.add("done");
      }
    }

    function ask() {
      fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (response) {
          if (!response.ok) {
            throw new Error("progress " + response.status);
          }
          return response.json();
        })
        .then(show)
        .catch(function () {
          later(every * 5); // the server is busy or restarting: ask again, less often
        });
    }

    later(every);
  }

  function start() {
    var boxes = document.querySelectorAll("[data-progress-url]");
    for (var i = 0; i < boxes.length; i++) {
      follow(boxes[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
