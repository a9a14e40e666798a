// The points arriving on a game's result: the number counts up to what was credited. The
// page already says the final number (without JavaScript, and for anyone who asked their
// system for less motion, that is all there is).
(function () {
  if (window.matchMedia("(prefers-reduced-motion: reduce)").matches) return;
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-count-to]").forEach(function (element) {
      var target = parseInt(element.dataset.countTo, 10);
      var final = element.textContent;
      var format = new Intl.NumberFormat(document.documentElement.lang || undefined);
      var began = null;
      element.dataset.counting = "1";  // until the final number is back
      function step(now) {
        if (began === null) began = now;
        var share = Math.min(1, (now - began) / 900);
        var eased = 1 - Math.pow(1 - share, 3);
        element.textContent = share < 1 ? format.format(Math.round(target * eased)) : final;
        if (share < 1) window.requestAnimationFrame(step);
        else delete element.dataset.counting;
      }
      window.requestAnimationFrame(step);
    });
  });
})();
