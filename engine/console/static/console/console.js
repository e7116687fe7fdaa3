// The console's own script (engine/console). htmx sends the session's form token with every
// request it makes, as the X-CSRF-Token header (engine/console/web.py checks it).
document.addEventListener("htmx:configRequest", function (event) {
  var token = document.body.getAttribute("data-csrf");
  if (token) {
    event.detail.headers["X-CSRF-Token"] = token;
  }
});
