// The listening screen ("soundbox" on the merchant's own phone): every payment to the
// merchant's stalls is chimed, spoken and listed, once, in order, whatever happens between.
//
// How nothing is lost or said twice: the phone keeps, in localStorage, a cursor (every payment
// with an id up to it was handed over), the newest id it has seen, when it last asked for
// the payments, and the ids it has already announced. Every CHECK_MS it asks the cheap
// question "anything I lack?" (changes: 204 / 200, answered from memory on the server), and
// for the payments themselves when the answer is yes, every SWEEP_MS anyway, and at once when
// it comes back (online, screen on). The server keeps the cursor some seconds behind the
// newest payment, so a late database commit is never stepped over; the payments above the
// cursor come again and the ids already announced are skipped. An id is saved as announced
// before it is said, so a reload mid-sentence never says it again. The server writes every
// number and sentence in the screen's language; this file only shows and says them.
(function () {
  "use strict";
  var root = document.getElementById("listen");
  if (!root) { return; }
  var CHECK_MS = 2000;
  var SWEEP_MS = 5 * 60000;
  var RETRY_MS = 3000;
  var HEARD_MAX = 300;
  // Where the server holds the question until there is news (a long poll), ask again at once.
  var WAIT_S = Number(root.dataset.wait) || 0;
  var SHOWN_MAX = 30;
  var storeKey = "cho40.listen." + root.dataset.merchant;
  var key = root.dataset.key;
  var list = document.getElementById("heard");
  var log = document.getElementById("said-log");
  var statusLine = document.getElementById("listen-status");
  var soundButton = document.getElementById("sound-on");
  var audio = null;
  var soundOn = false;
  var wakeLock = null;
  var timer = null;
  var busy = false;
  var lastSweep = 0;
  var inflight = null;  // the AbortController of the request on its way
  var again = false;

  // A request that never comes back (a dead connection after a network change) is given up
  // after ``seconds``; "online" and "screen on" give it up at once and ask again.
  function ask(url, options, seconds) {
    var controller = window.AbortController ? new AbortController() : null;
    inflight = controller;
    if (controller) { options.signal = controller.signal; }
    var limit = setTimeout(function () { if (controller) { controller.abort(); } }, seconds * 1000);
    return fetch(url, options).then(function (r) {
      clearTimeout(limit);
      return r;
    }, function (error) {
      clearTimeout(limit);
      throw error;
    });
  }

  function ids(text) {
    return (text || "").split(",").filter(Boolean).map(Number);
  }

  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(storeKey) || "null");
      if (saved && typeof saved.cursor === "number" && typeof saved.seen === "number" &&
          Array.isArray(saved.heard)) { return saved; }
    } catch (e) { /* private mode or a broken entry: start from the page */ }
    // First time on this phone: what the page shows is already there, not news.
    return {
      cursor: Number(root.dataset.cursor) || 0,
      seen: Number(root.dataset.seen) || 0,
      asked: Number(root.dataset.asked) || 0,
      heard: ids(root.dataset.heard)
    };
  }

  var state = load();
  var heard = {};
  state.heard.forEach(function (id) { heard[id] = true; });

  function save() {
    state.heard = state.heard.slice(-HEARD_MAX);
    try { window.localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* full */ }
  }
  save();

  function setStatus(kind, text) {
    statusLine.textContent = text;
    statusLine.classList.toggle("offline", kind === "offline");
    statusLine.classList.toggle("live", kind === "live");
  }

  function listening() {
    setStatus("live", soundOn ? root.dataset.textListening : root.dataset.textMuted);
  }

  // --- sound ---------------------------------------------------------------------------------

  function chime() {
    if (!audio) { return; }
    [988, 1319].forEach(function (freq, i) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.frequency.value = freq;
      var t = audio.currentTime + i * 0.2;
      gain.gain.setValueAtTime(0.3, t);
      gain.gain.exponentialRampToValueAtTime(0.01, t + 0.35);
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start(t);
      osc.stop(t + 0.36);
    });
  }

  function say(text) {
    if (!text || !window.speechSynthesis) { return; }
    var u = new SpeechSynthesisUtterance(text);
    var lang = (root.dataset.lang || "vi").slice(0, 2);
    u.lang = lang === "en" ? "en-US" : "vi-VN";
    var voices = window.speechSynthesis.getVoices() || [];
    for (var i = 0; i < voices.length; i++) {
      if ((voices[i].lang || "").toLowerCase().indexOf(lang) === 0) { u.voice = voices[i]; break; }
    }
    // Queued, not cancelled: three payments in a row are three sentences.
    window.speechSynthesis.speak(u);
  }

  function keepAwake() {
    if (!soundOn || !navigator.wakeLock || document.visibilityState !== "visible") { return; }
    if (wakeLock && !wakeLock.released) { return; }
    var shown = document.getElementById("awake");
    navigator.wakeLock.request("screen").then(function (lock) {
      wakeLock = lock;
      shown.hidden = false;
      // The browser lets go when the page is hidden; visibilitychange asks again.
      lock.addEventListener("release", function () { shown.hidden = true; });
    }).catch(function () { /* battery saver or not allowed: the screen may sleep */ });
  }

  // Browsers let a page make sound only after a tap.
  function enableSound() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (Ctx && !audio) { audio = new Ctx(); }
      if (audio && audio.state === "suspended") { audio.resume(); }
      if (window.speechSynthesis) {
        var warm = new SpeechSynthesisUtterance(" ");
        warm.volume = 0;
        window.speechSynthesis.speak(warm);
      }
    } catch (e) { /* no sound on this phone: the list still shows it */ }
    soundOn = true;
    soundButton.hidden = true;
    chime();
    keepAwake();
    listening();
  }
  soundButton.addEventListener("click", enableSound);

  // --- what the screen shows ----------------------------------------------------------------

  function show(payment, fresh) {
    var item = document.createElement("li");
    item.dataset.id = payment.id;
    if (fresh) { item.className = "fresh"; }
    var amount = document.createElement("span");
    amount.className = "heard-amount";
    amount.textContent = payment.amount_text + " \u20ab";
    var line = document.createElement("span");
    line.className = "heard-line";
    line.textContent = payment.label;
    item.appendChild(amount);
    item.appendChild(line);
    if (payment.payer_name) {
      var payer = document.createElement("span");
      payer.className = "heard-payer";
      payer.textContent = payment.payer_name;
      item.appendChild(payer);
    }
    list.insertBefore(item, list.firstChild);
    while (list.children.length > SHOWN_MAX) { list.removeChild(list.lastChild); }
    document.getElementById("heard-empty").hidden = true;
  }

  function announce(payment) {
    show(payment, true);
    var entry = document.createElement("li");
    entry.dataset.id = payment.id;
    entry.textContent = payment.speech;
    log.appendChild(entry);
    chime();
    say(payment.speech);
  }

  function take(data) {
    if (data.key) { key = data.key; }
    data.payments.forEach(function (payment) {
      if (heard[payment.id]) { return; }
      heard[payment.id] = true;
      state.heard.push(payment.id);
      save();  // saved before it is said: a reload now never says it twice
      if (payment.day === data.today) { announce(payment); } else { show(payment, false); }
    });
    if (data.cursor > state.cursor) { state.cursor = data.cursor; }
    if (data.seen > state.seen) { state.seen = data.seen; }
    state.asked = data.asked_at;
    save();
    document.getElementById("today-total").textContent = data.today_total_text;
    document.getElementById("today-count").textContent = data.today_count;
  }

  // --- asking the server ----------------------------------------------------------------------

  function offline() {
    setStatus("offline", root.dataset.textOffline);
  }

  function fetchPayments() {
    lastSweep = Date.now();
    var url = root.dataset.paymentsUrl + "?after=" + state.cursor;
    return ask(url, {
      headers: { Accept: "application/json" }, cache: "no-store",
      credentials: "same-origin", redirect: "manual"
    }, 30).then(function (r) {
      if (r.type === "opaqueredirect" || r.status === 401 || r.status === 403) {
        setStatus("offline", root.dataset.textLogin);
        return "login";
      }
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json().then(function (data) {
        take(data);
        listening();
        return data.more ? fetchPayments() : "ok";
      });
    });
  }

  function check() {
    if (Date.now() - lastSweep >= SWEEP_MS) { return fetchPayments(); }
    var url = root.dataset.changesUrl + "?seen=" + state.seen + "&asked=" + state.asked;
    if (WAIT_S > 0) { url += "&wait=" + WAIT_S; }
    return ask(url, {
      headers: { Accept: "application/json", "X-Listen-Key": key }, cache: "no-store",
      credentials: "same-origin"
    }, WAIT_S + 15).then(function (r) {
      if (r.status === 204) { listening(); return "ok"; }
      if (r.status === 200 || r.status === 403) { return fetchPayments(); }
      throw new Error("HTTP " + r.status);
    });
  }

  // One chain of questions at a time; "now" cuts the wait short (back online, screen on).
  function tick() {
    clearTimeout(timer);
    timer = null;
    if (busy) { return; }
    busy = true;
    var began = Date.now();
    check().then(function (result) {
      busy = false;
      // A long poll that was held comes back at once; anything quick waits as usual.
      var held = WAIT_S > 0 && Date.now() - began >= 1000;
      var next = result === "login" ? SWEEP_MS : (held ? 0 : CHECK_MS);
      timer = setTimeout(tick, next);
    }, function () {
      busy = false;
      if (!again) { offline(); }  // given up on purpose: not a network failure
      timer = setTimeout(tick, again ? 0 : RETRY_MS);
      again = false;
    });
  }

  // Back online or screen on: ask now, giving up a request that may hang on a dead link.
  function askNow() {
    if (busy && inflight) {
      again = true;
      inflight.abort();
    } else {
      tick();
    }
  }

  window.addEventListener("online", askNow);
  window.addEventListener("offline", offline);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { keepAwake(); askNow(); }
  });
  // Back from the browser's page cache (bfcache): timers may have been frozen.
  window.addEventListener("pageshow", function (event) { if (event.persisted) { askNow(); } });

  if ("serviceWorker" in navigator && root.dataset.workerUrl) {
    navigator.serviceWorker.register(root.dataset.workerUrl, { scope: root.dataset.scope })
      .catch(function () { /* still usable without it */ });
  }

  // A phone that was away first hears what it missed (its cursor is older than the page's).
  lastSweep = 0;
  tick();
}());
