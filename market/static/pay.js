// Pay page enhancement: the QR, the amount to copy, the saved card and the bank app links
// follow the amount as it is typed (without JavaScript the form's GET submit does the same on
// the server), and the bank app list can be searched.
(function () {
  "use strict";
  var filter = document.getElementById("app-filter");
  var list = document.getElementById("app-list");
  // Lower case, no tone marks, đ as d: "vietin" finds "VietinBank", "nong nghiep" Agribank.
  function plain(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/gi, "d").toLowerCase();
  }
  if (filter && list) {
    var count = document.getElementById("app-count");
    filter.closest(".app-search").hidden = false;
    filter.addEventListener("input", function () {
      var words = plain(filter.value).split(/\s+/).filter(Boolean);
      var items = list.children;
      var shown = 0;
      for (var i = 0; i < items.length; i += 1) {
        var hay = plain(items[i].textContent + " " + items[i].firstChild.dataset.app);
        var match = words.every(function (w) { return hay.indexOf(w) !== -1; });
        items[i].hidden = !match;
        if (match) { shown += 1; }
      }
      count.textContent = shown ? "" : count.dataset.none;
    });
  }

  // The deeplink keeps "@" in ba= as the scheme asks, so am= is set by hand, not by URL().
  function withAmount(href, amount) {
    if (/[?&]am=\d*/.test(href)) { return href.replace(/([?&]am=)\d*/, "$1" + amount); }
    return href.replace(/(&ba=[^&]*)/, "$1&am=" + amount);
  }
  function follow(amount) {
    var row = document.getElementById("copy-amount-row");
    if (row) {
      document.getElementById("copy-amount").textContent = String(amount);
      document.getElementById("copy-amount-status").textContent = "";
      row.hidden = false;
    }
    var save = document.getElementById("save-card");
    if (save) {
      var card = new URL(save.getAttribute("href"), window.location.href);
      card.searchParams.set("amount", String(amount));
      save.setAttribute("href", card.pathname + card.search);
    }
    if (list) {
      var links = list.querySelectorAll("a[data-app]");
      for (var i = 0; i < links.length; i += 1) {
        links[i].setAttribute("href", withAmount(links[i].getAttribute("href"), amount));
      }
    }
  }

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
      follow(amount);
      var page = new URL(window.location.href);
      page.searchParams.set("amount", group(amount));
      window.history.replaceState(null, "", page.pathname + page.search);
    }, 500);
  });
}());
