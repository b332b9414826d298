// The pending payee changes page: a button ticks every row the user may verify. Without
// JavaScript each row is ticked by hand; the server checks every row either way.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-check-all]");
    if (!button) { return; }
    var name = button.getAttribute("data-check-all");
    var boxes = button.form.querySelectorAll('input[type=checkbox][name="' + name + '"]');
    var allChecked = Array.prototype.every.call(boxes, function (box) { return box.checked; });
    Array.prototype.forEach.call(boxes, function (box) { box.checked = !allChecked; });
  });
}());
