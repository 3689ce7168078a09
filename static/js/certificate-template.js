// The certificate template editor's live preview: the form as it stands (files included) is posted to the preview
// address, which draws it with the certificate renderer and answers a PNG; shown as a data: URL (the CSP allows it).
(function () {
  "use strict";
  var form = document.getElementById("template-form");
  var image = document.getElementById("template-preview");
  var status = document.getElementById("template-preview-status");
  if (!form || !image || !window.fetch) { return; }
  var timer = null;
  var running = 0;
  function refresh() {
    var ticket = ++running;
    status.textContent = status.dataset.loading || "…";
    fetch(form.dataset.previewUrl, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) {
        if (ticket !== running) { return null; }
        if (!response.ok) {
          return response.text().then(function (text) { status.textContent = text; return null; });
        }
        if ((response.headers.get("Content-Type") || "").indexOf("image/png") !== 0) {
          status.textContent = "PDF"; return null;
        }
        return response.blob();
      })
      .then(function (blob) {
        if (!blob || ticket !== running) { return; }
        var reader = new FileReader();
        reader.onload = function () { image.src = reader.result; status.textContent = ""; };
        reader.readAsDataURL(blob);
      })
      .catch(function () { status.textContent = "×"; });
  }
  function later() { clearTimeout(timer); timer = setTimeout(refresh, 400); }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  refresh();
})();
