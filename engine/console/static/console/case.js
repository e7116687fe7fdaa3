// The case page (engine/console/templates/case): a form's submit button is disabled after the
// first click, so a double click sends one request (the server's idempotency key makes a
// resubmission harmless anyway).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.classList || !form.classList.contains("fire")) {
    return;
  }
  if (form.getAttribute("data-sent")) {
    event.preventDefault();
    return;
  }
  form.setAttribute("data-sent", "1");
  var buttons = form.querySelectorAll("button[type=submit]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].disabled = true;
    buttons[i].textContent = "提交中…";
  }
});
