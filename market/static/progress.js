// Long work made visible. A form or a link marked data-progress="<message>" shows an
// indeterminate <progress> and says the message (a role=status live region) while the server
// works, and cannot be sent twice. A PDF link (data-progress-done="<message>") is fetched here
// so the indicator stays until the file has really arrived, then saved under the server's file
// name. Without JavaScript the forms and links work the same, only without the indicator.
(function () {
  "use strict";
  var counter = 0;
  var canSaveBlobs = !!(window.fetch && window.URL && URL.createObjectURL &&
                        "download" in document.createElement("a"));

  // The live region exists (empty) before anything is said in it, so screen readers announce it.
  function regionFor(el) {
    var anchor = el.closest(".actions, p") || el;
    if (el.tagName === "FORM") { anchor = el; }
    var next = anchor.nextElementSibling;
    if (next && next.classList.contains("progress-box")) { return next; }
    var box = document.createElement("div");
    box.className = "progress-box";
    box.setAttribute("role", "status");
    anchor.insertAdjacentElement("afterend", box);
    return box;
  }

  function show(box, message, busy) {
    counter += 1;
    var id = "progress-message-" + counter;
    var text = document.createElement("p");
    text.id = id;
    text.className = "progress-message";
    text.textContent = message;
    clear(box);
    box.appendChild(text);
    if (busy) {
      var bar = document.createElement("progress"); // no value: indeterminate
      bar.setAttribute("aria-labelledby", id);
      box.appendChild(bar);
    }
  }

  function clear(box) { while (box.firstChild) { box.removeChild(box.firstChild); } }

  function setBusy(el, busy) {
    if (busy) { el.setAttribute("aria-busy", "true"); } else { el.removeAttribute("aria-busy"); }
    if (el.tagName === "A") {
      if (busy) { el.setAttribute("aria-disabled", "true"); } else { el.removeAttribute("aria-disabled"); }
    }
    el.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]")
      .forEach(function (button) { button.disabled = busy; });
  }

  function fileName(response, fallback) {
    var header = response.headers.get("Content-Disposition") || "";
    var match = /filename="?([^";]+)"?/i.exec(header);
    return match ? match[1] : fallback;
  }

  function saveLink(link, box) {
    fetch(link.href, { credentials: "same-origin" }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      // An error page or a login page: let the browser show it.
      if (!response.ok || type.indexOf("application/pdf") !== 0) { throw new Error(type); }
      var name = fileName(response, link.pathname.split("/").pop());
      return response.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        var save = document.createElement("a");
        save.href = url;
        save.download = name;
        save.hidden = true;
        document.body.appendChild(save);
        save.click();
        save.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
        setBusy(link, false);
        show(box, link.dataset.progressDone + " " + name, false);
      });
    }).catch(function () {
      window.location.assign(link.href);
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-progress]")) { return; }
    if (form.getAttribute("aria-busy") === "true") { event.preventDefault(); return; }
    show(regionFor(form), form.dataset.progress, true);
    // Disabled only after the browser has taken the form's data.
    setTimeout(function () { setBusy(form, true); }, 0);
    form.setAttribute("aria-busy", "true");
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-progress]");
    if (!link || event.defaultPrevented || event.button !== 0 ||
        event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) { return; }
    if (link.getAttribute("aria-busy") === "true") { event.preventDefault(); return; }
    var box = regionFor(link);
    show(box, link.dataset.progress, true);
    setBusy(link, true);
    if (link.dataset.progressDone && canSaveBlobs) {
      event.preventDefault();
      saveLink(link, box);
    } else if (link.dataset.progressDone) {
      // The browser downloads the file itself and does not say when: free the link later.
      setTimeout(function () { setBusy(link, false); clear(box); }, 20000);
    }
  });

  // Back to a page kept in the browser's memory: it is no longer busy.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("[data-progress][aria-busy]").forEach(function (el) {
      setBusy(el, false);
      var box = regionFor(el);
      clear(box);
    });
  });
}());
