// The invite link's buttons: Share (the phone's own share sheet, where the browser has
// the Web Share API) and Copy (the clipboard). Without JavaScript both stay hidden and
// the link can still be selected and copied by hand.
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-share]").forEach(function (button) {
      if (!navigator.share) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.share({title: button.dataset.shareTitle, url: button.dataset.share})
          .catch(function () { /* the person closed the share sheet */ });
      });
    });
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      if (!navigator.clipboard) return;
      button.hidden = false;
      var status = document.getElementById(button.dataset.status);
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(button.dataset.copy).then(function () {
          if (status) status.textContent = button.dataset.copied;
        });
      });
    });
  });
})();
