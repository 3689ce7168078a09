// 科室 (seed 000): offer only the departments of the unit picked in the same form.
// Without JavaScript every department is listed with its unit's name, and the server checks the pair.
(function () {
  document.querySelectorAll("select[name$='department_pick']").forEach(function (pick) {
    var form = pick.form;
    var unit = form && form.querySelector("select[name$='unit']");
    if (!unit) return;
    function filter() {
      var chosen = unit.value;
      Array.prototype.forEach.call(pick.options, function (option) {
        var own = !option.dataset.unit || option.dataset.unit === chosen;
        option.hidden = !own;
        option.disabled = !own;
        if (!own && option.selected) pick.value = "";
      });
    }
    unit.addEventListener("change", filter);
    filter();
  });
})();
