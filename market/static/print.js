// Print buttons (data-print): a close of day on paper, without an inline script (the CSP
// allows scripts from 'self' only). Shown only when this script runs: without JavaScript
// the browser's own print menu still prints the page as laid out for paper.
"use strict";
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
