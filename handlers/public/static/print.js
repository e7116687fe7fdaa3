// The sign board's "打印" button (no inline script: the CSP allows this site's files only).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
