// A progress bar for large uploads (materials up to 50 MB). Without JavaScript
// the form posts normally; with it, the same request goes through XHR so the
// bar can follow it, and the page then goes where the server says, which shows the message.
(function () {
  "use strict";
  document.querySelectorAll("form[data-upload-progress]").forEach(function (form) {
    var bar = form.querySelector("[data-progress-bar]");
    form.addEventListener("submit", function (event) {
      if (!window.FormData || !bar) { return; }
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      bar.parentElement.classList.remove("d-none");
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          var percent = Math.round((e.loaded / e.total) * 100);
          bar.style.width = percent + "%";
          bar.textContent = percent + "%";
        }
      });
      xhr.addEventListener("load", function () {
        // The server answers the progress bar's request with where to go; the page there shows its message.
        var next = null;
        try { next = JSON.parse(xhr.responseText).next; } catch (e) { next = null; }
        window.location = next || xhr.responseURL || window.location.href;
      });
      xhr.addEventListener("error", function () { form.submit(); });
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.send(new FormData(form));
    });
  });
})();
