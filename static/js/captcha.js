// The captcha's two buttons (cme_portal/captcha.py): 换一张 fetches a new challenge of the same kind, the switch
// turns the picture into a question written as text (or back). Nothing reloads: what was typed stays.
(function () {
  "use strict";
  document.querySelectorAll("[data-captcha]:not([data-captcha-ready])").forEach(function (box) {
    box.setAttribute("data-captcha-ready", "");
    var key = box.querySelector("input[type=hidden][name$='_0']");
    var mode = box.querySelector("[data-captcha-mode]");
    var image = box.querySelector("[data-captcha-image]");
    var question = box.querySelector("[data-captcha-question]");
    var answer = box.querySelector("input[name$='_1']");
    var toggle = box.querySelector("[data-captcha-switch]");
    var status = box.querySelector("[data-captcha-status]");
    box.querySelector("[data-captcha-tools]").hidden = false;

    function describe(text) {
      var ids = (answer.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (id) {
        return id && id !== question.id && !(text && /_helptext$/.test(id));
      });
      if (text) { ids.push(question.id); }
      if (ids.length) { answer.setAttribute("aria-describedby", ids.join(" ")); } else { answer.removeAttribute("aria-describedby"); }
    }

    function load(text) {
      fetch(text ? box.dataset.textUrl : box.dataset.refreshUrl, {
        headers: { "X-Requested-With": "XMLHttpRequest" }, credentials: "same-origin", cache: "no-store",
      })
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
        .then(function (data) {
          key.value = data.key;
          mode.value = text ? "text" : "";
          mode.setAttribute("value", mode.value); // the help text about the picture hides by CSS in text mode
          if (text) { question.textContent = data.question; } else { image.src = data.image_url; }
          image.hidden = text;
          question.hidden = !text;
          toggle.textContent = text ? toggle.dataset.toImage : toggle.dataset.toText;
          answer.inputMode = text ? "numeric" : "text";
          answer.value = "";
          describe(text);
          status.textContent = text ? data.question : box.dataset.newImage;
          answer.focus();
        });
    }

    box.querySelector("[data-captcha-refresh]").addEventListener("click", function () { load(mode.value === "text"); });
    toggle.addEventListener("click", function () { load(mode.value !== "text"); });
  });
})();
