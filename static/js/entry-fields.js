// The activity form (seeds 003, 004): show the fields a category asks for, hide the others.
// Without JavaScript every field stays visible with its help text, and the server applies the rules.
(function () {
  var category = document.querySelector("select[name='category']");
  if (!category) return;
  var only = {
    residency: ["residency_years", "training_year", "annual_assessment_passed", "final_assessment_passed"],
    out_of_province: ["mode", "evidence_items"]
  };
  function box(name) {
    return document.getElementById("div_id_" + name);
  }
  function update() {
    Object.keys(only).forEach(function (kind) {
      only[kind].forEach(function (name) {
        var element = box(name);
        if (element) element.hidden = category.value !== kind && !element.querySelector(".is-invalid, .invalid-feedback");
      });
    });
  }
  category.addEventListener("change", update);
  update();
})();
