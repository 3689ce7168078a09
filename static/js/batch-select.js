// A queue's "select all on this page" (review/queue.html): ticks every row's box; unticking a row unticks it.
// Without JavaScript the form still works: "全选本页" sends every row of the page (page_ids).
(function () {
  const all = document.querySelector("[data-select-all]");
  if (!all) return;
  const boxes = () => document.querySelectorAll('input[name="ids"][form="' + all.form.id + '"]');
  all.addEventListener("change", () => boxes().forEach((box) => { box.checked = all.checked; }));
  document.addEventListener("change", (event) => {
    if (event.target.name === "ids" && event.target.form === all.form) {
      all.checked = Array.from(boxes()).every((box) => box.checked);
    }
  });
})();
