// "获取短信验证码" without leaving the page: the form keeps everything typed,
// passwords included. Without JavaScript the button posts the form instead.
(function () {
  "use strict";
  document.querySelectorAll("button[data-sms-url]").forEach(function (button) {
    var status = document.getElementById(button.dataset.statusId);
    var label = button.textContent;
    function countdown(seconds) {
      button.disabled = true;
      var timer = setInterval(function () {
        seconds -= 1;
        button.textContent = seconds + " s";
        if (seconds <= 0) {
          clearInterval(timer);
          button.disabled = false;
          button.textContent = label;
        }
      }, 1000);
    }
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var form = button.form;
      var body = new FormData(form);
      body.set("action", "send_code");
      fetch(button.dataset.smsUrl, { method: "POST", body: body, credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          status.className = "small mt-2 " + (data.sent ? "text-success" : "text-danger");
          status.textContent = data.message + (data.dev_code ? " " + data.dev_code : "");
          if (data.sent) { countdown(parseInt(button.dataset.wait || "60", 10)); }
        })
        .catch(function () {
          status.className = "small mt-2 text-danger";
          status.textContent = button.dataset.errorText;
        });
    });
  });
})();
