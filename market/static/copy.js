// Copy buttons (pay page, collect screen). Without JavaScript, or where the phone refuses the
// clipboard, the value stays plain text that one tap selects (CSS user-select: all): the
// button selects it too and says so. The sentences are the page's own (data-done,
// data-failed), in the reader's language.
(function () {
  "use strict";
  function select(node) {
    if (node.select) { node.focus(); node.select(); return; }
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  function copy(button) {
    var node = document.getElementById(button.dataset.copy);
    var status = document.getElementById(button.dataset.copy + "-status");
    if (!node || !status) { return; }
    var text = (node.value !== undefined ? node.value : node.textContent).trim();
    var box = button.closest("[data-failed]");
    var others = document.querySelectorAll(".copy-status");
    for (var i = 0; i < others.length; i += 1) { others[i].textContent = ""; }
    function done() { status.textContent = button.dataset.done.replace("{value}", text); }
    function failed() {
      select(node);
      status.textContent = box ? box.dataset.failed : "";
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, failed);
    } else {
      failed();
    }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (button) { copy(button); }
  });
  var buttons = document.querySelectorAll("button[data-copy]");
  for (var i = 0; i < buttons.length; i += 1) { buttons[i].hidden = false; }
}());
