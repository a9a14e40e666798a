// The question countdown. Display only: the server keeps the real clock and ignores any
// time the browser could send. When the time is up the form is sent with no answer, so
// the game moves on.
(function () {
  function start(root) {
    var timer = root.querySelector("[data-remaining]");
    if (!timer || timer.dataset.started) return;
    timer.dataset.started = "1";
    var limit = parseFloat(timer.dataset.limit);
    var ends = Date.now() + parseFloat(timer.dataset.remaining) * 1000;
    var bar = timer.querySelector(".timer-bar span");
    var seconds = timer.querySelector(".secs");
    var form = root.querySelector("form.answers");
    var tick = setInterval(function () {
      if (!document.body.contains(timer)) { clearInterval(tick); return; }
      var left = Math.max(0, (ends - Date.now()) / 1000);
      bar.style.width = (100 * left / limit) + "%";
      seconds.textContent = String(Math.ceil(left));
      timer.classList.toggle("low", left <= 5);
      if (left <= 0) {
        clearInterval(tick);
        if (form && window.htmx) { htmx.trigger(form, "submit"); }
      }
    }, 200);
  }
  document.addEventListener("DOMContentLoaded", function () { start(document); });
  document.addEventListener("htmx:afterSwap", function (event) { start(event.target); });
})();
