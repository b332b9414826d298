// A search box over the bank picker (payee form). Without JavaScript the plain <select> works
// as before; with it, typing "vietc", "VCB", "ngoai thuong" or a BIN keeps only the banks
// whose names (folded on the server into each option's data-search) contain what is typed,
// folded the same way: no diacritics, any case, no spaces. The list is ordered most used
// first, and the first match is chosen when the chosen bank no longer matches, so the select
// always shows the bank that will be saved. The sentences are the page's own (data-*).
(function () {
  "use strict";
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[\u0111\u0110\u00d0]/g, "d").toLowerCase().replace(/[^0-9a-z]/g, "");
  }
  function enhance(select) {
    var texts = select.form ? select.form.dataset : {};
    var options = Array.prototype.slice.call(select.options);
    var input = document.createElement("input");
    input.type = "search";
    input.id = select.id + "-search";
    input.className = "bank-search";
    input.autocomplete = "off";
    input.placeholder = texts.bankSearch || "";
    input.setAttribute("aria-label", texts.bankSearch || "");
    input.setAttribute("aria-controls", select.id);
    var status = document.createElement("p");
    status.className = "hint bank-search-status";
    status.id = select.id + "-search-status";
    status.setAttribute("aria-live", "polite");
    select.parentNode.insertBefore(input, select);
    select.parentNode.insertBefore(status, select);
    function filter() {
      var key = fold(input.value);
      var chosen = select.value;
      var matches = options.filter(function (option) {
        if (!option.value) { return !key; }
        return !key || (option.dataset.search || "").indexOf(key) !== -1;
      });
      select.textContent = "";
      matches.forEach(function (option) { select.appendChild(option); });
      var still = matches.some(function (option) { return option.value === chosen; });
      if (!still && matches.length) { select.value = matches[0].value; }
      if (!key) {
        status.textContent = "";
      } else if (matches.length) {
        status.textContent = (texts.bankFound || "{n}").replace("{n}", String(matches.length));
      } else {
        status.textContent = texts.bankNone || "";
      }
    }
    input.addEventListener("input", filter);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); select.focus(); }
    });
  }
  var pickers = document.querySelectorAll("select[data-bank-picker]");
  for (var i = 0; i < pickers.length; i += 1) { enhance(pickers[i]); }
}());
