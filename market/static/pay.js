// Pay page enhancement: the QR follows the amount as it is typed. Without JavaScript the
// form's GET submit does the same on the server.
(function () {
  "use strict";
  var input = document.getElementById("amount");
  var img = document.getElementById("pay-qr");
  var caption = document.getElementById("pay-caption");
  if (!input || !img || !img.dataset.base) { return; }
  var timer = null;
  var LIMIT = 500000000;

  function parse(text) {
    var t = text.trim().replace(/\s*(đ|₫|vnd|vnđ|d)$/i, "");
    if (/^\d+$/.test(t)) { return parseInt(t, 10); }
    var m = /^\d{1,3}([.,\s])\d{3}(\1\d{3})*$/.exec(t);
    return m ? parseInt(t.replace(/\D/g, ""), 10) : null;
  }
  // The reader's thousands separator ("." in Vietnamese, "," in English), from the page.
  var SEPARATOR = input.dataset.group || ".";
  function group(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, SEPARATOR); }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var amount = parse(input.value);
      if (amount === null || amount < 1 || amount > LIMIT) { return; }
      var url = new URL(img.dataset.base, window.location.href);
      url.searchParams.set("amount", String(amount));
      img.src = url.pathname + url.search;
      // The sentences are the page's own, in the reader's language (data-template, data-alt).
      var text = group(amount);
      if (caption && caption.dataset.template) {
        caption.textContent = caption.dataset.template.replace("{amount}", text);
      }
      if (img.dataset.alt) { img.alt = img.dataset.alt.replace("{amount}", text); }
      var page = new URL(window.location.href);
      page.searchParams.set("amount", group(amount));
      window.history.replaceState(null, "", page.pathname + page.search);
    }, 500);
  });
}());
