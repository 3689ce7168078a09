// A form sent back with errors: move the focus to the summary at its top, so a screen reader reads it first and
// a keyboard user starts from the list of links to the fields (templates/includes/form_errors.html).
(function () {
  "use strict";
  var summary = document.querySelector(".form-error-summary");
  if (summary) { summary.focus(); }
})();
