// Collect mode ("soundbox"): big keypad, the order's QR, and the money announced when it arrives.
// The server formats every number and sentence (status.json); this file only shows and says them.
(function () {
  "use strict";
  var POLL_MS = 2000;
  // Money can still arrive after the shopper has walked away (the server matches an order's
  // reference for two days): after half an hour ask less often, but never stop asking.
  var SLOW_AFTER_MS = 30 * 60 * 1000;
  var SLOW_POLL_MS = 15000;
  var form = document.getElementById("collect-form");
  var input = document.getElementById("amount");
  var keypad = document.getElementById("keypad");
  var panel = document.getElementById("order");
  var soundButton = document.getElementById("sound-on");
  var audio = null;
  var lastAnnounced = null;
  var pollTimer = null;
  var startedAt = 0;

  function digits(text) { return (text || "").replace(/\D/g, "").replace(/^0+/, ""); }
  // The reader's thousands separator ("." in Vietnamese, "," in English), from the page.
  function group(d) {
    var separator = (input && input.dataset.group) || ".";
    return d.replace(/\B(?=(\d{3})+(?!\d))/g, separator);
  }

  // Browsers let a page make sound only after a tap: each tap here unlocks it for later.
  function unlockAudio() {
    try {
      if (!audio) {
        var Ctx = window.AudioContext || window.webkitAudioContext;
        if (Ctx) { audio = new Ctx(); }
      }
      if (audio && audio.state === "suspended") { audio.resume(); }
      if (window.speechSynthesis) {
        var warm = new SpeechSynthesisUtterance(" ");
        warm.volume = 0;
        window.speechSynthesis.speak(warm);
      }
    } catch (e) { /* no sound on this phone: the colours still say it */ }
    if (soundButton) { soundButton.hidden = true; }
  }

  function beep(ok) {
    if (!audio) { return; }
    var tones = ok ? [880, 1320] : [330, 220];
    tones.forEach(function (freq, i) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.value = 0.25;
      osc.connect(gain);
      gain.connect(audio.destination);
      var t = audio.currentTime + i * 0.18;
      osc.start(t);
      osc.stop(t + 0.16);
    });
  }

  function say(text) {
    if (!text || !window.speechSynthesis) { return; }
    var u = new SpeechSynthesisUtterance(text);
    // The server wrote the sentence in the page's language: say it in that language's voice.
    var lang = (document.documentElement.lang || "vi").toLowerCase().slice(0, 2);
    u.lang = lang === "en" ? "en-US" : "vi-VN";
    var voices = window.speechSynthesis.getVoices() || [];
    for (var i = 0; i < voices.length; i++) {
      if ((voices[i].lang || "").toLowerCase().indexOf(lang) === 0) { u.voice = voices[i]; break; }
    }
    window.speechSynthesis.cancel();
    window.speechSynthesis.speak(u);
  }

  function show(status) {
    if (!panel) { return; }
    panel.hidden = false;
    panel.classList.remove("state-pending", "state-paid", "state-short");
    panel.classList.add("state-" + status.status);
    panel.dataset.statusUrl = status.status_url;
    var paid = status.status === "paid";
    // Paid: the QR goes away, so the next shopper cannot pay this order a second time.
    // Short: the server's qr_url asks for what is still missing, under the same reference.
    var img = document.getElementById("order-qr");
    var box = document.getElementById("order-qr-box");
    if (box) { box.hidden = paid; }
    if (img && !paid && img.getAttribute("src") !== status.qr_url) { img.src = status.qr_url; }
    if (img && paid) { img.removeAttribute("src"); }
    var done = document.getElementById("order-done");
    if (done) { done.hidden = !paid; }
    document.getElementById("order-shown-label").textContent = status.shown_label;
    document.getElementById("order-amount").textContent = status.shown_text;
    document.getElementById("order-ref").textContent = status.reference;
    document.getElementById("order-message").textContent = status.message;
    // The link to share follows what the QR asks for (the rest, after a short payment).
    var share = document.getElementById("order-share");
    if (share) {
      share.hidden = paid;
      var link = document.getElementById("share-link");
      if (link.textContent !== status.pay_url) {
        link.textContent = status.pay_url;
        document.getElementById("share-link-status").textContent = "";
      }
      document.getElementById("order-card").setAttribute("href", status.card_url);
    }
    if (paid && soundButton) { soundButton.hidden = true; }
    var key = status.status + ":" + status.received_amount;
    if (status.status !== "pending" && key !== lastAnnounced) {
      lastAnnounced = key;
      beep(paid);
      say(status.speech);
      // The next thing to do is a new sale: one tap, wherever the page was scrolled.
      var next = document.getElementById("order-new");
      if (paid && next) { next.focus(); }
    }
  }

  function poll() {
    pollTimer = null;  // null while a request is out: one chain of polls at a time
    var url = panel && panel.dataset.statusUrl;
    if (!url) { return; }
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (status) {
        if (status) { show(status); }
        if (status && status.status === "paid") { return; }
        var wait = Date.now() - startedAt < SLOW_AFTER_MS ? POLL_MS : SLOW_POLL_MS;
        pollTimer = setTimeout(poll, wait);
      })
      .catch(function () { pollTimer = setTimeout(poll, POLL_MS * 2); });
  }

  function startPolling(initial) {
    clearTimeout(pollTimer);
    startedAt = Date.now();
    // What the page already shows was announced before (or was never news).
    if (initial) { lastAnnounced = initial.status + ":" + initial.received_amount; }
    pollTimer = setTimeout(poll, POLL_MS);
  }

  // Phones slow down timers of a screen that is off or in the background: when the merchant
  // looks again, ask at once.
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && pollTimer !== null) { clearTimeout(pollTimer); poll(); }
  });

  if (keypad && input) {
    keypad.hidden = false;
    keypad.addEventListener("click", function (event) {
      var key = event.target.closest("[data-key]");
      if (!key) { return; }
      unlockAudio();
      var d = digits(input.value);
      if (key.dataset.key === "back") { d = d.slice(0, -1); } else { d = (d + key.dataset.key).replace(/^0+/, ""); }
      if (d.length > 9) { return; }
      input.value = group(d);
    });
  }

  if (form && input) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      unlockAudio();
      var error = document.getElementById("amount-js-err");
      var body = new FormData(form);
      fetch(window.location.pathname, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { Accept: "application/json" }
      })
        .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
        .then(function (res) {
          if (!res.ok) {
            var fields = (res.data.error && res.data.error.fields) || {};
            error.textContent = (fields.amount || [res.data.error && res.data.error.message]).join(" ");
            error.hidden = false;
            return;
          }
          error.hidden = true;
          form.hidden = true;
          show(res.data);
          startPolling(res.data);
          window.history.pushState({ order: res.data.order_url }, "", res.data.order_url);
        })
        .catch(function () { form.submit(); });
    });
  }

  // The phone's Back button after an order made here: show what the address now says (the
  // keypad again), not the old order under the keypad's address.
  // The phone's own share sheet (Zalo, Messenger, SMS) where the browser has one.
  var shareButton = document.getElementById("share-button");
  if (shareButton && navigator.share) {
    shareButton.hidden = false;
    shareButton.addEventListener("click", function () {
      var url = document.getElementById("share-link").textContent.trim();
      navigator.share({ title: shareButton.dataset.title, url: url }).catch(function () {});
    });
  }
  window.addEventListener("popstate", function () { window.location.reload(); });

  if (panel && panel.dataset.statusUrl && !form) {
    // Opened on the order page (a reload, or without the keypad): sound needs one tap first.
    if (soundButton) {
      soundButton.hidden = false;
      soundButton.addEventListener("click", unlockAudio);
    }
    startPolling({ status: panel.dataset.state, received_amount: Number(panel.dataset.received) });
  }
}());
